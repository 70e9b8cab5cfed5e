"""A person's medical status, set by health authorities, and the color it imposes."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from chalicelib.domain.colors import Color, Reason

# A temperature at or above this is a fever: a declared one (domain/declaration.py) and one a checkpoint measures.
# Here, not beside the declaration's pydantic model, so that a verification does not import that model.
FEVER_CELSIUS = 37.3


class MedicalStatus(str, Enum):
    CONFIRMED = "confirmed"
    SUSPECTED = "suspected"
    CLOSE_CONTACT = "close_contact"
    UNDER_OBSERVATION = "under_observation"
    RECOVERED = "recovered"
    CLEARED = "cleared"


_RULES: dict[MedicalStatus, tuple[Color, str, str]] = {
    MedicalStatus.CONFIRMED: (Color.RED, "卫生健康部门确认为确诊病例", "Confirmed case (health authority)"),
    MedicalStatus.SUSPECTED: (Color.RED, "卫生健康部门确认为疑似病例", "Suspected case (health authority)"),
    MedicalStatus.CLOSE_CONTACT: (Color.RED, "卫生健康部门确认为密切接触者", "Close contact (health authority)"),
    MedicalStatus.UNDER_OBSERVATION: (Color.YELLOW, "正在接受医学观察", "Under medical observation"),
}


def medical_reasons(status: MedicalStatus | None, since: int, until: int | None = None,
                    issuer: str | None = None) -> list[Reason]:
    """Red or yellow until a later status (recovered, cleared) lifts it, or the record's validity ends."""
    if status is None or status not in _RULES:
        return []
    color, zh, en = _RULES[status]
    return [Reason("medical_status", f"medical_{status.value}", color, zh, en, since, until, issuer)]


NATIONAL = "national"          # the issuer of a status set by a national-level health authority
LIFTING = frozenset({MedicalStatus.RECOVERED, MedicalStatus.CLEARED})
# among live statuses of several issuers, the most severe holds: red before yellow, and among the reds a
# confirmed case before a suspected one before a close contact
_SEVERITY = {MedicalStatus.CONFIRMED: 4, MedicalStatus.SUSPECTED: 3, MedicalStatus.CLOSE_CONTACT: 2,
             MedicalStatus.UNDER_OBSERVATION: 1, MedicalStatus.RECOVERED: 0, MedicalStatus.CLEARED: 0}


@dataclass(frozen=True)
class StatusEntry:
    """A status from a health authority or a province's medical review institution, by its issuer: the
    two-digit province whose authority or institution set it, or NATIONAL."""
    status: MedicalStatus
    at: int
    valid_until: int | None = None
    source: str = NATIONAL


def effective_status(entries: Iterable[StatusEntry], now: int) -> StatusEntry | None:
    """The status that holds: each issuer's latest live entry is its word (its 'recovered' lifts its own
    'confirmed', never another's); a national 'recovered' or 'cleared' lifts every issuer's earlier entry;
    of the rest, the most severe holds, the latest among equals."""
    live = sorted((e for e in entries if e.at <= now and (e.valid_until is None or now < e.valid_until)),
                  key=lambda e: e.at)
    latest = {e.source: e for e in live}           # sorted by time: each issuer's last entry stays
    national = latest.get(NATIONAL)
    if national is not None and national.status in LIFTING:
        latest = {issuer: e for issuer, e in latest.items() if issuer == NATIONAL or e.at > national.at}
    return max(latest.values(), key=lambda e: (_SEVERITY[e.status], e.at), default=None)
