"""The visits table: who stayed where on which day, from trips and check-ins.

A stay is `pk = <person>`, `sk = <day>#<source>#<ref>` (a trip's two ends, a day's check-in: one each, so
a second check-in that day replaces the first's stay), and for the `by_city_shard` index its prefecture's
shard and `<day>#<person>`.
"""
from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.areas import Visit
from chalicelib.store import dynamo
from chalicelib.store.held import Held, held
from chalicelib.store.pages import Key

KIND = "visits"
CITY_INDEX = "by_city_shard"
# A big city's stays under one partition key would all land on one partition of the index (at national
# scale, millions of check-ins a day in Guangzhou alone); each person's stays go to one of CITY_SHARDS
# keys instead, and a city's fan-out reads them all.
CITY_SHARDS = 16


@dataclass(frozen=True, slots=True)
class Stay:
    person: str
    day: dt.date
    area: str
    source: str          # trip | checkin
    ref: str             # which one: a trip's `<trip id>#from` or `#to`, a check-in's `day`
    created_at: int
    expires_at: int

    @property
    def visit(self) -> Visit:
        return Visit(self.day, self.area, self.source)


def city_shard(city: str, person: str) -> str:
    return f"{city}#{zlib.crc32(person.encode()) % CITY_SHARDS}"


def put_op(stay: Stay) -> dict[str, Any]:
    """The Put of a stay, for the transaction of the trip or check-in it comes from."""
    day, city = stay.day.isoformat(), stay.area[:4] + "00"
    return dynamo.put_op(KIND, {"pk": stay.person, "sk": f"{day}#{stay.source}#{stay.ref}", "day": day,
                                "area": stay.area, "city": city, "day_person": f"{day}#{stay.person}",
                                "source": stay.source, "expires_at": stay.expires_at, "created_at": stay.created_at,
                                "city_shard": city_shard(city, stay.person)})


def recent(person: str, since_day: str, now: int) -> list[Stay]:
    items = dynamo.query_all(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day})
    return [Stay(i["pk"], dt.date.fromisoformat(i["day"]), i["area"], i["source"], i["sk"].split("#", 2)[-1],
                 int(i.get("created_at", 0)), int(i.get("expires_at", 0)))
            for i in items if i.get("expires_at", now + 1) > now]


def people_page(city: str, shard: int, since_day: str, area: str | None, limit: int,
                start: Key | None) -> tuple[set[str], Key | None]:
    """One page of the people who stayed in a prefecture (or one county of it) since a day, from one of its
    CITY_SHARDS index keys: (people, where the next page starts, or None)."""
    options: dict[str, Any] = {"index": CITY_INDEX, "limit": limit, "start": start}
    values: dict[str, Any] = {":c": f"{city}#{shard}", ":since": since_day}
    if area is not None:
        options["filter_expression"] = "area = :a"
        values[":a"] = area
    items, last = dynamo.query(KIND, "city_shard = :c AND day_person >= :since", values, **options)
    return {i["pk"] for i in items}, last


def held_of(person: str) -> list[Held]:
    return [held("stays", i, "created_at") for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]


def erase_ops(person: str) -> list[dict[str, Any]]:
    """The Deletes of every item of the person in this table (an erasure)."""
    return [dynamo.delete_op(KIND, {"pk": i["pk"], "sk": i["sk"]})
            for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]


def refs_of(person: str, source: str) -> list[str]:
    """The `ref`s of every stay of the person from one source, expired or not (an erasure follows them)."""
    items = dynamo.query_all(KIND, "pk = :p", {":p": person})
    return [i["sk"].split("#", 2)[-1] for i in items if i.get("source") == source]
