"""The trust list: provinces register the public keys that sign their own code tokens."""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.domain import identifiers
from chalicelib.errors import ValidationFailed
from chalicelib.security import province_tokens
from chalicelib.security.access import Principal
from chalicelib.services.sync import require_own_province
from chalicelib.services.versioned import versioned_update
from chalicelib.store import provinces


def describe(record: dict[str, Any]) -> dict[str, Any]:
    return {"province": record["pk"],
            "keys": [{k: v for k, v in key.items() if k in ("kid", "alg", "kty", "crv", "nbf", "exp")}
                     for key in record.get("keys", [])],
            "revoked": record.get("revoked", []), "version": record["version"], "updated_at": record["updated_at"]}


def register_keys(principal: Principal, province: str, keys: list[dict[str, Any]]) -> dict[str, Any]:
    """Replace the province's key set; a key left out is revoked and never verifies again."""
    require_own_province(principal, province)
    now = clock.now()
    new_kids = {k["kid"] for k in keys}

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        revived = sorted(new_kids & {r["kid"] for r in (current or {}).get("revoked", [])})
        if revived:
            raise ValidationFailed("A revoked key never verifies again; register it under a new kid.", [
                {"field": "keys", "message": f"kid {kid} was revoked", "type": "revoked_kid"} for kid in revived])
        revoked = list((current or {}).get("revoked", []))
        revoked += [{"kid": k["kid"], "at": now} for k in (current or {}).get("keys", []) if k["kid"] not in new_kids]
        return {"pk": province, "keys": keys, "revoked": revoked, "updated_at": now, "updated_by": principal.subject,
                "version": (current["version"] + 1) if current else 1}

    def save(current: dict[str, Any] | None, record: dict[str, Any]) -> dict[str, Any]:
        provinces.save(record, current["version"] if current else None)
        return record

    record = versioned_update(lambda: provinces.get(province), change, save, "The key set")
    province_tokens.forget(province)
    return describe(record)


def keys(province: str) -> dict[str, Any] | None:
    record = provinces.get(province) if identifiers.is_province(province) else None
    return describe(record) if record else None
