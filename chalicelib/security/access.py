"""Platform access tokens (HS256, pinned) for citizens and system clients, and role checks."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import jwt

from chalicelib import clock
from chalicelib.errors import Forbidden, Unauthenticated
from chalicelib.security import keyring
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.domain.lab_results import EntryRule

AUDIENCE = "healthcode-api"
ALGORITHM = "HS256"


class Role(str, Enum):
    CITIZEN = "citizen"
    CHECKPOINT = "checkpoint"
    PROVINCE = "province"
    HEALTH_AUTHORITY = "health_authority"
    # a national-level health authority: sets and lifts statuses of anyone, and reviews corrections of its own
    NATIONAL_AUTHORITY = "national_authority"
    OPS = "ops"
    # a testing laboratory, bound to a province: pushes nucleic-acid test results and vaccinations
    LAB = "lab"
    # a province's venue administration (issue 18): registers and manages the province's venues, sees their
    # visits per hour, and nothing about any person
    VENUE_ADMIN = "venue_admin"


SYSTEM_ROLES = (Role.CHECKPOINT, Role.PROVINCE, Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY, Role.OPS, Role.LAB,
                Role.VENUE_ADMIN)


@dataclass(frozen=True)
class Principal:
    role: Role
    subject: str                  # person reference (citizen) or client id
    province: str | None = None   # two-digit scope of province and health-authority clients
    area: str | None = None       # a checkpoint's GB/T 2260 area
    name_masked: str | None = None
    id_last4: str | None = None
    rule: EntryRule | None = None  # a checkpoint's entry rule (docs/tests-and-vaccinations.md), from its token
    document_type: str | None = None   # a citizen's identity document (domain/documents.DocumentType's value)
    guardian_id: str | None = None     # set while a guardian acts for this citizen (X-Acting-For): the guardian's id

    @property
    def own_province(self) -> str:
        """The province a province or health-authority client acts for; its routes admit no caller without one
        (access.issue puts it in each such token), so an absent one is a bug, not a request to answer."""
        if self.province is None:
            raise RuntimeError(f"a {self.role.value} principal without a province")
        return self.province


def issue(principal: Principal, ttl: int) -> str:
    now = clock.now()
    claims: dict[str, Any] = {"iss": get_settings().issuer, "aud": AUDIENCE, "sub": principal.subject,
              "role": principal.role.value, "iat": now, "exp": now + ttl, "jti": secrets.token_urlsafe(9)}
    optional = {"prov": principal.province, "area": principal.area, "nm": principal.name_masked,
                "l4": principal.id_last4, "er": principal.rule.claims() if principal.rule else None,
                "doc": principal.document_type}
    claims.update({k: v for k, v in optional.items() if v is not None})
    return jwt.encode(claims, keyring.bundle().session_key, algorithm=ALGORITHM)


def entry_rule(compact: dict[str, Any]) -> EntryRule:
    """A checkpoint's rule from its token's `er` claim. The entry rules load here, on first use: most tokens carry
    none, and a cold verify container should not pay for them (docs/BENCHMARKS.md, the cold start)."""
    from chalicelib.domain.lab_results import EntryRule

    return EntryRule.from_claims(compact)


# Decoded tokens, by the token itself: a checkpoint sends the same token for 15 minutes, and
# decoding it again costs more than the rest of the verify path's CPU. Bounded, and checked for expiry.
_decoded: dict[str, tuple[Principal, int]] = {}
_DECODED_MAX = 4096


def authenticate(authorization: str | None) -> Principal:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():  # the scheme name is case-insensitive (RFC 7235)
        raise Unauthenticated("Send an access token as `Authorization: Bearer <token>`.")
    token = token.strip()
    cached = _decoded.get(token)
    if cached is not None and cached[1] > clock.now():
        return cached[0]
    try:
        # exp is checked below against the platform clock; PyJWT's iat check uses the wall clock and
        # would refuse every token issued after the platform clock moved on, so it is off too
        claims = jwt.decode(token, keyring.bundle().session_key, algorithms=[ALGORITHM], audience=AUDIENCE,
                            issuer=get_settings().issuer,
                            options={"require": ["exp", "iat", "sub", "role"], "verify_exp": False,
                                     "verify_iat": False})
        role = Role(claims["role"])
        rule = entry_rule(claims["er"]) if "er" in claims else None
    except (jwt.exceptions.InvalidTokenError, ValueError, KeyError, TypeError):
        raise Unauthenticated("The access token is not valid.") from None
    if claims["exp"] <= clock.now():
        raise Unauthenticated("The access token has expired; log in again.", code="token_expired")
    principal = Principal(role=role, subject=claims["sub"], province=claims.get("prov"), area=claims.get("area"),
                          name_masked=claims.get("nm"), id_last4=claims.get("l4"), rule=rule,
                          document_type=claims.get("doc"))
    if len(_decoded) >= _DECODED_MAX:
        _decoded.clear()
    _decoded[token] = (principal, int(claims["exp"]))
    return principal


def require(authorization: str | None, *roles: Role) -> Principal:
    principal = authenticate(authorization)
    if principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"This operation is for: {allowed}.", details=[{"role": principal.role.value}])
    return principal
