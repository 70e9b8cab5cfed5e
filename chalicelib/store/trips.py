"""The trips table and the visits each trip implies (see infra/template.json for access patterns).

A trip is `pk = <person>`, `sk = <date>#<trip id>`; a numbered one (a flight, a train) also carries its
voyage (normalised number and date), the key of the `by_voyage` index an exposure pages through.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.exposures import Trip, voyage
from chalicelib.domain.transport import NUMBERED, Mode
from chalicelib.store import dynamo, visits
from chalicelib.store.held import Held, held
from chalicelib.store.pages import Key, KeyShape

KIND = "trips"
SORT_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}#trp_[0-9a-f]{12}")   # services/trips.py declare
VOYAGE_INDEX = "by_voyage"


@dataclass(frozen=True, slots=True)
class DeclaredTrip:
    person: str
    trip_id: str
    day: dt.date
    origin: str
    destination: str
    mode: Mode
    number: str | None
    seat: str | None
    carriage: int | None
    created_at: int
    expires_at: int

    @property
    def trip(self) -> Trip:
        return Trip(self.trip_id, self.day, self.mode, self.number, self.seat, self.carriage)


def _trip(item: dict[str, Any]) -> DeclaredTrip:
    carriage = item.get("carriage")
    return DeclaredTrip(item["pk"], item["trip_id"], dt.date.fromisoformat(item["date"]), item["from"], item["to"],
                        Mode(item["mode"]), item.get("number"), item.get("seat"),
                        None if carriage is None else int(carriage), int(item["created_at"]),
                        int(item.get("expires_at", 0)))


def _live(items: list[dict[str, Any]], now: int) -> list[DeclaredTrip]:
    return [_trip(i) for i in items if i.get("expires_at", now + 1) > now]


def declare(trip: DeclaredTrip, stays: list[visits.Stay]) -> None:
    """The trip and its stays (origin and destination) in one transaction."""
    item = {"pk": trip.person, "sk": f"{trip.day.isoformat()}#{trip.trip_id}", "trip_id": trip.trip_id,
            "date": trip.day.isoformat(), "from": trip.origin, "to": trip.destination, "mode": trip.mode.value,
            "number": trip.number, "seat": trip.seat, "carriage": trip.carriage, "created_at": trip.created_at,
            "expires_at": trip.expires_at}
    if trip.mode in NUMBERED and trip.number:
        item["voyage"] = voyage(trip.number, trip.day)
    dynamo.transact([dynamo.put_op(KIND, item, condition="attribute_not_exists(pk)")]
                    + [visits.put_op(stay) for stay in stays])


def pages(person: str) -> KeyShape:
    """The start keys a person's list of trips gives out."""
    return KeyShape("pk", person, {"sk": SORT_KEY})


def page(person: str, since_day: str, now: int, limit: int, start: Key | None
         ) -> tuple[list[DeclaredTrip], Key | None]:
    """One page of the person's trips since a day, newest first."""
    if start is not None and start["sk"] < since_day:
        # the window moved past the cursor since it was given: the rest of the list has aged out (and
        # DynamoDB refuses a start key outside the key condition)
        return [], None
    items, last = dynamo.query(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day},
                               forward=False, limit=limit, start=start)
    return _live(items, now), last


def recent(person: str, since_day: str, now: int) -> list[DeclaredTrip]:
    return _live(dynamo.query_all(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day}), now)


def passengers_page(voyage_key: str, limit: int, start: Key | None) -> tuple[list[DeclaredTrip], Key | None]:
    """One page of the trips on a voyage: (trips, where the next page starts, or None)."""
    items, last = dynamo.query(KIND, "voyage = :v", {":v": voyage_key}, index=VOYAGE_INDEX, limit=limit, start=start)
    return [_trip(i) for i in items], last


def held_of(person: str) -> list[Held]:
    return [held("trips", i, "created_at") for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]


def erase_ops(person: str) -> list[dict[str, Any]]:
    """The Deletes of every item of the person in this table (an erasure)."""
    return [dynamo.delete_op(KIND, {"pk": i["pk"], "sk": i["sk"]})
            for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]
