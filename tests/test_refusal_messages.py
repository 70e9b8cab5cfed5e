"""What a refusal says, word for word, for the tokens and identities of chalicelib/security: one table per module,
each case the input that triggers the refusal → (documented reason or error code, exact message).

The message is what a checkpoint's staff, a citizen or an integrator reads (a TokenRejected's message goes out as
the verification's `message`, an ApiError's as `error.message`); the reasons and codes are documented in
docs/errors.md and docs/identity.md. Changing a sentence is a change to this table. Fast tier: the test stage's
file-based secrets, keys generated here, no database (a province's registered keys are given to `keys_of`).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from chalicelib import settings
from chalicelib.errors import ApiError, Forbidden, Unauthenticated, ValidationFailed
from chalicelib.security import identity, paper_tokens, province_tokens, qr_tokens, venue_tokens
from chalicelib.security.paper_tokens import PaperClaims
from chalicelib.security.province_tokens import ProvinceKeys
from chalicelib.security.qr_tokens import TokenRejected
from chalicelib.settings import get_settings
from chalicelib.store import provinces
from tests.forged import NOW, _platform_clock_at_now, b64url, hand_made  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.fast

TTL = 180
VENUE = "ven_0123456789ab"
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())      # a key the platform has never seen


def our_qr_kid() -> str:
    return qr_tokens.key_ring(get_settings().qr_token_ttl).signing_kid


def signed_with_our_qr_key(claims: dict[str, Any], **header: Any) -> str:
    ring = qr_tokens.key_ring(get_settings().qr_token_ttl)
    return jwt.encode(claims, ring.signing_key, algorithm="ES256", headers={"kid": ring.signing_kid, **header})


def refusal(verify: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(TokenRejected) as rejected:
        verify()
    assert str(rejected.value) == rejected.value.message
    return rejected.value.reason, rejected.value.message


# --- QR tokens (qr_tokens.verify) ---------------------------------------------------------------------------

def tampered_qr() -> str:
    head, _, signature = qr_tokens.issue("code-1", NOW, TTL)[0].split(".")
    return f"{head}.{b64url(json.dumps({'sub': 'code-2', 'exp': NOW + TTL}).encode())}.{signature}"


@pytest.mark.parametrize("token, reason, message", [
    (lambda: "not-a-token", "malformed", "The token is not a well-formed signed token."),
    (lambda: hand_made({"alg": "ES256"}, {"sub": "code-1", "exp": NOW + TTL}),
     "unknown_key", "The token names no signing key."),
    (lambda: jwt.encode({"sub": "code-1", "exp": NOW + TTL}, OTHER_KEY, algorithm="ES256", headers={"kid": "zz~"}),
     "unknown_key", "The token is signed by a key the platform does not know."),
    (lambda: hand_made({"alg": "HS256", "kid": our_qr_kid()}, {"sub": "code-1", "exp": NOW + TTL}),
     "bad_signature", "The token is not signed with ES256."),
    (tampered_qr, "bad_signature", "The token's signature does not verify."),
    (lambda: signed_with_our_qr_key({"sub": "code-1"}), "malformed", "The token is not a well-formed signed token."),
    (lambda: qr_tokens.issue("code-1", NOW - TTL - 5, TTL)[0],
     "expired", "The code has expired; ask the holder to refresh it."),
], ids=["not a JWS", "no kid", "unknown kid", "another algorithm", "tampered", "no exp", "expired"])
def test_a_qr_token_refusal_says_why(token, reason, message):
    bad = token()
    assert refusal(lambda: qr_tokens.verify(bad, TTL, NOW)) == (reason, message)


# --- venue tokens (venue_tokens.verify) ---------------------------------------------------------------------

@pytest.mark.parametrize("token, reason, message", [
    (lambda: qr_tokens.issue("code-1", NOW, TTL)[0], "malformed", "This is not a venue code."),
    (lambda: hand_made({"alg": "ES256", "typ": "venue"}, {"sub": VENUE, "g": 1, "exp": NOW + 60}),
     "unknown_key", "The token names no signing key."),
    (lambda: jwt.encode({"sub": VENUE, "g": 1, "exp": NOW + 60}, OTHER_KEY, algorithm="ES256",
                        headers={"kid": "never-ours", "typ": "venue"}),
     "unknown_key", "The venue code is signed by a key the platform does not know."),
    (lambda: hand_made({"alg": "HS256", "typ": "venue", "kid": our_qr_kid()}, {"sub": VENUE, "g": 1, "exp": NOW + 60}),
     "bad_signature", "The token is not signed with ES256."),
    (lambda: venue_tokens.issue(VENUE, 1, NOW - 400 * 86400)[0],
     "expired", "The venue code has expired; ask the holder to refresh it."),
    (lambda: signed_with_our_qr_key({"sub": "not-a-venue", "g": 1, "exp": NOW + 60}, typ="venue"),
     "malformed", "The token names no venue."),
], ids=["a QR token", "no kid", "unknown kid", "another algorithm", "expired", "no venue id"])
def test_a_venue_token_refusal_says_why(token, reason, message):
    bad = token()
    assert refusal(lambda: venue_tokens.verify(bad, NOW)) == (reason, message)


# --- paper codes (paper_tokens.verify) ----------------------------------------------------------------------

def paper(**claims: Any) -> str:
    body = {"sub": "AAAAAAAAAAAAAAA", "pc": "123456789015", "iat": NOW, "exp": NOW + 86400, "col": "green", **claims}
    return jwt.encode(body, paper_tokens._ring()[0], algorithm="ES256",
                      headers={"kid": paper_tokens.KID, "typ": paper_tokens.TYP})


@pytest.mark.parametrize("token, reason, message", [
    (lambda: qr_tokens.issue("code-1", NOW, TTL)[0], "unknown_key", "The token is not signed by the paper codes' key."),
    (lambda: paper_tokens.sign_list({"sub": "x", "pc": "1", "iat": NOW, "exp": NOW + 60, "col": "green"}),
     "bad_signature", "The token is not a paper code."),
    (lambda: paper_tokens.issue(PaperClaims("AAAAAAAAAAAAAAA", "123456789015", NOW - 20 * 86400, NOW - 6 * 86400,
                                            "green")),
     "expired", "The paper code has expired; a new one can be printed."),
    (lambda: paper(pc=123456789015), "malformed", "The token names no paper code."),
], ids=["a QR token", "the revocation list", "expired", "a number that is no string"])
def test_a_paper_code_refusal_says_why(token, reason, message):
    bad = token()
    assert refusal(lambda: paper_tokens.verify(bad, NOW)) == (reason, message)


# --- provinces' code tokens (province_tokens.verify) --------------------------------------------------------

ES = ec.generate_private_key(ec.SECP256R1())
ED = ed25519.Ed25519PrivateKey.generate()


def registered(private: Any, kid: str, **window: int) -> dict[str, Any]:
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return {**json.loads(ECAlgorithm.to_jwk(private.public_key())), "kid": kid, "alg": "ES256", **window}
    return {**json.loads(OKPAlgorithm.to_jwk(private.public_key())), "kid": kid, "alg": "EdDSA", **window}


def province_token(kid: str, province: str = "44", **claims: Any) -> str:
    body = {"iss": f"province:{province}", "sub": "gd-local-1", "exp": NOW + 3600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, ES, algorithm="ES256", headers={"kid": kid})


@pytest.fixture
def trust_list(monkeypatch) -> None:
    """Province 44 registered keys (one revoked, one not yet valid, one expired, one EdDSA), 51 none at all."""
    key_set = provinces.KeySet("44", (registered(ES, "gd-1"), registered(ES, "gd-later", nbf=NOW + 1),
                                      registered(ES, "gd-old", exp=NOW), registered(ED, "gd-ed")),
                               (provinces.Revoked("gd-0", NOW - 60),), NOW - 60, None, 1)
    listed: dict[str, ProvinceKeys | None] = {"44": province_tokens.parse_keys(key_set),
                                              "51": ProvinceKeys({}, frozenset())}
    monkeypatch.setattr(province_tokens, "keys_of", lambda province: listed.get(province))


@pytest.mark.parametrize("token, reason, message", [
    (lambda: province_token("gd-1", iss=None), "unknown_key",
     "The token is signed by a key the platform does not know."),
    (lambda: province_token("gd-1", province="4"), "unknown_province", "The token's issuer names no province."),
    (lambda: province_token("gd-1", province="51"), "unknown_province", "Province 51 has registered no keys."),
    (lambda: province_token("gd-0"), "key_revoked", "Province 44 has revoked this signing key."),
    (lambda: province_token("gd-9"), "unknown_key", "The token names a key province 44 has not registered."),
    (lambda: province_token("gd-ed"), "bad_signature", "The token is not signed with EdDSA."),
    (lambda: province_token("gd-later"), "key_not_yet_valid", "The province's key is not valid yet."),
    (lambda: province_token("gd-old"), "key_expired", "The province's key has expired."),
    (lambda: province_token("gd-1", exp=NOW - 5), "expired",
     "The provincial code has expired; ask the holder to refresh it."),
], ids=["no issuer", "not a province", "no keys", "revoked key", "unknown kid", "another algorithm",
        "key not yet valid", "key expired", "expired"])
def test_a_province_token_refusal_says_why(trust_list, token, reason, message):
    bad = token()
    assert refusal(lambda: province_tokens.verify(bad, NOW)) == (reason, message)


# --- who a citizen is (identity) ----------------------------------------------------------------------------

IDP_KEY = ec.generate_private_key(ec.SECP256R1())


def id_token(private: Any = IDP_KEY, kid: str = "idp-1", **changes: Any) -> str:
    # PyJWT checks exp against the wall clock here: the token's is set from it
    claims = {"iss": "https://idp.example", "aud": "healthcode", "sub": "u1", "exp": int(time.time()) + 600,
              "name": "王小明", "id_number": "510104199001011230", **changes}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, private, algorithm="ES256",
                      headers={"kid": kid})


def with_idp(assertion: Callable[[], str]) -> Callable[[], object]:
    def log_in() -> object:
        jwk = {**json.loads(ECAlgorithm.to_jwk(IDP_KEY.public_key())), "kid": "idp-1"}
        settings.override(idp_issuer="https://idp.example", idp_audience="healthcode",
                          idp_jwks=json.dumps({"keys": [jwk]}))
        return identity.from_id_token(assertion())
    return log_in


def self_asserted_on_prod() -> object:
    settings.override(stage="prod")
    return identity.from_self_assertion("王小明", "510104199001011230", "13800000000")


def id_token_without_idp() -> object:
    settings.override(idp_issuer=None, idp_audience=None, idp_jwks=None)
    return identity.from_id_token(id_token())


@pytest.mark.parametrize("log_in, refused, code, message", [
    (self_asserted_on_prod, Forbidden, "self_assertion_disabled",
     "Self-asserted identities are accepted only on development stages; "
     "send an identity provider's ID token as `assertion`."),
    (id_token_without_idp, Unauthenticated, "idp_not_configured", "No identity provider is configured for this stage."),
    (with_idp(lambda: id_token(kid="idp-9")), Unauthenticated, "invalid_assertion",
     "The ID token is signed by an unknown key."),
    (with_idp(lambda: id_token(OTHER_KEY)), Unauthenticated, "invalid_assertion", "The ID token is not valid."),
    (with_idp(lambda: id_token(id_number="510104199001011231")), Unauthenticated, "invalid_assertion",
     "The ID token carries no valid identity document."),
    (with_idp(lambda: id_token(name=None)), ValidationFailed, "invalid_assertion",
     "The ID token carries no valid name."),
], ids=["self-asserted on prod", "no identity provider", "unknown kid", "another key's signature",
        "a bad check digit", "no name"])
def test_an_identity_refusal_says_why(log_in, refused, code, message):
    with pytest.raises(ApiError) as error:
        log_in()
    assert (type(error.value), error.value.code, error.value.message) == (refused, code, message)
