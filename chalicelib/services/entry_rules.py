"""Checkpoints' entry rules: set by ops or by a health authority for its province's checkpoints, carried in the
checkpoint's access token, and published as a signed rule set for offline checkpoints
(docs/tests-and-vaccinations.md)."""
from __future__ import annotations

import time
from typing import Any

import jwt

from chalicelib import clock
from chalicelib.domain import identifiers
from chalicelib.domain.lab_results import EntryRule
from chalicelib.errors import Forbidden, NotFound
from chalicelib.security import qr_tokens
from chalicelib.security.access import Principal, Role
from chalicelib.services.versioned import versioned_update
from chalicelib.settings import get_settings
from chalicelib.store import clients

TYP = "entry-rules+jwt"        # the JWS header's `typ`: never a QR token, whose header has none
PURPOSE = "entry_rules"        # and its `purpose` claim
# how long a published rule set may be used offline before a checkpoint must fetch a fresh one
RULE_SET_TTL = 7 * 86400
# the signed set is cached per container this long: it changes only when ops or an authority sets a rule
CACHE_SECONDS = 60
_cached: dict[str, tuple[float, str]] = {}


def public_rule(client: clients.Client) -> dict[str, Any]:
    rule = client.entry_rule
    return {"client_id": client.client_id, "rule_id": rule.rule_id if rule else None,
            "rule": rule.canonical() if rule else None, "updated_at": client.rule_updated_at}


def set_rule(principal: Principal | None, client_id: str, rule: EntryRule | None) -> dict[str, Any]:
    """Set or clear a checkpoint's rule; `principal` None is ops (the CLI). A health authority sets rules only for
    checkpoints in its own province. The checkpoint's next access token carries the rule."""
    client = clients.get(client_id) if identifiers.is_checkpoint_id(client_id) else None
    if client is None or client.role != Role.CHECKPOINT.value:
        raise NotFound("No such checkpoint client.", code="unknown_checkpoint")
    if principal is not None and (client.area or "")[:2] != principal.province:
        raise Forbidden("A health authority sets entry rules only for its own province's checkpoints.",
                        code="outside_province")
    now = clock.now()

    def save(_: None, known: clients.RuleSet) -> None:
        clients.set_rule(client_id, rule, known, now)

    versioned_update(lambda: None, lambda _: clients.rule_set(consistent=True), save, "The rule set")
    _cached.clear()
    updated = clients.get(client_id)
    assert updated is not None
    return public_rule(updated)


def signed_rule_set() -> str:
    """Every rule version set so far as a compact JWS (ES256, a key of /.well-known/jwks.json).

    The checkpoint page caches it with the keys and applies its rule offline (web/offline.js `judge`): see
    docs/tests-and-vaccinations.md, "The signed rule set"."""
    hit = _cached.get("set")
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    known = clients.rule_set()
    now = clock.now()
    ring = qr_tokens.key_ring(get_settings().qr_token_ttl)
    claims = {"iss": get_settings().issuer, "purpose": PURPOSE, "version": known.version, "iat": now,
              "exp": now + RULE_SET_TTL,
              "rules": [{"rule_id": r.rule_id, **r.rule.canonical(), "since": r.since} for r in known.rules]}
    token = jwt.encode(claims, ring.signing_key, algorithm=qr_tokens.ALGORITHM,
                       headers={"kid": ring.signing_kid, "typ": TYP})
    _cached["set"] = (time.monotonic(), token)
    return token
