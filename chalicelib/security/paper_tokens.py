"""Paper codes' tokens and the signed revocation list: ES256 under a key of their own purpose (docs/identity.md).

The key is derived from the secret bundle's `code_key` with a label of its own (HMAC-SHA256 over
`paper-code-key:<version>` taken as a P-256 private scalar), so it needs no new secret and never signs a QR
token: its kid, `pc<version>`, is published in /.well-known/jwks.json beside the QR keys, and a verifier tells
the two purposes apart by the kid and the header's `typ`. Changing KEY_VERSION makes a new key; tokens of the
old one stop verifying, so a version change is announced 14 days ahead (docs/identity.md#paper-codes).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm

from chalicelib.security import keyring
from chalicelib.security.qr_tokens import TokenRejected, checked_claims, unverified_header

ALGORITHM = "ES256"
KEY_VERSION = 1
KID = f"pc{KEY_VERSION}"
TYP = "hc-paper+jwt"                   # a paper code
LIST_TYP = "hc-paper-revocations+jwt"  # the revocation list
VALIDITY_DAYS = 14
# P-256's group order
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class PaperClaims:
    code_id: str        # the holder's code: its live color is what a checkpoint online gets
    number: str         # the paper code's number, printed for manual entry; what a revocation names
    issued_at: int
    expires_at: int
    color: str          # the color when printed: what an offline checkpoint shows, saying so


@lru_cache(maxsize=2)
def _keys(code_key: bytes) -> tuple[Any, Any, dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric import ec

    digest = hmac.new(code_key, f"paper-code-key:{KEY_VERSION}".encode(), hashlib.sha256).digest()
    private = ec.derive_private_key(int.from_bytes(digest, "big") % (_ORDER - 1) + 1, ec.SECP256R1())
    public = private.public_key()
    jwk = json.loads(ECAlgorithm.to_jwk(public))
    jwk.update({"kid": KID, "alg": ALGORITHM, "use": "sig"})
    return private, public, jwk


def _ring() -> tuple[Any, Any, dict[str, Any]]:
    return _keys(keyring.bundle().code_key)


def jwk() -> dict[str, Any]:
    """The public key, as /.well-known/jwks.json lists it."""
    return _ring()[2]


def is_paper(token: str) -> bool:
    """Whether a token names the paper codes' key (a cheap look at its header)."""
    try:
        return unverified_header(token).get("kid") == KID
    except TokenRejected:
        return False


def issue(claims: PaperClaims) -> str:
    return jwt.encode({"sub": claims.code_id, "pc": claims.number, "iat": claims.issued_at, "exp": claims.expires_at,
                       "col": claims.color}, _ring()[0], algorithm=ALGORITHM, headers={"kid": KID, "typ": TYP})


def verify(token: str, now: int) -> PaperClaims:
    """The claims of a valid paper code; TokenRejected with the documented reason otherwise."""
    header = unverified_header(token)
    if header.get("kid") != KID:
        raise TokenRejected("unknown_key", "The token is not signed by the paper codes' key.")
    if header.get("alg") != ALGORITHM or header.get("typ") != TYP:
        raise TokenRejected("bad_signature", "The token is not a paper code.")
    claims = checked_claims(token, _ring()[1], ALGORITHM, ["sub", "pc", "iat", "exp", "col"], now,
                            "The paper code has expired; a new one can be printed.")
    if not all(isinstance(claims[k], str) for k in ("sub", "pc", "col")):
        raise TokenRejected("malformed", "The token names no paper code.")
    return PaperClaims(claims["sub"], claims["pc"], int(claims["iat"]), int(claims["exp"]), claims["col"])


def sign_list(payload: dict[str, Any]) -> str:
    """The revocation list as a compact JWS under the same key, with its own `typ`."""
    return jwt.encode(payload, _ring()[0], algorithm=ALGORITHM, headers={"kid": KID, "typ": LIST_TYP})
