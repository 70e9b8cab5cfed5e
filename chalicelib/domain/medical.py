"""A person's medical status, set by health authorities, and the color it imposes."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from chalicelib.domain.colors import Color, Reason


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


def medical_reasons(status: MedicalStatus | None, since: int, until: int | None = None) -> list[Reason]:
    """Red or yellow until a later status (recovered, cleared) lifts it, or the record's validity ends."""
    if status is None or status not in _RULES:
        return []
    color, zh, en = _RULES[status]
    return [Reason("medical_status", f"medical_{status.value}", color, zh, en, since, until)]


@dataclass(frozen=True)
class StatusEntry:
    """A status from the national health authority or a province's medical review institution."""
    status: MedicalStatus
    at: int
    valid_until: int | None = None
    source: str = "national"


def effective_status(entries: Iterable[StatusEntry], now: int) -> StatusEntry | None:
    """The most recent live entry decides: a later 'recovered' lifts an earlier 'confirmed'."""
    live = [e for e in entries if e.at <= now and (e.valid_until is None or now < e.valid_until)]
    return max(live, key=lambda e: e.at, default=None)
