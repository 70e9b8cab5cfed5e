"""The localcodes table: each province's local code for a person (one item per person and province)."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "localcodes"
LOCAL_ID_INDEX = "by_local_id"
NEWER = "attribute_not_exists(pk) OR version < :v"


def current_versions(keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found = dynamo.batch_get(KIND, [{"pk": person, "sk": province} for person, province in keys])
    return {(i["pk"], i["sk"]): int(i["version"]) for i in found}


def write_batch(records: list[dict[str, Any]], event_op: dict[str, Any]) -> None:
    """Up to 99 records and their event, all or nothing; ConditionFailed if any became stale meanwhile."""
    ops = [dynamo.put_op(KIND, r, condition=NEWER, values={":v": r["version"]}) for r in records]
    dynamo.transact([*ops, event_op])


def of_person(person: str) -> list[dict[str, Any]]:
    return dynamo.query_all(KIND, "pk = :p", {":p": person})


def holder(province: str, local_code_id: str) -> dict[str, Any] | None:
    items, _ = dynamo.query(KIND, "province_local = :k", {":k": f"{province}#{local_code_id}"},
                            index=LOCAL_ID_INDEX, limit=1)
    return items[0] if items else None
