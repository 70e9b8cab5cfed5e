"""The medical table: a person's current medical status and its insert-only history."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "medical"
# Each issuer's current status of a person: sk "CURRENT#<province>" or "CURRENT#national". Statuses set
# before issuers were kept apart are one item "CURRENT", read as its setter's province's.
CURRENT = "CURRENT"


def status_key(person: str, issuer: str) -> dict[str, str]:
    return {"pk": person, "sk": f"{CURRENT}#{issuer}"}


def statuses(person: str) -> list[dict[str, Any]]:
    """Every issuer's current status of the person, each with its `issuer`."""
    items = dynamo.query_all(KIND, "pk = :p AND begins_with(sk, :c)", {":p": person, ":c": CURRENT},
                             consistent=True)
    return [{**i, "issuer": i["sk"].partition("#")[2] or i.get("province") or "national"} for i in items]


def set_status(record: dict[str, Any], history: dict[str, Any], expected_version: int | None,
               other_ops: list[dict[str, Any]]) -> None:
    """The issuer's status, its history entry and the other items (the event, the access log's entry), all or
    nothing. ConditionFailed if another request of the same issuer got in first."""
    if expected_version is None:
        put = dynamo.put_op(KIND, record, condition="attribute_not_exists(pk)")
    else:
        put = dynamo.put_op(KIND, record, condition="version = :v", values={":v": expected_version})
    dynamo.transact([put, dynamo.put_op(KIND, history, condition="attribute_not_exists(pk)"), *other_ops])


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
