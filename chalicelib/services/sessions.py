"""Logging in: citizens exchange an identity for a token; system clients use client credentials."""
from __future__ import annotations

import hmac
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain import divisions, limits, names
from chalicelib.errors import InvalidClient, ValidationFailed
from chalicelib.security import access, pseudonyms
from chalicelib.security.access import Principal, Role
from chalicelib.security.identity import Identity
from chalicelib.services import throttle
from chalicelib.settings import get_settings
from chalicelib.store import clients, dynamo

PROVINCE_SCOPED = (Role.PROVINCE, Role.HEALTH_AUTHORITY, Role.LAB, Role.VENUE_ADMIN)


def citizen_session(identity: Identity) -> dict[str, Any]:
    ttl = get_settings().citizen_token_ttl
    document = identity.document
    ref = pseudonyms.document_ref(document)
    throttle.check(limits.SESSIONS_PER_PERSON, ref)
    principal = Principal(role=Role.CITIZEN, subject=ref,
                          name_masked=names.mask_name(identity.name),
                          id_last4=document.last_four, document_type=document.kind.value)
    return {"access_token": access.issue(principal, ttl), "token_type": "Bearer", "expires_in": ttl,
            "name_masked": principal.name_masked, "id_last4": principal.id_last4,
            "document_type": principal.document_type}


def client_token(client_id: str, client_secret: str) -> dict[str, Any]:
    client = clients.get(client_id) if 0 < len(client_id) <= 64 else None
    expected = client.secret_hash if client else pseudonyms.client_secret_hash("no-such-client")
    matches = hmac.compare_digest(expected, pseudonyms.client_secret_hash(client_secret))
    if client is None or not matches or client.status != clients.ACTIVE:
        raise InvalidClient("Unknown client, wrong secret or revoked client.")
    # counted once the secret matched, so that no one else can use up a client's tokens
    throttle.check(limits.TOKENS_PER_CLIENT, client_id)
    # a checkpoint's entry rule rides in its token: the verify path reads nothing more (docs/tests-and-vaccinations.md)
    principal = Principal(role=Role(client.role), subject=client_id, province=client.province, area=client.area,
                          rule=client.entry_rule if client.role == Role.CHECKPOINT.value else None)
    ttl = get_settings().access_token_ttl
    return {"access_token": access.issue(principal, ttl), "token_type": "Bearer", "expires_in": ttl,
            "scope": client.role}


def create_client(role: Role, name: str, province: str | None = None, area: str | None = None) -> dict[str, Any]:
    """Create a system client; the secret is returned here once and only its hash is stored."""
    if role in PROVINCE_SCOPED and not (province and divisions.is_province(province)):
        raise ValidationFailed(f"A {role.value} client needs a two-digit province code.")
    if role is Role.NATIONAL_AUTHORITY and province is not None:
        raise ValidationFailed("A national_authority client acts nationwide: it takes no province.")
    if area is not None and not divisions.is_division(area):
        raise ValidationFailed("area must be a GB/T 2260 division code.")
    if province is not None and not divisions.is_province(province):
        raise ValidationFailed("province must be a two-digit GB/T 2260 province code.")
    for _ in range(3):
        client_id = f"{role.value[:2]}_{secrets.token_hex(8)}"
        secret = "hcs_" + secrets.token_urlsafe(32)
        try:
            clients.create(clients.Client(client_id, role.value, name, province, area,
                                          pseudonyms.client_secret_hash(secret), clients.ACTIVE, clock.now()))
        except dynamo.ConditionFailed:
            continue
        return {"client_id": client_id, "client_secret": secret, "role": role.value, "name": name,
                "province": province, "area": area}
    raise RuntimeError("could not allocate a client id")


def revoke_client(client_id: str) -> bool:
    try:
        clients.set_status(client_id, "revoked", clock.now())
        return True
    except dynamo.ConditionFailed:
        return False
