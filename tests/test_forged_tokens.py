"""A checkpoint scans QR tokens that were tampered with, forged, left to expire or made up.

Every one is refused with `valid: false` and the precise reason a checkpoint app
shows; a genuine token still verifies, online and offline with our published JWKS,
and across a signing-key rotation.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import clock
from chalicelib.security import keyring, province_tokens, qr_tokens
from chalicelib.security.access import Role
from chalicelib.settings import get_settings
from chalicelib.store import scans
from tests.conftest import auth, client_token, dump
from tests.forged import b64url


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def change_one_character(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1:]


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def scan(client: Any, checkpoint: dict[str, str], token: str) -> dict[str, Any]:
    response = client.post("/v1/verifications", headers=checkpoint,
                           body=dump({"token": token, "checkpoint_id": "sz-bay-port-lane-2"}))
    assert response.status_code == 200, response.json_body
    return response.json_body


def assert_refused_scan(result: dict[str, Any], reason: str) -> None:
    assert result["valid"] is False, result
    assert result["reason"] == reason, result
    assert result["message"] and "color" not in result and "name_masked" not in result, result


@pytest.fixture
def holder(citizen: Any) -> Any:
    """A citizen with a green code, ready to show a QR token."""
    person = citizen()
    applied = person.apply()
    assert applied.status_code == 201
    person.code_id = applied.json_body["code_id"]
    return person


def test_a_genuine_token_verifies(client, checkpoint, holder):
    result = scan(client, checkpoint, holder.qr_token())
    assert result["valid"] is True and result["color"] == "green"
    assert result["id_last4"] == holder.id_number[-4:]


def test_one_character_changed_in_the_signature_is_a_bad_signature(client, checkpoint, holder):
    header, payload, signature = holder.qr_token().split(".")
    # the middle of the signature: the last character also carries padding bits that decode to nothing
    tampered = ".".join((header, payload, change_one_character(signature, len(signature) // 2)))
    assert_refused_scan(scan(client, checkpoint, tampered), "bad_signature")


def test_one_character_changed_in_the_payload_is_a_bad_signature(client, checkpoint, holder):
    token = holder.qr_token()
    header, payload, signature = token.split(".")
    tampered = ".".join((header, change_one_character(payload, len(payload) // 2), signature))
    assert tampered != token
    assert_refused_scan(scan(client, checkpoint, tampered), "bad_signature")
    # a refused scan leaves no trace in the holder's scan history
    assert scans.since(holder.code_id, 0, now=clock.now()) == []


def test_a_token_signed_by_another_key_under_our_kid_is_a_bad_signature(client, checkpoint, holder):
    header, claims = parts(holder.qr_token())
    impostor = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, impostor, algorithm="ES256", headers={"kid": header["kid"]})
    assert_refused_scan(scan(client, checkpoint, forged), "bad_signature")


def test_an_unsigned_alg_none_token_is_a_bad_signature(client, checkpoint, holder):
    header, claims = parts(holder.qr_token())
    unsigned = f"{segment({'alg': 'none', 'kid': header['kid']})}.{segment(claims)}."
    assert_refused_scan(scan(client, checkpoint, unsigned), "bad_signature")


def test_hs256_keyed_with_our_public_key_is_a_bad_signature(client, checkpoint, holder):
    """The classic algorithm-confusion forgery: an HMAC keyed with the published public key."""
    header, claims = parts(holder.qr_token())
    jwks = client.get("/.well-known/jwks.json").json_body
    public = jwt.PyJWKSet.from_dict(jwks)[header["kid"]].key
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{segment({'alg': 'HS256', 'kid': header['kid'], 'typ': 'JWT'})}.{segment(claims)}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert_refused_scan(scan(client, checkpoint, f"{signing_input}.{b64url(mac)}"), "bad_signature")


def test_a_token_past_its_lifetime_and_leeway_has_expired(client, checkpoint, holder):
    token = holder.qr_token()
    clock.shift(get_settings().qr_token_ttl + qr_tokens.LEEWAY_SECONDS + 1)
    assert_refused_scan(scan(client, checkpoint, token), "expired")
    # the holder refreshes the QR and is let through
    assert scan(client, checkpoint, holder.qr_token())["valid"] is True


def test_a_token_naming_a_key_we_never_had_is_an_unknown_key(client, checkpoint, holder):
    _, claims = parts(holder.qr_token())
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": "zz-nokey"})
    assert_refused_scan(scan(client, checkpoint, forged), "unknown_key")
    no_kid = jwt.encode(claims, stranger, algorithm="ES256")
    assert_refused_scan(scan(client, checkpoint, no_kid), "unknown_key")


@pytest.mark.parametrize("garbage", ["hello", "not.a.token", "eyJhbGciOiJFUzI1NiJ9", "....", "健康码"])
def test_garbage_is_malformed(client, checkpoint, garbage):
    assert_refused_scan(scan(client, checkpoint, garbage), "malformed")


def test_a_real_signature_over_a_code_that_does_not_exist_is_an_unknown_code(client, checkpoint):
    ttl = get_settings().qr_token_ttl
    token, _ = qr_tokens.issue("AAAAAAAAAAAAAAAA", clock.now(), ttl)
    assert_refused_scan(scan(client, checkpoint, token), "unknown_code")


def test_a_token_verifies_offline_with_the_published_jwks(client, holder):
    token = holder.qr_token()
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    jwks = response.json_body
    assert all("d" not in key for key in jwks["keys"]), "the JWKS must not publish private key material"
    keyset = jwt.PyJWKSet.from_dict(jwks)
    key = keyset[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key.key, algorithms=["ES256"])
    assert claims["sub"] == holder.code_id
    header, payload, signature = token.split(".")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(".".join((header, payload, change_one_character(signature, len(signature) // 2))),
                   key.key, algorithms=["ES256"])


def test_tokens_issued_before_a_key_rotation_keep_verifying(client, checkpoint, holder):
    # rotation rewrites the session's secrets file; old keys keep verifying, so other tests are unaffected
    before = holder.qr_token()
    old_kid = jwt.get_unverified_header(before)["kid"]

    fresh = keyring.rotate_signing_key(clock.now())

    after = holder.qr_token()
    assert jwt.get_unverified_header(after)["kid"] == fresh.kid != old_kid
    for token in (before, after):
        result = scan(client, checkpoint, token)
        assert result["valid"] is True and result["color"] == "green", result

    jwks = client.get("/.well-known/jwks.json").json_body
    assert {old_kid, fresh.kid} <= {key["kid"] for key in jwks["keys"]}
    keyset = jwt.PyJWKSet.from_dict(jwks)
    for token in (before, after):
        kid = jwt.get_unverified_header(token)["kid"]
        assert jwt.decode(token, keyset[kid].key, algorithms=["ES256"])["sub"] == holder.code_id


# --- headers and claims of the wrong type or size: still a refusal, never a server error -------------------------

def signed_with(private: Any, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A compact JWS with exactly this header, which PyJWT itself would refuse to write."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256).sign(signing_input.encode(), private)
    return f"{signing_input}.{b64url(signature)}"


WRONG_KIDS = [7, 1.5, True, None, ["k1"], {"kid": "k1"}, [], {}]


@pytest.mark.parametrize("kid", WRONG_KIDS, ids=[type(k).__name__ + str(i) for i, k in enumerate(WRONG_KIDS)])
def test_a_kid_that_is_not_a_string_is_malformed(client, checkpoint, holder, kid):
    _, claims = parts(holder.qr_token())
    stranger = ec.generate_private_key(ec.SECP256R1())
    national = signed_with(stranger, {"alg": "ES256", "kid": kid}, claims)
    assert_refused_scan(scan(client, checkpoint, national), "malformed")
    provincial = signed_with(stranger, {"alg": "ES256", "kid": kid},
                             {"iss": "province:51", "sub": "sc-1", "exp": clock.now() + 60})
    assert_refused_scan(scan(client, checkpoint, provincial), "malformed")


def test_a_kid_that_is_not_a_string_is_malformed_for_the_province_verifier_too():
    stranger = ec.generate_private_key(ec.SECP256R1())
    for kid in WRONG_KIDS:
        token = signed_with(stranger, {"alg": "ES256", "kid": kid},
                            {"iss": "province:51", "sub": "sc-1", "exp": clock.now() + 60})
        with pytest.raises(qr_tokens.TokenRejected) as refused:
            province_tokens.verify(token, clock.now())
        assert refused.value.reason == "malformed"


def test_an_issuer_or_subject_past_any_key_limit_is_refused(client, checkpoint):
    # a province with a registered key, so that only the claims are wrong
    guangxi = auth(client_token(client, Role.PROVINCE, province="45"))
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key())), "kid": "gx-1"}
    assert client.put("/v1/provinces/45/keys", headers=guangxi, body=dump({"keys": [jwk]})).status_code == 200

    def token(iss: str, sub: str) -> str:
        return jwt.encode({"iss": iss, "sub": sub, "exp": clock.now() + 60}, private, algorithm="ES256",
                          headers={"kid": "gx-1"})

    for issuer in ("province:" + "4" * 2100, "province:", "province:450", "province:4", "province:４５"):
        assert_refused_scan(scan(client, checkpoint, token(issuer, "gx-1")), "unknown_province")
    for subject in ("g" * 2100, "", "gx 1", "数" * 20):
        assert_refused_scan(scan(client, checkpoint, token("province:45", subject)), "unknown_code")
