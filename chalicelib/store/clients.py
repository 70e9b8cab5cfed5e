"""The clients table: checkpoints, provinces, health authorities and ops, with hashed secrets."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "clients"


def create(record: dict[str, Any]) -> None:
    dynamo.put(KIND, record, condition="attribute_not_exists(pk)")


def get(client_id: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": client_id}, consistent=True)


def set_status(client_id: str, status: str, at: int) -> dict[str, Any] | None:
    return dynamo.update(KIND, {"pk": client_id}, "SET #s = :s, updated_at = :t", {":s": status, ":t": at},
                         condition="attribute_exists(pk)", names={"#s": "status"})


def list_all() -> list[dict[str, Any]]:
    return dynamo.scan_all(KIND)
