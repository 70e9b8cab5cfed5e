"""The people table: one item per person, keyed by the opaque code id their QR tokens name."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.domain.corrections import Override
from chalicelib.domain.stays import SOURCE as AREA, StayFacts
from chalicelib.store import dynamo

KIND = "people"
DUE_INDEX = "due"
FACT_FIELDS = ("stays", "fever_until", "area_overrides")


def stay_facts(record: dict[str, Any]) -> StayFacts:
    """What the record carries for reads to judge its stays against today's levels (domain/stays.py)."""
    overrides = tuple(Override(o["correction_id"], AREA, o.get("code"), int(o["approved_at"]), int(o["until"]), None,
                               o.get("ref")) for o in record.get("area_overrides") or ())
    fever = record.get("fever_until")
    return StayFacts(record.get("stays") or "", None if fever is None else int(fever), overrides)


def fact_fields(facts: StayFacts) -> dict[str, Any]:
    """The record's attributes for `facts` (None drops one)."""
    return {"stays": facts.stays or None, "fever_until": facts.fever_until,
            "area_overrides": [{"correction_id": o.correction_id, "code": o.code, "approved_at": o.approved_at,
                                "until": o.until, "ref": o.ref} for o in facts.overrides] or None}


def get(code_id: str, consistent: bool = False) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": code_id}, consistent=consistent)


def many(code_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Codes by id, strongly consistent, 100 per BatchGetItem (ids without a code are left out)."""
    items = dynamo.batch_get(KIND, [{"pk": c} for c in sorted(set(code_ids))], consistent=True)
    return {item["pk"]: item for item in items}


def save(record: dict[str, Any], expected_version: int | None, event_ops: Sequence[dict[str, Any]] = ()) -> None:
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
