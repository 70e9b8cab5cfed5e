"""The QR key ring as a cold container builds it (security/qr_tokens.py): whichever call comes first after the
secret bundle is loaded builds the ring with the QR token lifetime, so a key retired less than a lifetime ago
still verifies the tokens it signed (QR codes and venue posters) and is still published; and an unknown kid
makes the container look at the secrets again at most once every 30 seconds.

Fast tier: the secret bundle is one of this test's own (`keyring.bundle` and `keyring.reload` answer it), with a
`loaded_at` no other bundle has, so the ring is built afresh by the call under test.
"""
from __future__ import annotations

import itertools
import types
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from chalicelib.security import keyring, qr_tokens, venue_tokens
from chalicelib.settings import get_settings
from tests.forged import NOW, _platform_clock_at_now  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.fast

TTL = 180
VENUE = "ven_0123456789ab"
_loads = itertools.count(-1, -1)       # loaded_at of this test's bundles: never a real load's time


def key(kid: str, created: int, retired: int | None = None) -> keyring.SigningKeyRecord:
    return keyring.SigningKeyRecord(kid, keyring.new_signing_key(created).private_pem, created, retired)


RETIRED = key("r1", NOW - 90_000, retired=NOW - 100)     # stopped signing 100 s ago: its tokens are still live
CURRENT = key("c1", NOW - 100)


class Secrets:
    """The secret bundle this container holds, and the one a forced reload would read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.held = self.stored = self.load(RETIRED, CURRENT)
        monkeypatch.setattr(keyring, "bundle", lambda max_age=None: self.held)
        monkeypatch.setattr(keyring, "reload", self.reload)

    @staticmethod
    def load(*keys: keyring.SigningKeyRecord) -> keyring.SecretBundle:
        real = keyring.bundle()
        return keyring.SecretBundle(real.pepper, real.session_key, real.code_key, real.client_key, keys,
                                    loaded_at=float(next(_loads)))

    def reload(self) -> keyring.SecretBundle:
        self.held = self.stored
        return self.held


@pytest.fixture
def secrets(monkeypatch) -> Secrets:
    return Secrets(monkeypatch)


def signed_by(record: keyring.SigningKeyRecord, claims: dict[str, Any], **header: Any) -> str:
    private: Any = serialization.load_pem_private_key(record.private_pem.encode(), password=None)
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": record.kid, **header})


def test_the_first_jwks_after_a_load_publishes_a_key_retired_within_a_token_lifetime_as_an_es256_signing_key(
        secrets):
    published = qr_tokens.jwks(TTL)["keys"]
    assert sorted(k["kid"] for k in published) == ["c1", "r1"]
    assert all((k["alg"], k["use"]) == ("ES256", "sig") for k in published)


def test_the_first_qr_verification_after_a_load_takes_a_token_of_a_key_retired_within_a_token_lifetime(secrets):
    token = signed_by(RETIRED, {"sub": "code-1", "exp": NOW + 50})
    assert qr_tokens.verify(token, TTL, NOW) == "code-1"


def test_the_first_venue_verification_after_a_load_takes_a_poster_of_a_key_retired_within_a_qr_token_lifetime(
        secrets):
    assert get_settings().qr_token_ttl > 100 + qr_tokens.LEEWAY_SECONDS       # so RETIRED is still in the ring
    poster = signed_by(RETIRED, {"sub": VENUE, "g": 2, "exp": NOW + 86400}, typ="venue")
    assert venue_tokens.verify(poster, NOW) == (VENUE, 2)


def test_the_first_venue_token_issued_after_a_load_is_signed_by_the_current_key(secrets):
    token, _ = venue_tokens.issue(VENUE, 1, NOW)
    assert jwt.get_unverified_header(token)["kid"] == "c1"
    assert venue_tokens.verify(token, NOW) == (VENUE, 1)


def test_a_kid_another_container_rotated_in_is_found_by_reloading_the_secrets(secrets, monkeypatch):
    qr_tokens.jwks(TTL)                                     # this container's ring is built
    fresh = key("n1", NOW - 10)
    secrets.stored = Secrets.load(RETIRED, CURRENT, fresh)  # another container rotated
    monkeypatch.setattr(qr_tokens, "_last_forced_reload", 0.0)
    token = signed_by(fresh, {"sub": "code-1", "exp": NOW + TTL})
    assert qr_tokens.verify(token, TTL, NOW) == "code-1"
    assert sorted(k["kid"] for k in qr_tokens.jwks(TTL)["keys"]) == ["c1", "n1", "r1"]


@pytest.mark.parametrize("since_last, found", [(29.5, False), (30.0, False), (30.5, True)])
def test_an_unknown_kid_reloads_the_secrets_only_more_than_30_seconds_after_the_last_reload(secrets, monkeypatch,
                                                                                            since_last, found):
    qr_tokens.jwks(TTL)
    fresh = key("n1", NOW - 10)
    secrets.stored = Secrets.load(RETIRED, CURRENT, fresh)
    wall = 1_000_000.0
    monkeypatch.setattr(qr_tokens, "time", types.SimpleNamespace(time=lambda: wall))
    monkeypatch.setattr(qr_tokens, "_last_forced_reload", wall - since_last)
    token = signed_by(fresh, {"sub": "code-1", "exp": NOW + TTL})
    if found:
        assert qr_tokens.verify(token, TTL, NOW) == "code-1"
        assert qr_tokens._last_forced_reload == wall           # the next unknown kid waits 30 s from now
    else:
        with pytest.raises(qr_tokens.TokenRejected) as rejected:
            qr_tokens.verify(token, TTL, NOW)
        assert rejected.value.reason == "unknown_key"
        assert secrets.held is not secrets.stored               # the secrets were not read again
