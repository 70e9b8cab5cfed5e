"""The visits table: who stayed where on which day, from trips and check-ins."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "visits"
CITY_INDEX = "by_city"


def put_op(stay: dict[str, Any]) -> dict[str, Any]:
    return dynamo.put_op(KIND, stay)


def recent(person: str, since_day: str, now: int) -> list[dict[str, Any]]:
    items = dynamo.query_all(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day})
    return [i for i in items if i.get("expires_at", now + 1) > now]


def people_in(city: str, since_day: str, area: str | None = None) -> set[str]:
    """Everyone who stayed in a prefecture (or one county of it) since a day."""
    options: dict[str, Any] = {"index": CITY_INDEX}
    values: dict[str, Any] = {":c": city, ":since": since_day}
    if area is not None:
        options["filter_expression"] = "area = :a"
        values[":a"] = area
    return {i["pk"] for i in dynamo.query_all(KIND, "city = :c AND day_person >= :since", values, **options)}
