"""The localcodes table: each province's local code for a person, and the alias from the province's own
local code id to the person (what a province's code token names).

Items: `pk = <person>`, `sk = <province>` for a local code (`ProvinceCode`); `pk = id#<province>#<local code
id>`, `sk = alias` for its alias (`Alias`), written with it, so that a local code id names one person for good.
Both carry the TTL `expires_at` (domain/retention.local_code_expires: 30 days after the last sync, or after the
code's validity if later); a sync rewrites both, so the alias lives as long as its code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain import retention
from chalicelib.domain.colors import Color
from chalicelib.domain.local_codes import LocalCode
from chalicelib.store import dynamo
from chalicelib.store.held import Held, held

KIND = "localcodes"
NEWER = "attribute_not_exists(pk) OR version < :v"
ALIAS_SK = "alias"


@dataclass(frozen=True, slots=True)
class ProvinceCode:
    """A province's local health code of a person, as the province pushed it."""
    person: str
    province: str
    color: Color
    local_code_id: str
    issued_at: int
    updated_at: int
    valid_until: int | None
    version: int                 # the province's: only a newer version replaces a stored one
    id_last4: str
    synced_at: int

    @property
    def key(self) -> tuple[str, str]:
        return self.person, self.province

    @property
    def local(self) -> LocalCode:
        return LocalCode(self.province, self.color, self.updated_at, self.valid_until)


@dataclass(frozen=True, slots=True)
class Alias:
    """Whom a province's local code id names."""
    province: str
    local_code_id: str
    person: str
    id_last4: str


def _alias_key(province: str, local_code_id: str) -> dict[str, str]:
    return {"pk": f"id#{province}#{local_code_id}", "sk": ALIAS_SK}


def items_of(code: ProvinceCode) -> tuple[dict[str, Any], dict[str, Any]]:
    """The local code's item and its alias's (here and for bulk loaders: bench/city.py)."""
    expires_at = retention.local_code_expires(code.synced_at, code.valid_until)
    record = {"pk": code.person, "sk": code.province, "province": code.province, "color": code.color.value,
              "local_code_id": code.local_code_id, "issued_at": code.issued_at, "updated_at": code.updated_at,
              "valid_until": code.valid_until, "version": code.version, "id_last4": code.id_last4,
              "synced_at": code.synced_at, "expires_at": expires_at}
    alias = {**_alias_key(code.province, code.local_code_id), "person": code.person,
             "local_code_id": code.local_code_id, "id_last4": code.id_last4, "expires_at": expires_at}
    return record, alias


def current_versions(keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The stored version of each local code (person, province) that is stored."""
    found = dynamo.batch_get(KIND, [{"pk": person, "sk": province} for person, province in keys])
    return {(i["pk"], i["sk"]): int(i["version"]) for i in found}


def aliases(province: str, local_code_ids: list[str]) -> dict[str, str]:
    """local code id -> the person it already names, for those that name someone."""
    found = dynamo.batch_get(KIND, [_alias_key(province, i) for i in sorted(set(local_code_ids))])
    return {item["local_code_id"]: item["person"] for item in found}


def write_batch(codes: list[ProvinceCode], event_op: dict[str, Any]) -> None:
    """Local codes, their aliases and the event, all or nothing; ConditionFailed if a code became stale
    or its local code id came to name someone else meanwhile."""
    ops = []
    for code in codes:
        record, alias = items_of(code)
        ops.append(dynamo.put_op(KIND, record, condition=NEWER, values={":v": code.version}))
        ops.append(dynamo.put_op(KIND, alias, condition="attribute_not_exists(pk) OR person = :p",
                                 values={":p": code.person}))
    dynamo.transact([*ops, event_op])


def of_person(person: str) -> list[ProvinceCode]:
    items = dynamo.query_all(KIND, "pk = :p", {":p": person})
    return [ProvinceCode(i["pk"], i["province"], Color(i["color"]), i["local_code_id"], int(i["issued_at"]),
                         int(i["updated_at"]), i.get("valid_until"), int(i["version"]), i.get("id_last4", ""),
                         int(i.get("synced_at", 0))) for i in items]


def holder(province: str, local_code_id: str) -> Alias | None:
    """Whom a province's local code id names."""
    item = dynamo.get(KIND, _alias_key(province, local_code_id))
    return Alias(province, local_code_id, item["person"], item["id_last4"]) if item else None


def held_of(person: str) -> list[Held]:
    """Provinces' local codes (each alias is a copy of its code's id, kept and expiring with it)."""
    return [held("local_codes", i, "synced_at") for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]


def erase_ops(person: str) -> list[dict[str, Any]]:
    """The Deletes of the person's local codes and their aliases (an erasure)."""
    ops = []
    for code in of_person(person):
        ops.append(dynamo.delete_op(KIND, {"pk": person, "sk": code.province}))
        ops.append(dynamo.delete_op(KIND, _alias_key(code.province, code.local_code_id)))   # it names them for good
    return ops


def expires_for(item: dict[str, Any], now: int) -> int:
    """The `expires_at` this table's writes give an item, from its own times (a backfill of items written before TTL
    was set on them: ops/backfill.py). An alias keeps no time of its own: it is kept from the backfill on, and its
    next sync sets it as the code's."""
    synced = retention.latest(item, "synced_at") or now
    return retention.local_code_expires(synced, retention.latest(item, "valid_until"))
