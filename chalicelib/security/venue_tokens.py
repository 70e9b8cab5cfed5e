"""Venue tokens: the compact ES256 JWS a venue's poster carries, signed with the platform's QR key ring.

Claims: `sub` the venue id, `g` the token generation (the venue record holds the one in force: a rotation or
a revocation increments it, so an older poster's token is refused at the visit), `exp` a year on. The header
says `typ: venue`, so a citizen's QR token (no `typ`) is never taken for a venue's, nor the other way round.
It verifies offline with /.well-known/jwks.json like a QR token; a visit also checks the generation online.

The token is signed by the QR key ring's current key (keys are P-256, `kid` in the header). A QR key stays in
the JWKS until it is retired and the last QR token it signed has expired: after a QR key is retired, the venue
tokens it signed stop verifying, and each venue's poster needs a new token (docs/venues.md says so).
"""
from __future__ import annotations

from typing import Any

import jwt

from chalicelib.domain import venues
from chalicelib.security import qr_tokens
from chalicelib.security.qr_tokens import TokenRejected
from chalicelib.settings import get_settings

TYP = "venue"


def issue(venue_id: str, generation: int, now: int) -> tuple[str, int]:
    ring = qr_tokens.key_ring(get_settings().qr_token_ttl)
    expires = now + venues.TOKEN_TTL_SECONDS
    token = jwt.encode({"sub": venue_id, "g": generation, "exp": expires}, ring.signing_key,
                       algorithm=qr_tokens.ALGORITHM, headers={"kid": ring.signing_kid, "typ": TYP})
    return token, expires


def verify(token: str, now: int) -> tuple[str, int]:
    """(venue id, generation) of a token whose signature, shape and expiry check out; TokenRejected otherwise,
    with the reason: malformed, unknown_key, bad_signature or expired."""
    header = qr_tokens.unverified_header(token)
    if header.get("typ") != TYP:
        raise TokenRejected("malformed", "This is not a venue code.")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenRejected("unknown_key", "The token names no signing key.")
    ttl = get_settings().qr_token_ttl
    key = qr_tokens._public_key_for(kid, ttl)
    if key is None:
        raise TokenRejected("unknown_key", "The venue code is signed by a key the platform does not know.")
    if header.get("alg") != qr_tokens.ALGORITHM:
        raise TokenRejected("bad_signature", f"The token is not signed with {qr_tokens.ALGORITHM}.")
    venue_id = qr_tokens.checked_subject(token, key, qr_tokens.ALGORITHM, ["exp", "sub", "g"], now, "venue code")
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    generation = claims.get("g")
    if not venues.is_venue_id(venue_id) or not isinstance(generation, int) or isinstance(generation, bool):
        raise TokenRejected("malformed", "The token names no venue.")
    return venue_id, generation
