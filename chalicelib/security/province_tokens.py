"""Provinces' own code tokens, verified against the public keys each province registered (trust list).

A province token is a JWS signed ES256 or EdDSA with `kid` in its header and
claims `iss` = "province:<two-digit code>", `sub` = the province's local code id
(the one it synced to us), `exp`. Key sets are cached per container for
CACHE_SECONDS, so a revoked key stops verifying everywhere within that time.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib.domain import identifiers
from chalicelib.security.qr_tokens import TokenRejected, checked_subject, unverified_header
from chalicelib.store import provinces

ALGORITHMS = ("ES256", "EdDSA")
ISSUER_PREFIX = "province:"
CACHE_SECONDS = 30


@dataclass(frozen=True)
class ProvinceKeys:
    keys: dict[str, tuple[Any, str, int | None, int | None]]   # kid -> (key, alg, not_before, not_after)
    revoked: frozenset[str]


_lock = threading.Lock()
_cache: dict[str, tuple[float, ProvinceKeys | None]] = {}   # province -> (loaded at, keys)


def issuer_province(token: str) -> str | None:
    """The province a token claims to come from, read without verifying (only to pick the keys). It may
    name no province at all ("province:" and 3,000 digits): `verify` refuses it before any look-up."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.exceptions.InvalidTokenError:
        return None
    issuer = claims.get("iss")
    if isinstance(issuer, str) and issuer.startswith(ISSUER_PREFIX):
        return issuer[len(ISSUER_PREFIX):]
    return None


def parse_keys(found: provinces.KeySet | None) -> ProvinceKeys | None:
    if found is None:
        return None
    keys = {}
    for jwk in found.keys:
        public = {k: v for k, v in jwk.items() if k not in ("nbf", "exp")}
        parsed = jwt.PyJWK(public)
        keys[jwk["kid"]] = (parsed.key, jwk["alg"], jwk.get("nbf"), jwk.get("exp"))
    return ProvinceKeys(keys, frozenset(r.kid for r in found.revoked))


def keys_of(province: str) -> ProvinceKeys | None:
    entry = _cache.get(province)
    if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
        with _lock:
            entry = (time.monotonic(), parse_keys(provinces.get(province)))
            _cache[province] = entry
    return entry[1]


def forget(province: str) -> None:
    """Drop a cached key set (after this container changed it)."""
    _cache.pop(province, None)


def verify(token: str, now: int) -> tuple[str, str]:
    """(province, local code id) of a valid province token; raises TokenRejected with the reason."""
    header = unverified_header(token)
    province = issuer_province(token)
    if province is None:
        raise TokenRejected("unknown_key", "The token is signed by a key the platform does not know.")
    if not identifiers.is_province(province):
        raise TokenRejected("unknown_province", "The token's issuer names no province.")
    trusted = keys_of(province)
    if trusted is None or (not trusted.keys and not trusted.revoked):
        raise TokenRejected("unknown_province", f"Province {province} has registered no keys.")
    kid = header.get("kid")
    if kid in trusted.revoked and kid not in trusted.keys:
        raise TokenRejected("key_revoked", f"Province {province} has revoked this signing key.")
    if kid not in trusted.keys:
        raise TokenRejected("unknown_key", f"The token names a key province {province} has not registered.")
    key, algorithm, not_before, not_after = trusted.keys[kid]
    if header.get("alg") != algorithm or algorithm not in ALGORITHMS:
        raise TokenRejected("bad_signature", f"The token is not signed with {algorithm}.")
    if not_before is not None and now < not_before:
        raise TokenRejected("key_not_yet_valid", "The province's key is not valid yet.")
    if not_after is not None and now >= not_after:
        raise TokenRejected("key_expired", "The province's key has expired.")
    return province, checked_subject(token, key, algorithm, ["exp", "sub", "iss"], now, "provincial code")


def names_a_local_code(local_code_id: str) -> bool:
    """A signed `sub` may still be any string: only one a province could have pushed is looked up."""
    return identifiers.is_local_id(local_code_id)
