"""How long each kind of personal data is kept: the moment its DynamoDB TTL attribute (`expires_at`) names.

docs/retention.md is the schedule these numbers implement, table by table, with their grounds: GB/T
35273-2020 keeps personal information no longer than its purpose needs (6.1 b, 8.3), and the purposes
here are the rules' own windows. Every function is pure: a store computes the moment from the record it
writes, so the TTL is set on every write and cannot be forgotten by a caller.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.colors import Reason

DAY = 86400
# after its last activity (an assessment, a scan), a code is kept as long as a scan row is (30 days, settings'
# scan_retention_days): the 14-day stay window plus a margin for a late exposure to still find the person
CODE_DAYS = 30
# a reason with no end (a medical status until lifted, a local code without a validity) holds the code this
# long after the code's last write; its source lapses on the same period (MEDICAL_DAYS), so they end together
OPEN_ENDED_DAYS = 180
# medical statuses, their history and provinces' health records: 180 days after their last write, or 30 days
# after a record's validity ends if that is later. One period for every issuer's status, so that a lifting
# status (recovered, cleared) never lapses before the status it lifts
MEDICAL_DAYS = 180
# a province's local code and its alias: 30 days after the last sync, or after its validity if later
LOCAL_CODE_DAYS = 30
# correction requests, their open markers and the person's count: 90 days after the last write; an
# approval lifts a reason at most 30 days (api/corrections.py), so the state outlives every lift it records
CORRECTION_DAYS = 90
# the audit trail (history, access log, review decisions): 180 days, services/access_log.py's period
AUDIT_DAYS = 180


def code_hold(reasons: Iterable[Reason], written_at: int) -> int | None:
    """How long a code's reasons need it: 30 days past the last reason's end, OPEN_ENDED_DAYS past the
    write for a reason without an end; None without reasons."""
    ends = [r.until for r in reasons]
    if not ends:
        return None
    if any(end is None for end in ends):
        return written_at + OPEN_ENDED_DAYS * DAY
    return max(end for end in ends if end is not None) + CODE_DAYS * DAY


def code_expires(written_at: int, last_activity: int, reasons: Iterable[Reason]) -> tuple[int, int | None]:
    """(expires_at, held_until) of a code item as it is written.

    `held_until` is set only when the reasons need the code past the activity rule: a scan, which cannot read
    before it writes, sets `expires_at = if_not_exists(held_until, <scan + 30 days>)` (store/people.py)."""
    active = max(written_at, last_activity) + CODE_DAYS * DAY
    hold = code_hold(reasons, written_at)
    if hold is None or hold <= active:
        return active, None
    return hold, hold


def scan_extends(scanned_at: int) -> int:
    """A code's expiry after a scan (unless held longer)."""
    return scanned_at + CODE_DAYS * DAY


def medical_expires(written_at: int, valid_until: int | None = None) -> int:
    return max(written_at + MEDICAL_DAYS * DAY, (valid_until or 0) + CODE_DAYS * DAY)


def local_code_expires(synced_at: int, valid_until: int | None) -> int:
    return max(synced_at, valid_until or 0) + LOCAL_CODE_DAYS * DAY


def correction_expires(written_at: int, lifted_until: int | None = None) -> int:
    return max(written_at + CORRECTION_DAYS * DAY, (lifted_until or 0) + CODE_DAYS * DAY)


def audit_expires(at: int) -> int:
    return at + AUDIT_DAYS * DAY


def latest(item: Mapping[str, Any], *names: str) -> int | None:
    """The latest of an item's own moments among the attributes `names`: where a backfill of `expires_at` (for items
    written before it was set on them) starts the item's period, as its writes would have."""
    moments = [int(item[name]) for name in names if item.get(name) is not None]
    return max(moments) if moments else None
