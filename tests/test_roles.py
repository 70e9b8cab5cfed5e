"""Who may do what: citizens look after their own code, checkpoints verify, and nobody gets in without a token.

System clients log in with OAuth 2.0 client credentials (RFC 6749 section 4.4).
"""
from __future__ import annotations

import base64
import secrets
from typing import Any

import jwt

from chalicelib import clock
from chalicelib.security.access import AUDIENCE, Role
from chalicelib.services.sessions import create_client, revoke_client
from chalicelib.settings import get_settings
from tests.conftest import auth, dump
from tests.refusals import assert_refused

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SCAN = dump({"token": "not-a-token", "checkpoint_id": "gate-1"})
DECLARATION = dump({"temperature": 36.6, "symptoms": [], "contact_with_cases": False,
                    "stayed_in_high_risk_area": False, "current_area": "440106"})


def forged_access_token(role: str, key: bytes) -> str:
    now = clock.now()
    claims = {"iss": get_settings().issuer, "aud": AUDIENCE, "sub": "ch_0000000000000000", "role": role,
              "iat": now, "exp": now + 600}
    return jwt.encode(claims, key, algorithm="HS256")


# --- no token, a bad token, an expired token ---------------------------------------------------------------

def test_no_authorization_header_is_unauthenticated(client):
    for response in (client.get("/v1/codes/me"),
                     client.get("/v1/codes/me/qr"),
                     client.post("/v1/codes", headers={"Content-Type": "application/json"}, body=DECLARATION),
                     client.post("/v1/verifications", headers={"Content-Type": "application/json"}, body=SCAN)):
        assert_refused(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_garbage_or_non_bearer_token_is_unauthenticated(client, citizen):
    person = citizen()
    for authorization in ("Bearer garbage", "Bearer ", "Basic " + person.token,
                          person.token, "Bearer " + person.token[:-4]):
        response = client.get("/v1/codes/me", headers={"Authorization": authorization})
        assert_refused(response, 401, "unauthenticated")


def test_an_access_token_signed_with_another_key_is_refused(client, citizen):
    # a self-made checkpoint token: the right claims, but not our HMAC key
    forged = forged_access_token("checkpoint", secrets.token_bytes(32))
    assert_refused(client.post("/v1/verifications", headers=auth(forged), body=SCAN), 401, "unauthenticated")
    # and an unsigned one
    payload = forged.split(".")[1]
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode() + f".{payload}."
    assert_refused(client.post("/v1/verifications", headers=auth(unsigned), body=SCAN), 401, "unauthenticated")


def test_an_expired_citizen_token_must_log_in_again_and_the_new_login_works(client, citizen):
    person = citizen()
    assert person.apply().status_code == 201
    clock.shift(get_settings().citizen_token_ttl + 1)
    response = client.get("/v1/codes/me", headers=person.headers)
    assert_refused(response, 401, "token_expired")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # logging in again, on the moved platform clock, gives back the same code
    again = citizen(person.id_number, person.name)
    assert client.get("/v1/codes/me", headers=again.headers).json_body["version"] == 1


# --- roles ------------------------------------------------------------------------------------------------

def test_a_citizen_cannot_verify_codes(client, citizen):
    person = citizen()
    person.apply()
    error = assert_refused(client.post("/v1/verifications", headers=person.headers,
                                       body=dump({"token": person.qr_token(), "checkpoint_id": "gate-1"})),
                           403, "forbidden")
    assert error["details"] == [{"role": "citizen"}]


def test_a_checkpoint_cannot_apply_for_or_read_a_code(client, checkpoint):
    assert_refused(client.post("/v1/codes", headers=checkpoint, body=DECLARATION), 403, "forbidden")
    assert_refused(client.get("/v1/codes/me", headers=checkpoint), 403, "forbidden")
    assert_refused(client.get("/v1/codes/me/qr", headers=checkpoint), 403, "forbidden")


def test_a_citizen_only_ever_sees_their_own_code(client, citizen):
    alice, bob = citizen(), citizen()
    alice_code = alice.apply().json_body
    bob_code = bob.apply(temperature=38.1).json_body
    assert alice_code["code_id"] != bob_code["code_id"]

    alice_sees = client.get("/v1/codes/me", headers=alice.headers).json_body
    bob_sees = client.get("/v1/codes/me", headers=bob.headers).json_body
    assert (alice_sees["code_id"], alice_sees["id_last4"], alice_sees["color"]) == (
        alice_code["code_id"], alice.id_number[-4:], "green")
    assert (bob_sees["code_id"], bob_sees["id_last4"], bob_sees["color"]) == (
        bob_code["code_id"], bob.id_number[-4:], "yellow")


# --- OAuth 2.0 client credentials -----------------------------------------------------------------------------

def new_checkpoint_client() -> dict[str, Any]:
    return create_client(Role.CHECKPOINT, "Guangzhou South gate 3", area="440106")


def form(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def assert_token_works_at_a_checkpoint(client: Any, response: Any) -> None:
    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert body["token_type"] == "Bearer" and body["scope"] == "checkpoint" and body["expires_in"] > 0
    assert response.headers.get("Cache-Control") == "no-store"
    scanned = client.post("/v1/verifications", headers=auth(body["access_token"]), body=SCAN)
    assert scanned.status_code == 200 and scanned.json_body["reason"] == "malformed"


def test_client_credentials_in_the_form_body(client):
    created = new_checkpoint_client()
    response = client.post("/v1/oauth/token", headers=FORM,
                           body=form(grant_type="client_credentials", client_id=created["client_id"],
                                     client_secret=created["client_secret"]))
    assert_token_works_at_a_checkpoint(client, response)


def test_client_credentials_with_http_basic_auth(client):
    created = new_checkpoint_client()
    basic = base64.b64encode(f"{created['client_id']}:{created['client_secret']}".encode()).decode()
    response = client.post("/v1/oauth/token", headers={**FORM, "Authorization": f"Basic {basic}"},
                           body=form(grant_type="client_credentials"))
    assert_token_works_at_a_checkpoint(client, response)


def test_client_credentials_as_json(client):
    created = new_checkpoint_client()
    response = client.post("/v1/oauth/token", headers={"Content-Type": "application/json"},
                           body=dump({"grant_type": "client_credentials", "client_id": created["client_id"],
                                      "client_secret": created["client_secret"]}))
    assert_token_works_at_a_checkpoint(client, response)


def test_a_wrong_secret_or_unknown_client_is_an_invalid_client(client):
    created = new_checkpoint_client()
    for client_id, secret in ((created["client_id"], created["client_secret"] + "x"),
                              (created["client_id"], ""),
                              ("ch_doesnotexist00", created["client_secret"]),
                              ("", "")):
        response = client.post("/v1/oauth/token", headers=FORM,
                               body=form(grant_type="client_credentials", client_id=client_id, client_secret=secret))
        assert_refused(response, 401, "invalid_client")


def test_a_revoked_client_cannot_log_in(client):
    created = new_checkpoint_client()
    login = form(grant_type="client_credentials", client_id=created["client_id"],
                 client_secret=created["client_secret"])
    assert client.post("/v1/oauth/token", headers=FORM, body=login).status_code == 200
    assert revoke_client(created["client_id"]) is True
    assert_refused(client.post("/v1/oauth/token", headers=FORM, body=login), 401, "invalid_client")


def test_only_the_client_credentials_grant_is_supported(client):
    created = new_checkpoint_client()
    for grant in ("password", "authorization_code", ""):
        response = client.post("/v1/oauth/token", headers=FORM,
                               body=form(grant_type=grant, client_id=created["client_id"],
                                         client_secret=created["client_secret"]))
        error = assert_refused(response, 422, "unsupported_grant_type")
        assert error["details"][0]["field"] == "grant_type"


def test_the_token_endpoint_wants_a_form_or_json(client):
    created = new_checkpoint_client()
    response = client.post("/v1/oauth/token", headers={"Content-Type": "text/plain"},
                           body=form(grant_type="client_credentials", client_id=created["client_id"],
                                     client_secret=created["client_secret"]))
    assert_refused(response, 415, "unsupported_media_type")
