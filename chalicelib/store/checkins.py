"""The check-ins table: one daily health check-in per person per day (`pk = <person>`, `sk = <day>`)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib.domain.risk import CheckIn
from chalicelib.store import dynamo, visits
from chalicelib.store.held import Held, held

KIND = "checkins"


def record(person: str, checkin: CheckIn, stay: visits.Stay, expires_at: int) -> None:
    """The day's check-in replaces an earlier one that day, with its stay, in one transaction."""
    item = {"pk": person, "sk": checkin.day.isoformat(), "area": checkin.area, "temperature": checkin.temperature,
            "symptoms": list(checkin.symptoms), "at": checkin.at, "expires_at": expires_at}
    dynamo.transact([dynamo.put_op(KIND, item), visits.put_op(stay)])


def recent(person: str, since_day: str, now: int) -> list[CheckIn]:
    items = dynamo.query_all(KIND, "pk = :p AND sk >= :since", {":p": person, ":since": since_day})
    return [CheckIn(dt.date.fromisoformat(i["sk"]), i["area"], float(i["temperature"]), tuple(i.get("symptoms", [])),
                    int(i["at"])) for i in items if i.get("expires_at", now + 1) > now]


def held_of(person: str) -> list[Held]:
    return [held("checkins", i, "at") for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]


def erase_ops(person: str) -> list[dict[str, Any]]:
    """The Deletes of every item of the person in this table (an erasure)."""
    return [dynamo.delete_op(KIND, {"pk": i["pk"], "sk": i["sk"]})
            for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]
