"""The provinces table: the trust list of provinces' public keys for their own code tokens."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "provinces"


def get(province: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": province})


def save(record: dict[str, Any], expected_version: int | None) -> None:
    if expected_version is None:
        dynamo.put(KIND, record, condition="attribute_not_exists(pk)")
    else:
        dynamo.put(KIND, record, condition="version = :v", values={":v": expected_version})
