"""QR tokens: compact ES256 JWS naming an opaque code id, verifiable offline with our JWKS.

ES256 was measured faster to verify than Ed25519 on this machine's OpenSSL
(docs/BENCHMARKS.md). Keys are parsed once per key set, never per request.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm

from chalicelib import clock
from chalicelib.lazy import Lazy
from chalicelib.security import keyring

ALGORITHM = "ES256"
LEEWAY_SECONDS = 5
UNKNOWN_KID_RELOAD_SECONDS = 30


class TokenRejected(Exception):
    """A token that does not verify; `reason` is one of the documented refusal reasons."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class KeyRing:
    signing_kid: str
    signing_key: Any
    public_keys: dict[str, Any]
    jwks: dict[str, Any]
    loaded_at: float
    rebuild_at: int | None      # a scheduled key starts or stops signing then


def _build_ring(bundle: keyring.SecretBundle, qr_ttl: int, now: int) -> KeyRing:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    active = [k for k in bundle.signing_keys
              if k.signing_start <= now and (k.retired_at is None or k.retired_at > now)]
    if not active:
        raise RuntimeError("no active QR signing key in the secret bundle")
    current = max(active, key=lambda k: k.signing_start)
    moments = [t for k in bundle.signing_keys for t in (k.signing_start, k.retired_at) if t is not None and t > now]
    public_keys: dict[str, Any] = {}
    jwks = []
    for record in bundle.signing_keys:
        # a retired key still verifies the tokens it signed until they have all expired
        if record.retired_at is not None and record.retired_at + qr_ttl + LEEWAY_SECONDS < now:
            continue
        private = serialization.load_pem_private_key(record.private_pem.encode(), password=None)
        public = private.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)  # keyring.new_signing_key makes P-256 keys only
        public_keys[record.kid] = public
        jwk = json.loads(ECAlgorithm.to_jwk(public))
        jwk.update({"kid": record.kid, "alg": ALGORITHM, "use": "sig"})
        jwks.append(jwk)
    signing = serialization.load_pem_private_key(current.private_pem.encode(), password=None)
    return KeyRing(current.kid, signing, public_keys, {"keys": jwks}, bundle.loaded_at, min(moments, default=None))


# built again when the bundle is reloaded, or when a key starts or stops counting (`rebuild_at`)
_ring: Lazy[KeyRing] = Lazy(stale=lambda ring: ring.rebuild_at is not None and clock.now() >= ring.rebuild_at)
_last_forced_reload = 0.0


def key_ring(qr_ttl: int, force: bool = False) -> KeyRing:
    bundle = keyring.reload() if force else keyring.bundle()
    return _ring.get(bundle.loaded_at, lambda: _build_ring(bundle, qr_ttl, clock.now()))


def is_expired(exp: object, now: int) -> bool:
    """NumericDate may be an integer or not (RFC 7519); anything else counts as expired."""
    return not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp + LEEWAY_SECONDS <= now


# The color claim `c`: an integer, so the token stays at QR version 10-M (docs/BENCHMARKS.md, issue 17).
COLOR_CLAIMS = {"green": 0, "yellow": 1, "red": 2}
COLORS_OF_CLAIM = {n: color for color, n in COLOR_CLAIMS.items()}


def issue(code_id: str, now: int, ttl: int, color: str | None = None) -> tuple[str, int]:
    """A token for the code; with `color`, it also carries that color (`c`) and when it was computed (`iat`), so
    that an offline checkpoint can read a color at most one token lifetime old. Online verification ignores both."""
    ring = key_ring(ttl)
    expires = now + ttl
    claims: dict[str, Any] = {"sub": code_id, "exp": expires}
    if color is not None:
        claims.update({"iat": now, "c": COLOR_CLAIMS[color]})
    token = jwt.encode(claims, ring.signing_key, algorithm=ALGORITHM, headers={"kid": ring.signing_kid, "typ": None})
    return token, expires


def _public_key_for(kid: str, ttl: int) -> Any:
    global _last_forced_reload
    ring = key_ring(ttl)
    key = ring.public_keys.get(kid)
    if key is None and time.time() - _last_forced_reload > UNKNOWN_KID_RELOAD_SECONDS:
        # another container may have rotated keys; look again, but not on every forged token
        _last_forced_reload = time.time()
        key = key_ring(ttl, force=True).public_keys.get(kid)
    return key


def unverified_header(token: str) -> dict[str, Any]:
    """The header, to pick the key; TokenRejected("malformed") for anything PyJWT will not read as one: not
    a compact JWS, or a `kid` that is not a string or a bad `crit` (InvalidTokenError, not a DecodeError)."""
    try:
        return jwt.get_unverified_header(token)
    except jwt.exceptions.InvalidTokenError:
        raise TokenRejected("malformed", "The token is not a well-formed signed token.") from None


def verify(token: str, ttl: int, now: int) -> str:
    """The code id a valid token names; raises TokenRejected with the precise reason."""
    header = unverified_header(token)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenRejected("unknown_key", "The token names no signing key.")
    key = _public_key_for(kid, ttl)
    if key is None:
        raise TokenRejected("unknown_key", "The token is signed by a key the platform does not know.")
    if header.get("alg") != ALGORITHM:
        raise TokenRejected("bad_signature", f"The token is not signed with {ALGORITHM}.")
    return checked_subject(token, key, ALGORITHM, ["exp", "sub"], now, "code")


def checked_claims(token: str, key: Any, algorithm: str, required: list[str], now: int, expired: str
                   ) -> dict[str, Any]:
    """The claims of a token whose signature, shape and expiry all check out; TokenRejected otherwise (`expired`:
    the message of that refusal).

    Expiry is checked against the platform clock, the one every rule uses, not PyJWT's wall clock; `iat` (when
    the token's color was computed) is not a validity condition, so it is not checked against the wall clock either.
    """
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[algorithm],
                                            options={"require": required, "verify_exp": False, "verify_iat": False})
    except jwt.exceptions.InvalidSignatureError:
        raise TokenRejected("bad_signature", "The token's signature does not verify.") from None
    except jwt.exceptions.InvalidTokenError:
        raise TokenRejected("malformed", "The token is not a well-formed signed token.") from None
    if is_expired(claims["exp"], now):
        raise TokenRejected("expired", expired)
    return claims


def checked_subject(token: str, key: Any, algorithm: str, required: list[str], now: int, what: str) -> str:
    """The `sub` of a token whose signature, shape and expiry all check out (checked_claims); TokenRejected
    otherwise."""
    claims = checked_claims(token, key, algorithm, required, now,
                            f"The {what} has expired; ask the holder to refresh it.")
    if not isinstance(claims["sub"], str):
        raise TokenRejected("malformed", f"The token names no {what}.")
    return claims["sub"]


def jwks(ttl: int) -> dict[str, Any]:
    return key_ring(ttl).jwks
