"""The corrections table: correction requests, and each person's open count and approved overrides."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import identifiers
from chalicelib.store import dynamo

KIND = "corrections"
ID = identifiers.CORRECTION_ID
QUEUE_SORT = re.compile(r"[0-9]{10}#cor_[0-9a-f]{16}")   # <filed at>#<id>: both indexes' sort key
QUEUE_INDEX = "queue"
PERSON_INDEX = "by_person"


def state_key(person: str) -> dict[str, str]:
    return {"pk": f"person#{person}"}


def get(correction_id: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": correction_id}, consistent=True)


def state(person: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, state_key(person), consistent=True)


def file(correction: dict[str, Any], max_open: int) -> None:
    """The request and the person's open count, together; ConditionFailed if `max_open` are open already."""
    dynamo.transact([
        dynamo.put_op(KIND, correction, condition="attribute_not_exists(pk)"),
        dynamo.update_op(KIND, state_key(correction["person"]), "SET #o = if_not_exists(#o, :zero) + :one",
                         {":zero": 0, ":one": 1, ":max": max_open},
                         condition="attribute_not_exists(#o) OR #o < :max", names={"#o": "open"}),
    ])


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


def queue(province: str, status: str, limit: int, start: dict[str, Any] | None
          ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    return dynamo.query(KIND, "queue_key = :q", {":q": f"{province}#{status}"}, index=QUEUE_INDEX,
                        limit=limit, start=start)


def of_person(person: str, limit: int, start: dict[str, Any] | None = None
              ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    return dynamo.query(KIND, "person = :p", {":p": person}, index=PERSON_INDEX, forward=False, limit=limit,
                        start=start)
