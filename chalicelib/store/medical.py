"""The medical table: a person's current medical status and its insert-only history."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "medical"
CURRENT = "CURRENT"


def current(person: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": person, "sk": CURRENT}, consistent=True)


def set_status(record: dict[str, Any], history: dict[str, Any], expected_version: int | None,
               event_op: dict[str, Any]) -> None:
    """CURRENT, the history entry and the event, all or nothing."""
    if expected_version is None:
        put = dynamo.put_op(KIND, record, condition="attribute_not_exists(pk)")
    else:
        put = dynamo.put_op(KIND, record, condition="version = :v", values={":v": expected_version})
    dynamo.transact([put, dynamo.put_op(KIND, history, condition="attribute_not_exists(pk)"), event_op])
