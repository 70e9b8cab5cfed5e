"""The webhooks table: provinces' subscriptions."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "webhooks"
PROVINCE_INDEX = "by_province"


def get(webhook_id: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": webhook_id}, consistent=True)


def save(record: dict[str, Any], expected_version: int | None) -> None:
    if expected_version is None:
        dynamo.put(KIND, record, condition="attribute_not_exists(pk)")
    else:
        dynamo.put(KIND, record, condition="version = :v", values={":v": expected_version})


def delete(webhook_id: str) -> None:
    dynamo.delete(KIND, {"pk": webhook_id}, condition="attribute_exists(pk)")


def of_province(province: str) -> list[dict[str, Any]]:
    return dynamo.query_all(KIND, "province = :p", {":p": province}, index=PROVINCE_INDEX)


def active() -> list[dict[str, Any]]:
    return dynamo.scan_all(KIND, "#s = :a", {":a": "active"}, {"#s": "status"})


def disable(webhook_id: str, reason: str, at: int) -> None:
    dynamo.update(KIND, {"pk": webhook_id}, "SET #s = :d, disabled_reason = :r, updated_at = :t ADD version :one",
                  {":d": "disabled", ":r": reason, ":t": at, ":one": 1}, names={"#s": "status"},
                  condition="attribute_exists(pk)")
