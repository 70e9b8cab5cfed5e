"""The visits table: who stayed where on which day, from trips and check-ins."""
from __future__ import annotations

import zlib
from typing import Any

from chalicelib.store import dynamo

KIND = "visits"
CITY_INDEX = "by_city_shard"
# A big city's stays under one partition key would all land on one partition of the index (at national
# scale, millions of check-ins a day in Guangzhou alone); each person's stays go to one of CITY_SHARDS
# keys instead, and a city's fan-out reads them all.
CITY_SHARDS = 16


def city_shard(city: str, person: str) -> str:
    return f"{city}#{zlib.crc32(person.encode()) % CITY_SHARDS}"


def put_op(stay: dict[str, Any]) -> dict[str, Any]:
    return dynamo.put_op(KIND, {**stay, "city_shard": city_shard(stay["city"], stay["pk"])})


def recent(person: str, since_day: str, now: int) -> list[dict[str, Any]]:
    items = dynamo.query_all(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day})
    return [i for i in items if i.get("expires_at", now + 1) > now]


def people_page(city: str, shard: int, since_day: str, area: str | None, limit: int,
                start: dict[str, Any] | None) -> tuple[set[str], dict[str, Any] | None]:
    """One page of the people who stayed in a prefecture (or one county of it) since a day, from one of its
    CITY_SHARDS index keys: (people, where the next page starts, or None)."""
    options: dict[str, Any] = {"index": CITY_INDEX, "limit": limit, "start": start}
    values: dict[str, Any] = {":c": f"{city}#{shard}", ":since": since_day}
    if area is not None:
        options["filter_expression"] = "area = :a"
        values[":a"] = area
    items, last = dynamo.query(KIND, "city_shard = :c AND day_person >= :since", values, **options)
    return {i["pk"] for i in items}, last
