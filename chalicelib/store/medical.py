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


RECORD_PREFIX = "R#"


def records_of(person: str) -> list[dict[str, Any]]:
    """Provinces' health records about a person."""
    return dynamo.query_all(KIND, "pk = :p AND begins_with(sk, :r)", {":p": person, ":r": RECORD_PREFIX})


def record_versions(keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found = dynamo.batch_get(KIND, [{"pk": person, "sk": sk} for person, sk in keys])
    return {(i["pk"], i["sk"]): int(i["version"]) for i in found}


def write_records(records: list[dict[str, Any]], event_op: dict[str, Any]) -> None:
    ops = [dynamo.put_op(KIND, r, condition="attribute_not_exists(pk) OR version < :v", values={":v": r["version"]})
           for r in records]
    dynamo.transact([*ops, event_op])
