"""The trips table and the visits each trip implies (see infra/template.json for access patterns)."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.store import dynamo, visits

KIND = "trips"
SORT_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}#trp_[0-9a-f]{12}")   # services/trips.py declare
VOYAGE_INDEX = "by_voyage"


def declare(trip: dict[str, Any], stays: list[dict[str, Any]]) -> None:
    """The trip and its stays (origin and destination) in one transaction."""
    dynamo.transact([dynamo.put_op(KIND, trip, condition="attribute_not_exists(pk)")]
                    + [visits.put_op(stay) for stay in stays])


def page(person: str, since_day: str, now: int, limit: int,
         start: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    items, last = dynamo.query(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day},
                               forward=False, limit=limit, start=start)
    return [i for i in items if i.get("expires_at", now + 1) > now], last


def recent(person: str, since_day: str, now: int) -> list[dict[str, Any]]:
    items = dynamo.query_all(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day})
    return [i for i in items if i.get("expires_at", now + 1) > now]


def passengers(voyage: str) -> list[dict[str, Any]]:
    return dynamo.query_all(KIND, "voyage = :v", {":v": voyage}, index=VOYAGE_INDEX)


def passengers_page(voyage: str, limit: int, start: dict[str, Any] | None
                    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of the trips on a voyage: (trips, where the next page starts, or None)."""
    return dynamo.query(KIND, "voyage = :v", {":v": voyage}, index=VOYAGE_INDEX, limit=limit, start=start)
