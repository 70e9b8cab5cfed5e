"""The corrections table: correction requests, and each person's open count and approved overrides."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import identifiers
from chalicelib.store import dynamo
from chalicelib.store.pages import KeyShape

KIND = "corrections"
ID = identifiers.CORRECTION_ID
QUEUE_SORT = re.compile(r"[0-9]{10}#cor_[0-9a-f]{16}")   # <filed at>#<id>: both indexes' sort key
QUEUE_INDEX = "queue"
PERSON_INDEX = "by_person"


class AlreadyOpen(dynamo.ConditionFailed):
    """The person has a pending request for this reason already: `correction_id`."""

    def __init__(self, correction_id: str):
        super().__init__(correction_id)
        self.correction_id = correction_id


class TooManyOpen(Exception):
    """The person has the most open requests allowed."""


def state_key(person: str) -> dict[str, str]:
    return {"pk": f"person#{person}"}


def open_key(person: str, source: str, reason_code: str, ref: str | None) -> dict[str, str]:
    """The one item that exists while a person's request about one reason is pending: filings of the same
    reason race for it in their transactions, so only one of them creates a request. A reason is its
    source, code and `ref` (what it is about): the same code about two areas is two reasons."""
    return {"pk": f"open#{person}#{source}#{reason_code}" + (f"#{ref}" if ref else "")}


def person_pages(person: str) -> KeyShape:
    """The start keys a person's list of requests gives out (of the `by_person` index)."""
    return KeyShape("person", person, {"pk": ID, "queue_sort": QUEUE_SORT})


def queue_pages(province: str, status: str) -> KeyShape:
    """The start keys a reviewer's queue gives out (of the `queue` index)."""
    return KeyShape("queue_key", f"{province}#{status}", {"pk": ID, "queue_sort": QUEUE_SORT})


def get(correction_id: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": correction_id}, consistent=True)


def state(person: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, state_key(person), consistent=True)


def file(correction: dict[str, Any], max_open: int) -> None:
    """The request, its reason's open marker and the person's open count, all or nothing. AlreadyOpen if a
    request about the same reason is pending (however close the two filings came), TooManyOpen if
    `max_open` are open already, ConditionFailed if the id was taken."""
    marker = open_key(correction["person"], correction["source"], correction["reason_code"], correction.get("ref"))
    try:
        dynamo.transact([
            dynamo.put_op(KIND, {**correction, "open_marker": True}, condition="attribute_not_exists(pk)"),
            dynamo.put_op(KIND, {**marker, "correction_id": correction["pk"]}, condition="attribute_not_exists(pk)",
                          return_old=True),
            dynamo.update_op(KIND, state_key(correction["person"]), "SET #o = if_not_exists(#o, :zero) + :one",
                             {":zero": 0, ":one": 1, ":max": max_open},
                             condition="attribute_not_exists(#o) OR #o < :max", names={"#o": "open"}),
        ])
    except dynamo.ConditionFailed as failed:
        if 1 in failed.failed:
            raise AlreadyOpen((failed.failed[1] or {}).get("correction_id", "")) from None
        if 2 in failed.failed:
            raise TooManyOpen() from None
        raise


def decide(correction_id: str, person: str, decision: dict[str, Any], override: dict[str, Any] | None,
           extra_ops: list[dict[str, Any]]) -> None:
    """Record one decision: ConditionFailed if the request was decided already (by another reviewer)."""
    fields = ", ".join(f"#{k} = :{k}" for k in decision)
    values = {f":{k}": v for k, v in decision.items()}
    values[":pending"] = "pending"
    names = {f"#{k}": k for k in decision}
    state_update = "SET #o = #o - :one"
    state_values: dict[str, Any] = {":one": 1}
    if override is not None:
        state_update += ", overrides = list_append(if_not_exists(overrides, :none), :new)"
        state_values.update({":none": [], ":new": [override]})
    dynamo.transact([
        dynamo.update_op(KIND, {"pk": correction_id}, f"SET {fields}", values,
                         condition="#status = :pending", names=names),
        dynamo.update_op(KIND, state_key(person), state_update, state_values, names={"#o": "open"}),
        *extra_ops,
    ])


def close_ops(correction: dict[str, Any]) -> list[dict[str, Any]]:
    """What a decision removes with it: the request's open marker, if it was filed with one (requests filed
    before markers existed have none), so the reason can be filed again."""
    if not correction.get("open_marker"):
        return []
    marker = open_key(correction["person"], correction["source"], correction["reason_code"], correction.get("ref"))
    return [dynamo.delete_op(KIND, marker, condition="correction_id = :id", values={":id": correction["pk"]})]


def queue(province: str, status: str, limit: int, start: dict[str, Any] | None
          ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    return dynamo.query(KIND, "queue_key = :q", {":q": f"{province}#{status}"}, index=QUEUE_INDEX,
                        limit=limit, start=start)


def of_person(person: str, limit: int, start: dict[str, Any] | None = None
              ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    return dynamo.query(KIND, "person = :p", {":p": person}, index=PERSON_INDEX, forward=False, limit=limit,
                        start=start)
