"""The localcodes table: each province's local code for a person, and the alias from the province's
own local code id to the person (what a province's code token names)."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "localcodes"
NEWER = "attribute_not_exists(pk) OR version < :v"
ALIAS_SK = "alias"


def alias_key(province: str, local_code_id: str) -> dict[str, str]:
    return {"pk": f"id#{province}#{local_code_id}", "sk": ALIAS_SK}


def current_versions(keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found = dynamo.batch_get(KIND, [{"pk": person, "sk": province} for person, province in keys])
    return {(i["pk"], i["sk"]): int(i["version"]) for i in found}


def aliases(province: str, local_code_ids: list[str]) -> dict[str, str]:
    """local code id -> the person it already names, for those that name someone."""
    found = dynamo.batch_get(KIND, [alias_key(province, i) for i in sorted(set(local_code_ids))])
    return {item["local_code_id"]: item["person"] for item in found}


def write_batch(records: list[dict[str, Any]], event_op: dict[str, Any]) -> None:
    """Records, their aliases and the event, all or nothing; ConditionFailed if a record became stale
    or its local code id came to name someone else meanwhile."""
    ops = []
    for record in records:
        ops.append(dynamo.put_op(KIND, record, condition=NEWER, values={":v": record["version"]}))
        alias = {**alias_key(record["province"], record["local_code_id"]), "person": record["pk"],
                 "local_code_id": record["local_code_id"], "id_last4": record["id_last4"]}
        ops.append(dynamo.put_op(KIND, alias, condition="attribute_not_exists(pk) OR person = :p",
                                 values={":p": record["pk"]}))
    dynamo.transact([*ops, event_op])


def of_person(person: str) -> list[dict[str, Any]]:
    return dynamo.query_all(KIND, "pk = :p", {":p": person})


def holder(province: str, local_code_id: str) -> dict[str, Any] | None:
    """The alias of a province's local code id: the person and the last four ID characters."""
    return dynamo.get(KIND, alias_key(province, local_code_id))
