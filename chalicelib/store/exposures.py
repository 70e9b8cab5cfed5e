"""The exposures table: flights and trains that carried cases, keyed by normalised number and date."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "exposures"


def publish(exposure: dict[str, Any], event_op: dict[str, Any]) -> None:
    dynamo.transact([dynamo.put_op(KIND, exposure, condition="attribute_not_exists(pk)"), event_op])


def on(voyage: str) -> list[dict[str, Any]]:
    return dynamo.query_all(KIND, "pk = :v", {":v": voyage})
