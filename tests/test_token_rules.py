"""The token code on its own (chalicelib/security): platform access tokens and role checks, QR tokens and
their key ring, provinces' code tokens, and who a citizen is. Fast tier: the test stage's file-based secrets,
no database; the same code is exercised end to end through the API by test_roles.py, test_forged_tokens.py,
test_key_rotation.py, test_provinces.py and test_prod_identity.py.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from chalicelib import clock, settings
from chalicelib.domain.colors import Color
from chalicelib.domain.documents import DocumentType
from chalicelib.domain.lab_results import EntryRule
from chalicelib.errors import Forbidden, Unauthenticated, ValidationFailed
from chalicelib.security import access, identity, keyring, province_tokens, qr_tokens
from chalicelib.security.access import AUDIENCE, Principal, Role
from chalicelib.security.province_tokens import ProvinceKeys
from chalicelib.security.qr_tokens import TokenRejected
from chalicelib.settings import get_settings
from chalicelib.store import provinces
from tests import people
from tests.forged import NOW, _platform_clock_at_now, b64url, hand_made  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.fast


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


# --- platform access tokens ---------------------------------------------------------------------------------

CHECKPOINT = Principal(Role.CHECKPOINT, "ch_0123456789abcdef", area="440106")
CITIZEN = Principal(Role.CITIZEN, "ref-of-a-person", name_masked="王*明", id_last4="1230")


def test_an_access_token_carries_who_and_for_how_long_and_nothing_unset():
    token = access.issue(CITIZEN, 3600)
    claims = claims_of(token)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert {k: v for k, v in claims.items() if k != "jti"} == {
        "iss": get_settings().issuer, "aud": AUDIENCE, "sub": "ref-of-a-person", "role": "citizen",
        "iat": NOW, "exp": NOW + 3600, "nm": "王*明", "l4": "1230"}
    assert len(claims["jti"]) == 12 and claims["jti"] != claims_of(access.issue(CITIZEN, 3600))["jti"]
    assert {"prov", "area"}.isdisjoint(claims)
    scoped = claims_of(access.issue(Principal(Role.PROVINCE, "pr_1", province="44"), 900))
    assert (scoped["prov"], scoped["exp"]) == ("44", NOW + 900) and "area" not in scoped


def test_an_access_token_authenticates_as_the_principal_it_was_issued_for():
    for principal in (CHECKPOINT, CITIZEN, Principal(Role.HEALTH_AUTHORITY, "he_1", province="51")):
        assert access.authenticate(f"Bearer {access.issue(principal, 600)}") == principal


def test_the_scheme_is_bearer_in_any_case_and_the_token_must_be_there():
    token = access.issue(CHECKPOINT, 600)
    for header in (f"bearer {token}", f"BEARER {token}", f"  Bearer   {token}  "):
        assert access.authenticate(header) == CHECKPOINT
    for header in (None, "", "Bearer", "Bearer ", f"Basic {token}", token, f"Token {token}"):
        with pytest.raises(Unauthenticated, match="Authorization: Bearer") as refused:
            access.authenticate(header)
        assert refused.value.code == "unauthenticated"


def test_an_access_token_is_valid_until_the_second_before_it_expires():
    token = access.issue(CHECKPOINT, 600)
    clock.shift(599)
    assert access.authenticate(f"Bearer {token}") == CHECKPOINT     # and now it is cached...
    clock.shift(1)
    with pytest.raises(Unauthenticated, match="expired") as expired:   # ...but the cache checks expiry too
        access.authenticate(f"Bearer {token}")
    assert expired.value.code == "token_expired"


def test_a_checkpoints_entry_rule_and_a_citizens_document_come_back_from_the_token():
    rule = EntryRule((Color.GREEN, Color.YELLOW), negative_test_within_hours=48, min_doses=2)
    gate = Principal(Role.CHECKPOINT, "ch_0123456789abcdef", area="440106", rule=rule)
    passport = Principal(Role.CITIZEN, "ref-of-a-visitor", name_masked="J*n", id_last4="4567",
                         document_type="passport")
    for principal in (gate, passport):
        token = access.issue(principal, 600)
        access._decoded.clear()    # decoded from the token itself, not from the cache of decoded tokens
        assert access.authenticate(f"Bearer {token}") == principal
    assert claims_of(access.issue(gate, 600))["er"] == rule.claims()
    assert claims_of(access.issue(passport, 600))["doc"] == "passport"


def test_expiry_is_judged_by_the_platform_clock_not_the_wall_clock():
    # a platform clock years behind the wall clock (tests, a replay): its tokens are valid until their own exp
    clock.shift(-300_000_000)
    token = access.issue(CHECKPOINT, 600)
    assert access.authenticate(f"Bearer {token}") == CHECKPOINT


def forged(key: bytes, algorithm: str = "HS256", **changes: Any) -> str:
    claims = {"iss": get_settings().issuer, "aud": AUDIENCE, "sub": "ch_1", "role": "checkpoint", "iat": NOW,
              "exp": NOW + 600, **changes}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm)


@pytest.mark.parametrize("changes", [
    {"aud": "another-api"}, {"iss": "https://elsewhere.example"}, {"role": "superuser"}, {"role": None},
    {"sub": None}, {"exp": None}, {"iat": None},
])
def test_a_token_with_a_wrong_or_missing_claim_is_not_valid(changes):
    with pytest.raises(Unauthenticated, match="not valid") as refused:
        access.authenticate(f"Bearer {forged(keyring.bundle().session_key, **changes)}")
    assert refused.value.code == "unauthenticated"


@pytest.mark.filterwarnings("ignore:The HMAC key")     # our own key under HS512 is the point
def test_a_token_signed_with_another_key_or_algorithm_is_not_valid():
    assert access.authenticate(f"Bearer {forged(keyring.bundle().session_key)}").role is Role.CHECKPOINT
    for token in (forged(b"k" * 32), forged(keyring.bundle().session_key, "HS512"),
                  access.issue(CHECKPOINT, 600)[:-3] + "AAA", "a.b.c"):
        with pytest.raises(Unauthenticated, match="not valid"):
            access.authenticate(f"Bearer {token}")


def test_the_cache_of_decoded_tokens_stays_bounded(monkeypatch):
    monkeypatch.setattr(access, "_decoded", {})
    monkeypatch.setattr(access, "_DECODED_MAX", 3)
    tokens = [access.issue(CHECKPOINT, 600) for _ in range(4)]
    for token in tokens[:3]:
        access.authenticate(f"Bearer {token}")
    assert len(access._decoded) == 3
    access.authenticate(f"Bearer {tokens[3]}")
    assert list(access._decoded) == [tokens[3]]


def test_a_role_check_lets_the_named_roles_through_and_refuses_every_other():
    headers = {role: f"Bearer {access.issue(Principal(role, 'x'), 600)}" for role in Role}
    for role in Role:
        assert access.require(headers[role], role).role is role
        assert access.require(headers[role], *Role).role is role
        others = [r for r in Role if r is not role]
        with pytest.raises(Forbidden) as refused:
            access.require(headers[role], *others)
        assert (refused.value.status, refused.value.code, refused.value.details) == (
            403, "forbidden", [{"role": role.value}])
        assert str(refused.value) == f"This operation is for: {', '.join(r.value for r in others)}."
    with pytest.raises(Unauthenticated):
        access.require(None, *Role)


def test_no_role_but_the_named_ones_gets_through_not_even_ops():
    ops = f"Bearer {access.issue(Principal(Role.OPS, 'op_1'), 600)}"
    with pytest.raises(Forbidden):
        access.require(ops, Role.CITIZEN, Role.CHECKPOINT, Role.PROVINCE, Role.HEALTH_AUTHORITY,
                       Role.NATIONAL_AUTHORITY, Role.LAB)
    assert access.SYSTEM_ROLES == (Role.CHECKPOINT, Role.PROVINCE, Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY,
                                   Role.OPS, Role.LAB, Role.VENUE_ADMIN)


# --- QR tokens ----------------------------------------------------------------------------------------------

TTL = 180


def test_every_published_qr_key_says_it_is_an_es256_signing_key():
    keys = qr_tokens.jwks(180)["keys"]
    assert keys and all((k["alg"], k["use"], k["kty"], k["crv"]) == ("ES256", "sig", "EC", "P-256") for k in keys)


def test_a_qr_token_is_a_compact_es256_jws_naming_the_code_and_its_expiry():
    token, expires = qr_tokens.issue("code-1", NOW, TTL)
    header, claims = jwt.get_unverified_header(token), claims_of(token)
    assert expires == NOW + TTL
    assert claims == {"sub": "code-1", "exp": NOW + TTL}
    assert header == {"alg": "ES256", "kid": qr_tokens.key_ring(TTL).signing_kid}      # no "typ": every byte counts
    assert qr_tokens.verify(token, TTL, NOW) == "code-1"


def test_a_qr_token_verifies_offline_with_the_published_keys():
    token, _ = qr_tokens.issue("code-2", NOW, TTL)
    published = {k["kid"]: k for k in qr_tokens.jwks(TTL)["keys"]}
    jwk = published[jwt.get_unverified_header(token)["kid"]]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in jwk
    key = jwt.PyJWK(jwk)
    assert jwt.decode(token, key, algorithms=["ES256"], options={"verify_exp": False})["sub"] == "code-2"


def test_a_qr_token_counts_until_5_seconds_after_its_expiry():
    token, expires = qr_tokens.issue("code-3", NOW, TTL)
    assert qr_tokens.verify(token, TTL, expires + 4) == "code-3"
    with pytest.raises(TokenRejected) as rejected:
        qr_tokens.verify(token, TTL, expires + 5)
    assert rejected.value.reason == "expired" and "refresh" in rejected.value.message


@pytest.mark.parametrize("exp, now, expired", [
    (100, 104, False), (100, 105, True), (100.5, 105, False), (100.5, 106, True), ("100", 0, True),
    (True, 0, True), (None, 0, True), ([100], 0, True),
])
def test_expiry_is_a_number_of_seconds_and_anything_else_has_expired(exp, now, expired):
    assert qr_tokens.is_expired(exp, now) is expired


def sign_with_our_key(claims: dict[str, Any], **header: Any) -> str:
    ring = qr_tokens.key_ring(TTL)
    return jwt.encode(claims, ring.signing_key, algorithm="ES256", headers={"kid": ring.signing_kid, **header})


def test_a_tampered_forged_or_misshapen_qr_token_is_refused_with_its_reason():
    token, _ = qr_tokens.issue("code-4", NOW, TTL)
    head, body, signature = token.split(".")
    other = ec.generate_private_key(ec.SECP256R1())
    ring = qr_tokens.key_ring(TTL)
    cases = {
        "bad_signature": [
            f"{head}.{b64url(json.dumps({'sub': 'code-5', 'exp': NOW + TTL}).encode())}.{signature}",
            jwt.encode({"sub": "code-4", "exp": NOW + TTL}, other, algorithm="ES256",
                       headers={"kid": ring.signing_kid}),
            jwt.encode({"sub": "code-4", "exp": NOW + TTL}, b"k" * 32, algorithm="HS256",
                       headers={"kid": ring.signing_kid}),
        ],
        "unknown_key": [
            jwt.encode({"sub": "code-4", "exp": NOW + TTL}, other, algorithm="ES256", headers={"kid": "zz~"}),
            jwt.encode({"sub": "code-4", "exp": NOW + TTL}, other, algorithm="ES256"),
        ],
        "malformed": [
            "not-a-token", "", f"{head}.{body}", sign_with_our_key({"exp": NOW + TTL}),
            hand_made({"alg": "ES256", "kid": 7}, {"sub": "code-4", "exp": NOW + TTL}),
            sign_with_our_key({"sub": "code-4"}), sign_with_our_key({"sub": 12345, "exp": NOW + TTL}),
        ],
    }
    for reason, tokens in cases.items():
        for bad in tokens:
            with pytest.raises(TokenRejected) as rejected:
                qr_tokens.verify(bad, TTL, NOW)
            assert rejected.value.reason == reason, (bad, rejected.value.reason)
            assert rejected.value.message and str(rejected.value) == rejected.value.message


def bundle_with(*keys: keyring.SigningKeyRecord) -> keyring.SecretBundle:
    current = keyring.bundle()
    return keyring.SecretBundle(current.pepper, current.session_key, current.code_key, current.client_key, keys,
                                loaded_at=123.0)


def key(kid: str, created: int, retired: int | None = None, signs_from: int | None = None
        ) -> keyring.SigningKeyRecord:
    fresh = keyring.new_signing_key(created)
    return keyring.SigningKeyRecord(kid, fresh.private_pem, created, retired, signs_from)


def test_the_key_ring_signs_with_the_newest_key_that_has_started_and_publishes_every_key_still_needed():
    old = key("aa", NOW - 1000, retired=NOW - 10)            # retired 10 s ago: its tokens may still be live
    gone = key("bb", NOW - 5000, retired=NOW - TTL - 6)       # every token it signed has expired
    current = key("cc", NOW - 500, signs_from=NOW - 10)
    scheduled = key("dd", NOW - 5, signs_from=NOW + 600)       # published now, signs later
    ring = qr_tokens._build_ring(bundle_with(old, gone, current, scheduled), TTL, NOW)
    assert ring.signing_kid == "cc"
    assert set(ring.public_keys) == {"aa", "cc", "dd"} == {k["kid"] for k in ring.jwks["keys"]}
    assert ring.rebuild_at == NOW + 600
    assert ring.loaded_at == 123.0
    just_kept = key("ee", NOW - 5000, retired=NOW - TTL - 5)
    assert "ee" in qr_tokens._build_ring(bundle_with(just_kept, current), TTL, NOW).public_keys
    # at the moment a scheduled key starts it signs, and the one before it stops
    later = qr_tokens._build_ring(bundle_with(key("cc", NOW - 500, retired=NOW + 600), scheduled), TTL, NOW + 600)
    assert later.signing_kid == "dd" and later.rebuild_at is None


def test_a_key_ring_without_a_key_that_may_sign_now_is_an_error():
    with pytest.raises(RuntimeError, match="^no active QR signing key in the secret bundle$"):
        qr_tokens._build_ring(bundle_with(key("aa", NOW, signs_from=NOW + 1)), TTL, NOW)
    with pytest.raises(RuntimeError):
        qr_tokens._build_ring(bundle_with(key("aa", NOW - 10, retired=NOW)), TTL, NOW)


@pytest.fixture
def own_secrets(tmp_path, monkeypatch) -> Iterator[None]:
    """A secrets file of this test's own, so rotating keys leaves the session's alone."""
    monkeypatch.setattr(keyring, "_bundle", None)
    settings.override(secrets_dir=str(tmp_path / "secrets"))
    yield
    keyring._bundle = None


def test_after_a_rotation_a_token_of_the_old_key_verifies_and_new_tokens_use_the_new_key(own_secrets):
    before, _ = qr_tokens.issue("code-6", NOW, TTL)
    fresh = keyring.rotate_signing_key(NOW)
    after, _ = qr_tokens.issue("code-6", NOW, TTL)
    assert jwt.get_unverified_header(after)["kid"] == fresh.kid != jwt.get_unverified_header(before)["kid"]
    assert qr_tokens.verify(before, TTL, NOW) == qr_tokens.verify(after, TTL, NOW) == "code-6"


def test_a_kid_rotated_in_by_another_container_is_looked_up_again_but_not_on_every_forged_token(own_secrets,
                                                                                                monkeypatch):
    qr_tokens.issue("code-7", NOW, TTL)                   # this container's ring is built
    elsewhere = keyring.new_signing_key(NOW, frozenset(k.kid for k in keyring.bundle().signing_keys))
    current = keyring.bundle()
    rotated = keyring.SecretBundle(current.pepper, current.session_key, current.code_key, current.client_key,
                                   current.signing_keys + (elsewhere,), retired_kids=current.retired_kids)
    keyring._write(rotated, None)                         # another container rotated: the file changed
    signing = serialization.load_pem_private_key(elsewhere.private_pem.encode(), password=None)
    token = jwt.encode({"sub": "code-7", "exp": NOW + TTL}, signing, algorithm="ES256",
                       headers={"kid": elsewhere.kid})
    monkeypatch.setattr(qr_tokens, "_last_forced_reload", time.time())     # a forced reload just happened
    with pytest.raises(TokenRejected) as rejected:
        qr_tokens.verify(token, TTL, NOW)
    assert rejected.value.reason == "unknown_key"
    monkeypatch.setattr(qr_tokens, "_last_forced_reload", time.time() - qr_tokens.UNKNOWN_KID_RELOAD_SECONDS - 1)
    assert qr_tokens.verify(token, TTL, NOW) == "code-7"


# --- provinces' code tokens -------------------------------------------------------------------------------

@pytest.fixture
def trust_list(monkeypatch) -> dict[str, ProvinceKeys | None]:
    """The provinces' registered keys, as `keys_of` would have read them from the provinces table (its reading
    and caching are tested through the API in test_provinces.py): verifying a token is the rule tested here."""
    listed: dict[str, ProvinceKeys | None] = {}
    monkeypatch.setattr(province_tokens, "keys_of", lambda province: listed.get(province))
    return listed


def registered(private: Any, kid: str, **window: int) -> dict[str, Any]:
    if isinstance(private, ec.EllipticCurvePrivateKey):
        jwk, alg = json.loads(ECAlgorithm.to_jwk(private.public_key())), "ES256"
    else:
        jwk, alg = json.loads(OKPAlgorithm.to_jwk(private.public_key())), "EdDSA"
    return {**jwk, "kid": kid, "alg": alg, **window}


def province_token(private: Any, kid: str, province: str = "44", **claims: Any) -> str:
    alg = "ES256" if isinstance(private, ec.EllipticCurvePrivateKey) else "EdDSA"
    body = {"iss": f"province:{province}", "sub": "gd-local-1", "exp": NOW + 3600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, private, algorithm=alg,
                      headers={"kid": kid})


def key_set(keys: list[dict[str, Any]], revoked: tuple[str, ...] = ()) -> provinces.KeySet:
    """A province's registered keys as the store returns them."""
    return provinces.KeySet("44", tuple(keys), tuple(provinces.Revoked(kid, NOW - 60) for kid in revoked), NOW - 60,
                            None, 1)


def test_a_province_token_signed_with_a_registered_key_names_the_province_and_its_local_code(trust_list):
    es, ed = ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate()
    trust_list["44"] = province_tokens.parse_keys(key_set([registered(es, "gd-1"), registered(ed, "gd-2")]))
    assert province_tokens.verify(province_token(es, "gd-1"), NOW) == ("44", "gd-local-1")
    assert province_tokens.verify(province_token(ed, "gd-2"), NOW) == ("44", "gd-local-1")


def test_a_province_token_is_refused_with_the_reason_a_checkpoint_shows(trust_list):
    es, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    trust_list["44"] = province_tokens.parse_keys(key_set(
        [registered(es, "gd-1"), registered(es, "gd-later", nbf=NOW + 1), registered(es, "gd-old", exp=NOW),
         registered(ed, "gd-ed")], revoked=("gd-0",)))
    trust_list["51"] = province_tokens.parse_keys(key_set([]))
    cases = {
        "key_revoked": province_token(es, "gd-0"),
        "unknown_key": province_token(es, "gd-9"),
        "key_not_yet_valid": province_token(es, "gd-later"),
        "key_expired": province_token(es, "gd-old"),
        "bad_signature": province_token(other, "gd-1"),
        "expired": province_token(es, "gd-1", exp=NOW - 5),
        "malformed": province_token(es, "gd-1", sub=None),
    }
    for reason, token in cases.items():
        with pytest.raises(TokenRejected) as rejected:
            province_tokens.verify(token, NOW)
        assert rejected.value.reason == reason, (reason, rejected.value.reason)
    # a key used with another algorithm than it was registered for
    with pytest.raises(TokenRejected, match="EdDSA") as rejected:
        province_tokens.verify(jwt.encode({"iss": "province:44", "sub": "x", "exp": NOW + 60}, es, algorithm="ES256",
                                          headers={"kid": "gd-ed"}), NOW)
    assert rejected.value.reason == "bad_signature"
    for province, reason in (("51", "unknown_province"), ("52", "unknown_province"), ("4", "unknown_province"),
                             ("4" * 3000, "unknown_province")):
        with pytest.raises(TokenRejected) as rejected:
            province_tokens.verify(province_token(es, "gd-1", province=province), NOW)
        assert rejected.value.reason == reason, province
    for no_issuer in (jwt.encode({"sub": "x", "exp": NOW + 60}, es, algorithm="ES256", headers={"kid": "gd-1"}),
                      province_token(es, "gd-1", iss="44")):
        with pytest.raises(TokenRejected) as rejected:
            province_tokens.verify(no_issuer, NOW)
        assert rejected.value.reason == "unknown_key"


def test_a_province_keys_window_is_its_first_valid_second_to_its_last(trust_list):
    es = ec.generate_private_key(ec.SECP256R1())
    trust_list["44"] = province_tokens.parse_keys(key_set([registered(es, "gd-1", nbf=NOW, exp=NOW + 10)]))
    token = province_token(es, "gd-1", exp=NOW + 3600)
    assert province_tokens.verify(token, NOW) == ("44", "gd-local-1")
    assert province_tokens.verify(token, NOW + 9) == ("44", "gd-local-1")
    for moment, reason in ((NOW - 1, "key_not_yet_valid"), (NOW + 10, "key_expired")):
        with pytest.raises(TokenRejected) as rejected:
            province_tokens.verify(token, moment)
        assert rejected.value.reason == reason


def test_a_key_revoked_and_registered_again_under_its_kid_verifies():
    es = ec.generate_private_key(ec.SECP256R1())
    keys = province_tokens.parse_keys(key_set([registered(es, "gd-1", nbf=5)], revoked=("gd-1",)))
    assert keys is not None and keys.revoked == frozenset({"gd-1"})
    key_, alg, not_before, not_after = keys.keys["gd-1"]
    assert (alg, not_before, not_after) == ("ES256", 5, None)
    assert province_tokens.parse_keys(None) is None
    assert province_tokens.parse_keys(key_set([])) == ProvinceKeys({}, frozenset())


def test_the_issuer_is_read_only_to_pick_the_keys():
    es = ec.generate_private_key(ec.SECP256R1())
    assert province_tokens.issuer_province(province_token(es, "k", province="44")) == "44"
    assert province_tokens.issuer_province(province_token(es, "k", iss="44")) is None
    assert province_tokens.issuer_province(province_token(es, "k", iss=None)) is None
    assert province_tokens.issuer_province(hand_made({"alg": "ES256", "kid": "k"}, {"iss": 44})) is None
    assert province_tokens.issuer_province("garbage") is None
    assert province_tokens.names_a_local_code("gd-local_1.2:3") and not province_tokens.names_a_local_code("a b")


# --- who a citizen is ----------------------------------------------------------------------------------------

def test_a_self_asserted_identity_is_taken_on_the_test_stage_only():
    assert identity.from_self_assertion("王小明", "510104199001011230", "13800000000") == identity.Identity(
        "王小明", "510104199001011230")
    settings.override(stage="prod")
    with pytest.raises(Forbidden) as refused:
        identity.from_self_assertion("王小明", "510104199001011230", "13800000000")
    assert refused.value.code == "self_assertion_disabled"


@pytest.fixture
def idp() -> Any:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = {**json.loads(ECAlgorithm.to_jwk(private.public_key())), "kid": "idp-1"}
    settings.override(idp_issuer="https://idp.example", idp_audience="healthcode",
                      idp_jwks=json.dumps({"keys": [jwk]}))
    return private


def id_token(private: Any, kid: str = "idp-1", **changes: Any) -> str:
    claims = {"iss": "https://idp.example", "aud": "healthcode", "sub": "u1", "exp": NOW + 600,
              "name": "王小明", "id_number": "510104199001011230", **changes}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, private, algorithm="ES256",
                      headers={"kid": kid})


def test_an_identity_providers_id_token_names_the_citizen(idp):
    # PyJWT checks exp against the wall clock here: the token's is set from it
    later = int(time.time()) + 600
    assert identity.from_id_token(id_token(idp, exp=later)) == identity.Identity("王小明", "510104199001011230")
    assert identity.from_id_token(id_token(idp, exp=later, id_number="510104199001011230".lower())).id_number == \
        "510104199001011230"


def test_an_id_token_names_a_passport_holder_by_the_document_and_nationality_it_carries(idp):
    later = int(time.time()) + 600
    number = people.passport()
    held = identity.from_id_token(id_token(idp, exp=later, name="JOHN SMITH", document_type="passport",
                                           id_number=number, nationality="GBR"))
    assert held == identity.Identity("JOHN SMITH", number, DocumentType.PASSPORT, "GBR")
    with pytest.raises(Unauthenticated) as refused:   # a passport names the state that issued it
        identity.from_id_token(id_token(idp, exp=later, name="JOHN SMITH", document_type="passport",
                                        id_number=number))
    assert refused.value.code == "invalid_assertion"


def test_a_self_asserted_identity_keeps_its_document_and_nationality():
    number = people.passport()
    assert identity.from_self_assertion("JOHN SMITH", number, "13800000000", DocumentType.PASSPORT, "GBR") == \
        identity.Identity("JOHN SMITH", number, DocumentType.PASSPORT, "GBR")


def test_an_id_token_that_does_not_hold_up_is_refused(idp):
    later = int(time.time()) + 600
    other = ec.generate_private_key(ec.SECP256R1())
    for token in (id_token(idp, kid="idp-9", exp=later), id_token(other, exp=later),
                  id_token(idp, exp=int(time.time()) - 10), id_token(idp, exp=later, aud="other"),
                  id_token(idp, exp=later, iss="https://other.example"), id_token(idp, exp=later, sub=None),
                  id_token(idp, exp=later, id_number="510104199001011231"), id_token(idp, exp=later, id_number=None),
                  "garbage"):
        with pytest.raises(Unauthenticated) as refused:
            identity.from_id_token(token)
        assert refused.value.code == "invalid_assertion"
    for name in ("1234", None):     # a name that is none, or no name at all
        with pytest.raises(ValidationFailed) as refused:
            identity.from_id_token(id_token(idp, exp=later, name=name))
        assert refused.value.code == "invalid_assertion"


@pytest.mark.parametrize("private, algorithm, taken", [
    (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", True),
    (ec.generate_private_key(ec.SECP256R1()), "ES256", True),
    (ec.generate_private_key(ec.SECP384R1()), "ES384", False),
    (ed25519.Ed25519PrivateKey.generate(), "EdDSA", False),
])
def test_an_id_token_is_taken_under_rs256_or_es256_only_whatever_else_the_providers_jwks_publishes(
        private, algorithm, taken):
    jwk = {**json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(private.public_key())), "kid": "idp-1",
           "alg": algorithm}
    settings.override(idp_issuer="https://idp.example", idp_audience="healthcode",
                      idp_jwks=json.dumps({"keys": [jwk]}))
    claims = {"iss": "https://idp.example", "aud": "healthcode", "sub": "u1", "exp": int(time.time()) + 600,
              "name": "王小明", "id_number": "510104199001011230"}
    token = jwt.encode(claims, private, algorithm=algorithm, headers={"kid": "idp-1"})
    if taken:
        assert identity.from_id_token(token) == identity.Identity("王小明", "510104199001011230")
    else:
        with pytest.raises(Unauthenticated) as refused:
            identity.from_id_token(token)
        assert refused.value.code == "invalid_assertion"


def test_without_an_identity_provider_no_id_token_is_taken():
    for missing in ("idp_issuer", "idp_audience", "idp_jwks"):
        settings.override(idp_issuer="https://idp.example", idp_audience="healthcode", idp_jwks='{"keys": []}')
        settings.override(**{missing: None})
        with pytest.raises(Unauthenticated) as refused:
            identity.from_id_token("anything")
        assert refused.value.code == "idp_not_configured"
