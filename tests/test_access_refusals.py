"""What a caller reads when the platform refuses its access token or its role (chalicelib/security/access.py):
each refusal's documented code (docs/errors.md), its exact message and its details, in one table; and the cache
of decoded tokens. Fast tier: the test stage's file-based secrets, no database. Issuing and authenticating are
tested in test_token_rules.py.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest

from chalicelib import clock
from chalicelib.errors import ApiError, Forbidden, Unauthenticated
from chalicelib.security import access
from chalicelib.security.access import Principal, Role

pytestmark = pytest.mark.fast

NOW = 1_800_000_000
CHECKPOINT = Principal(Role.CHECKPOINT, "ch_0123456789abcdef", area="440106")
CITIZEN = Principal(Role.CITIZEN, "ref-of-a-person", name_masked="王*明", id_last4="1230")


@pytest.fixture(autouse=True)
def _platform_clock_at_now() -> None:
    clock.reset()
    clock.shift(NOW - clock.now_float())
    access._decoded.clear()


def bearer(principal: Principal, ttl: int = 600) -> str:
    return f"Bearer {access.issue(principal, ttl)}"


def expired() -> str:
    header = bearer(CITIZEN, 60)
    clock.shift(60)
    return header


def forged() -> str:
    claims = jwt.decode(access.issue(CITIZEN, 600), options={"verify_signature": False})
    return "Bearer " + jwt.encode({**claims, "role": "ops"}, "not the platform's session key, 32 bytes long",
                                  algorithm="HS256")


NO_TOKEN = "Send an access token as `Authorization: Bearer <token>`."
NOT_VALID = "The access token is not valid."


@pytest.mark.parametrize("call, refusal, code, message, details", [
    (lambda: access.authenticate(None), Unauthenticated, "unauthenticated", NO_TOKEN, []),
    (lambda: access.authenticate(""), Unauthenticated, "unauthenticated", NO_TOKEN, []),
    (lambda: access.authenticate("Bearer  "), Unauthenticated, "unauthenticated", NO_TOKEN, []),
    (lambda: access.authenticate("Basic dXNlcjpwYXNz"), Unauthenticated, "unauthenticated", NO_TOKEN, []),
    (lambda: access.authenticate("Bearer not-a-token"), Unauthenticated, "unauthenticated", NOT_VALID, []),
    (lambda: access.authenticate(forged()), Unauthenticated, "unauthenticated", NOT_VALID, []),
    (lambda: access.authenticate(expired()), Unauthenticated, "token_expired",
     "The access token has expired; log in again.", []),
    (lambda: access.require(bearer(CITIZEN), Role.CHECKPOINT, Role.OPS), Forbidden, "forbidden",
     "This operation is for: checkpoint, ops.", [{"role": "citizen"}]),
    (lambda: access.require(bearer(CHECKPOINT), Role.PROVINCE), Forbidden, "forbidden",
     "This operation is for: province.", [{"role": "checkpoint"}]),
], ids=["no header", "empty header", "bearer without a token", "another scheme", "garbage", "forged",
        "expired", "a citizen where systems act", "a checkpoint where provinces act"])
def test_each_refusal_of_a_token_or_a_role_says_its_code_and_message(
        call: Callable[[], Any], refusal: type[ApiError], code: str, message: str, details: list[Any]) -> None:
    with pytest.raises(refusal) as refused:
        call()
    assert (refused.value.code, refused.value.message, refused.value.details) == (code, message, details)


def test_a_role_the_operation_is_for_passes_with_the_principal():
    assert access.require(bearer(CHECKPOINT), Role.PROVINCE, Role.CHECKPOINT) == CHECKPOINT


def test_a_token_sent_again_is_not_decoded_again_while_it_is_valid(monkeypatch):
    """A checkpoint sends one token for 15 minutes: it is verified once, then answered from the cache (the
    verify path's CPU, docs/BENCHMARKS.md), and each token from its own entry."""
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)

    gate, citizen = access.issue(CHECKPOINT, 600), access.issue(CITIZEN, 600)
    monkeypatch.setattr(access.jwt, "decode", counting)
    for _ in range(3):
        assert access.authenticate(f"Bearer {gate}") == CHECKPOINT
        assert access.authenticate(f"Bearer {citizen}") == CITIZEN
    assert decoded == [gate, citizen]
