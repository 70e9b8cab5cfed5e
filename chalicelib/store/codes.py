"""The people table: one item per person, keyed by the opaque code id their QR tokens name."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "people"


def get(code_id: str, consistent: bool = False) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": code_id}, consistent=consistent)


def create(record: dict[str, Any]) -> None:
    """Insert a first version; ConditionFailed if the person already has a code."""
    dynamo.put(KIND, record, condition="attribute_not_exists(pk)")


def replace(record: dict[str, Any], expected_version: int) -> None:
    """Write a new version; ConditionFailed if someone else wrote since we read."""
    dynamo.put(KIND, record, condition="version = :expected", values={":expected": expected_version})
