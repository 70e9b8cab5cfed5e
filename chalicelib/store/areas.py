"""The areas table: each area's risk level periods, written with their event in one transaction."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "areas"


def get(code: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": code}, consistent=True)


def many(codes: list[str]) -> dict[str, dict[str, Any]]:
    return {item["pk"]: item for item in dynamo.batch_get(KIND, [{"pk": c} for c in sorted(set(codes))])}


def save(record: dict[str, Any], expected_version: int | None, event_op: dict[str, Any]) -> None:
    if expected_version is None:
        put = dynamo.put_op(KIND, record, condition="attribute_not_exists(pk)")
    else:
        put = dynamo.put_op(KIND, record, condition="version = :v", values={":v": expected_version})
    dynamo.transact([put, event_op])
