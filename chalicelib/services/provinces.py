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


def describe(found: provinces.KeySet) -> dict[str, Any]:
    return {"province": found.province,
            "keys": [{k: v for k, v in key.items() if k in ("kid", "alg", "kty", "crv", "nbf", "exp")}
                     for key in found.keys],
            "revoked": [{"kid": r.kid, "at": r.at} for r in found.revoked], "version": found.version,
            "updated_at": found.updated_at}


def register_keys(principal: Principal, province: str, keys: list[dict[str, Any]]) -> dict[str, Any]:
    """Replace the province's key set; a key left out is revoked and never verifies again."""
    require_own_province(principal, province)
    now = clock.now()
    new_kids = {k["kid"] for k in keys}

    def change(current: provinces.KeySet | None) -> provinces.KeySet:
        revived = sorted(new_kids & {r.kid for r in (current.revoked if current else ())})
        if revived:
            raise ValidationFailed("A revoked key never verifies again; register it under a new kid.", [
                {"field": "keys", "message": f"kid {kid} was revoked", "type": "revoked_kid"} for kid in revived])
        revoked = list(current.revoked) if current else []
        revoked += [provinces.Revoked(k["kid"], now) for k in (current.keys if current else ())
                    if k["kid"] not in new_kids]
        return provinces.KeySet(province, tuple(keys), tuple(revoked), now, principal.subject,
                                (current.version + 1) if current else 1)

    def save(current: provinces.KeySet | None, new: provinces.KeySet) -> provinces.KeySet:
        provinces.save(new, current.version if current else None)
        return new

    found = versioned_update(lambda: provinces.get(province, consistent=True), change, save, "The key set")
    province_tokens.forget(province)
    return describe(found)


def keys(province: str) -> dict[str, Any] | None:
    found = provinces.get(province) if identifiers.is_province(province) else None
    return describe(found) if found else None
