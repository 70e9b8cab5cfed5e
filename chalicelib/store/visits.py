"""The visits table: who stayed where on which day, from trips and check-ins."""
from __future__ import annotations

import zlib
from concurrent.futures import ThreadPoolExecutor
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


def people_in(city: str, since_day: str, area: str | None = None) -> set[str]:
    """Everyone who stayed in a prefecture (or one county of it) since a day: one query per shard."""
    options: dict[str, Any] = {"index": CITY_INDEX}
    values: dict[str, Any] = {":since": since_day}
    if area is not None:
        options["filter_expression"] = "area = :a"
        values[":a"] = area

    def shard(n: int) -> set[str]:
        found = dynamo.query_all(KIND, "city_shard = :c AND day_person >= :since",
                                 {**values, ":c": f"{city}#{n}"}, **options)
        return {i["pk"] for i in found}

    with ThreadPoolExecutor(max_workers=8) as pool:
        return set().union(*pool.map(shard, range(CITY_SHARDS)))
