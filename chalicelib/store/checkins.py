"""The check-ins table: one daily health check-in per person per day."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo, visits

KIND = "checkins"


def record(checkin: dict[str, Any], stay: dict[str, Any]) -> None:
    """The day's check-in replaces an earlier one that day, with its stay, in one transaction."""
    dynamo.transact([dynamo.put_op(KIND, checkin), visits.put_op(stay)])


def recent(person: str, since_day: str, now: int) -> list[dict[str, Any]]:
    items = dynamo.query_all(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day})
    return [i for i in items if i.get("expires_at", now + 1) > now]
