"""The people table: one item per person, keyed by the opaque code id their QR tokens name."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "people"
DUE_INDEX = "due"


def get(code_id: str, consistent: bool = False) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": code_id}, consistent=consistent)


def save(record: dict[str, Any], expected_version: int | None, event_ops: list[dict[str, Any]] = ()) -> None:
    """Write a version: the first one only if none exists, a later one only if nobody wrote since we read.

    Events about the change go in the same transaction. ConditionFailed when we lost the race.
    """
    if expected_version is None:
        put = dynamo.put_op(KIND, record, condition="attribute_not_exists(pk)")
    else:
        put = dynamo.put_op(KIND, record, condition="version = :expected", values={":expected": expected_version})
    if event_ops:
        dynamo.transact([put, *event_ops])
    else:
        request = put["Put"]
        dynamo.put(KIND, record, condition=request["ConditionExpression"],
                   values={":expected": expected_version} if expected_version is not None else None)


def record_scan(code_id: str, scan: dict[str, Any]) -> dict[str, Any] | None:
    """Note a scan on the code and read it back, in one round trip; None if there is no such code.

    The scans table gets the row from this table's stream (events/handlers.on_people_records).
    """
    try:
        return dynamo.update(KIND, {"pk": code_id}, "SET last_scan = :scan", {":scan": scan},
                             condition="attribute_exists(pk)", hot=True)
    except dynamo.ConditionFailed:
        return None


def reschedule(code_id: str, version: int, due_fields: dict[str, Any]) -> None:
    """Move (or clear) the next moment a code must be re-assessed, without a new version."""
    if due_fields:
        dynamo.update(KIND, {"pk": code_id}, "SET due_day = :d, due_at = :a",
                      {":d": due_fields["due_day"], ":a": due_fields["due_at"], ":v": version},
                      condition="version = :v")
    else:
        dynamo.update(KIND, {"pk": code_id}, "REMOVE due_day, due_at", {":v": version}, condition="version = :v")


def due(day_shard: str, now: int) -> list[str]:
    """Code ids whose next reason change is due by now, in one day shard of the `due` index."""
    items = dynamo.query_all(KIND, "due_day = :d AND due_at <= :now", {":d": day_shard, ":now": now},
                             index=DUE_INDEX)
    return [i["pk"] for i in items]
