"""The provinces table: the trust list of provinces' public keys for their own code tokens (`pk = <province>`)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.store import dynamo

KIND = "provinces"


@dataclass(frozen=True, slots=True)
class Revoked:
    kid: str
    at: int


@dataclass(frozen=True, slots=True)
class KeySet:
    province: str
    keys: tuple[Mapping[str, Any], ...]   # public JWKs, as the province registered them (with nbf, exp)
    revoked: tuple[Revoked, ...]          # a revoked kid never verifies again
    updated_at: int
    updated_by: str | None
    version: int


def get(province: str, consistent: bool = False) -> KeySet | None:
    item = dynamo.get(KIND, {"pk": province}, consistent=consistent)
    return None if item is None else _key_set(item)


def _key_set(item: dict[str, Any]) -> KeySet:
    return KeySet(item["pk"], tuple(item.get("keys") or ()),
                  tuple(Revoked(r["kid"], int(r.get("at", 0))) for r in item.get("revoked") or ()),
                  int(item.get("updated_at", 0)), item.get("updated_by"), int(item["version"]))


def save(keys: KeySet, expected_version: int | None) -> None:
    """The first key set only if the province has none, a later one only if nobody wrote since we read."""
    item = {"pk": keys.province, "keys": [dict(k) for k in keys.keys],
            "revoked": [{"kid": r.kid, "at": r.at} for r in keys.revoked], "updated_at": keys.updated_at,
            "updated_by": keys.updated_by, "version": keys.version}
    if expected_version is None:
        dynamo.put(KIND, item, condition="attribute_not_exists(pk)")
    else:
        dynamo.put(KIND, item, condition="version = :v", values={":v": expected_version})


def every() -> list[KeySet]:
    """Every province's key set (a Scan: the table holds one item per province, 34 at most)."""
    return sorted((_key_set(item) for item in dynamo.scan_all(KIND)), key=lambda k: k.province)
