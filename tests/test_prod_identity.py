"""On the prod stage citizens log in only with the identity provider's ID token; self-assertion is off.

The identity provider here is a freshly generated EC P-256 key published as a JWKS in
the settings, exactly as HEALTHCODE_IDP_JWKS would carry it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from chalicelib import settings
from tests import people
from tests.conftest import auth, dump
from tests.forged import b64url
from tests.refusals import assert_refused

ISSUER = "https://idp.example.gov.cn"
AUDIENCE = "healthcode-prod"
KID = "idp-2026-01"
JSON = {"Content-Type": "application/json"}


def dump_compact(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class IdentityProvider:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks = json.dumps({"keys": [{**public, "kid": KID, "alg": "ES256", "use": "sig"}]})

    def id_token(self, key: Any = None, kid: str = KID, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "idp-user-" + people.phone(), "iat": now,
                  "exp": now + 300, "name": people.name(), "id_number": people.id_number(), **overrides}
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, key or self.key, algorithm="ES256",
                          headers={"kid": kid})


@pytest.fixture
def idp() -> IdentityProvider:
    provider = IdentityProvider()
    # the autouse fixture in conftest drops this override after the test
    settings.override(stage="prod", idp_issuer=ISSUER, idp_audience=AUDIENCE, idp_jwks=provider.jwks)
    return provider


def log_in(client: Any, assertion: str) -> Any:
    return client.post("/v1/sessions", headers=JSON, body=dump({"assertion": assertion}))


def test_self_assertion_is_disabled_in_prod(client, idp):
    response = client.post("/v1/sessions", headers=JSON, body=dump({"self_asserted": {
        "name": people.name(), "id_number": people.id_number(), "phone": people.phone()}}))
    assert_refused(response, 403, "self_assertion_disabled")


def test_an_id_token_from_the_provider_logs_in_and_can_apply(client, idp):
    id_number, name = people.id_number(), "李秀英"
    response = log_in(client, idp.id_token(id_number=id_number, name=name))
    assert response.status_code == 201, response.json_body
    session = response.json_body
    assert session["name_masked"] == "李*英" and session["id_last4"] == id_number[-4:]

    headers = auth(session["access_token"])
    applied = client.post("/v1/codes", headers=headers, body=dump({
        "temperature": 36.4, "symptoms": [], "contact_with_cases": False, "stayed_in_high_risk_area": False,
        "current_area": "110105"}))
    assert applied.status_code == 201 and applied.json_body["color"] == "green"
    mine = client.get("/v1/codes/me", headers=headers).json_body
    assert (mine["code_id"], mine["id_last4"]) == (applied.json_body["code_id"], id_number[-4:])

    # the same person logging in again (a new ID token) finds the same code
    again = log_in(client, idp.id_token(id_number=id_number, name=name)).json_body
    assert client.get("/v1/codes/me", headers=auth(again["access_token"])).json_body["code_id"] == mine["code_id"]


@pytest.mark.parametrize("overrides", [
    {"aud": "someone-else"},
    {"iss": "https://evil.example.com"},
    {"exp": int(time.time()) - 3600},
    {"exp": None},
    {"sub": None},
], ids=["wrong-audience", "wrong-issuer", "expired", "no-exp", "no-sub"])
def test_an_id_token_with_wrong_claims_is_an_invalid_assertion(client, idp, overrides):
    assert_refused(log_in(client, idp.id_token(**overrides)), 401, "invalid_assertion")


def test_an_id_token_from_an_unknown_key_is_an_invalid_assertion(client, idp):
    stranger = ec.generate_private_key(ec.SECP256R1())
    assert_refused(log_in(client, idp.id_token(key=stranger, kid="idp-unknown")), 401, "invalid_assertion")
    # a stranger's key under the provider's kid
    assert_refused(log_in(client, idp.id_token(key=stranger)), 401, "invalid_assertion")


def test_an_unsigned_or_hmac_id_token_is_an_invalid_assertion(client, idp):
    claims = jwt.decode(idp.id_token(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": KID})
    assert_refused(log_in(client, unsigned), 401, "invalid_assertion")
    # algorithm confusion: an HMAC keyed with the provider's published public key (PyJWT refuses to make one)
    pem = idp.key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64url(dump_compact({'alg': 'HS256', 'kid': KID}))}.{b64url(dump_compact(claims))}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    hmac_signed = f"{signing_input}.{b64url(mac)}"
    assert_refused(log_in(client, hmac_signed), 401, "invalid_assertion")
    assert_refused(log_in(client, "not-an-id-token-at-all"), 401, "invalid_assertion")


@pytest.mark.parametrize("id_number", [
    people.with_wrong_check_digit(people.id_number()),
    people.id_number()[:17],
    "",
    None,
], ids=["check-digit", "17-chars", "empty", "missing"])
def test_an_id_token_without_a_valid_id_number_is_an_invalid_assertion(client, idp, id_number):
    token = idp.id_token(id_number=id_number)
    assert_refused(log_in(client, token), 401, "invalid_assertion")


def test_an_id_token_names_another_identity_document_and_the_session_says_which(client, idp):
    """docs/identity.md: the provider's `document_type` and, for a passport, `nationality` claims."""
    passport = people.passport()
    session = log_in(client, idp.id_token(id_number=passport, name="Maria Rossi", document_type="passport",
                                          nationality="ITA"))
    assert session.status_code == 201, session.json_body
    assert session.json_body["document_type"] == "passport" and session.json_body["id_last4"] == passport[-4:]
    permit = people.residence_permit("830000")
    assert log_in(client, idp.id_token(id_number=permit, name="林志玲", document_type="hmt_residence_permit")) \
        .json_body["document_type"] == "hmt_residence_permit"
    for bad in ({"document_type": "passport"}, {"document_type": "passport", "nationality": "XYZ"},
                {"document_type": "drivers_licence"}, {"document_type": "taiwan_travel_permit"}):
        assert_refused(log_in(client, idp.id_token(id_number=passport, name="Maria Rossi", **bad)), 401,
                       "invalid_assertion")
