"""The public trust list: every province's registered keys, as a JWKS per province, for offline checkpoints.

Built from the provinces' key registrations (services/provinces.py). A key's `status` is as of `generated_at`:
`active`, `not_yet_valid` (before its `nbf`) or `expired` (from its `exp`); a revoked key is listed by kid alone
under `revoked`, without its key material, and never verifies again. Checkpoints cache it (MAX_AGE_SECONDS for
HTTP caches; the checkpoint page keeps using its copy offline for a day, docs/provinces.md).
"""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.store import provinces

MAX_AGE_SECONDS = 300
PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "kid", "alg", "use", "nbf", "exp")


def status(key: dict[str, Any], now: int) -> str:
    if key.get("nbf") is not None and now < key["nbf"]:
        return "not_yet_valid"
    if key.get("exp") is not None and now >= key["exp"]:
        return "expired"
    return "active"


def build() -> dict[str, Any]:
    now = clock.now()
    listed = {}
    for found in provinces.every():
        keys = []
        for key in found.keys:
            public = {k: v for k, v in key.items() if k in PUBLIC_MEMBERS}
            public["use"] = "sig"
            keys.append({**public, "status": status(public, now)})
        listed[found.province] = {"keys": keys, "revoked": [{"kid": r.kid, "at": r.at} for r in found.revoked],
                                  "version": found.version, "updated_at": found.updated_at}
    return {"generated_at": now, "max_age": MAX_AGE_SECONDS, "issuer_prefix": "province:", "provinces": listed}
