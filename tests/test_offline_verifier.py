"""The checkpoint page's offline verifier (chalicelib/web/offline.js, WebCrypto) agrees with the server's
(`qr_tokens.verify`) on every case of the forged-token battery (tests/test_forged_tokens.py's forgeries, built
here case by case), run under Node.js 20, which has WebCrypto. Fast tier: no DynamoDB, only the test stage's
file-based keys, and `node`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import clock
from chalicelib.security import keyring, paper_tokens, qr_tokens
from chalicelib.settings import get_settings
from tests.test_forged_tokens import WRONG_KIDS, b64url, change_one_character, segment, signed_with

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parents[1]
OFFLINE_JS = ROOT / "chalicelib" / "web" / "offline.js"

RUNNER = r"""
const HCOffline = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const {jwks, trustList, cases} = JSON.parse(input);
  const out = [];
  for (const c of cases) out.push(await HCOffline.verify(c.token, {jwks, trustList}, c.now));
  process.stdout.write(JSON.stringify(out));
});
"""


def run_offline(jwks: dict[str, Any], cases: list[dict[str, Any]], trust_list: Any = None) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node (Node.js 20) is needed to run the page's offline verifier")
    done = subprocess.run([node, "-e", RUNNER, str(OFFLINE_JS)], input=json.dumps(
        {"jwks": jwks, "trustList": trust_list, "cases": cases}), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def server(token: str, now: int) -> tuple[str, str | None]:
    try:
        return "valid", qr_tokens.verify(token, get_settings().qr_token_ttl, now)
    except qr_tokens.TokenRejected as refused:
        return refused.reason, None


def battery() -> list[tuple[str, str, int]]:
    """(name, token, now): every forgery of test_forged_tokens.py, and the claims' edge cases."""
    ttl = get_settings().qr_token_ttl
    now = clock.now()
    genuine, expires = qr_tokens.issue("AAAAAAAAAAAAAAAB", now, ttl, color="yellow")
    plain, _ = qr_tokens.issue("AAAAAAAAAAAAAAAC", now, ttl)
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    h, p, s = genuine.split(".")
    ours = serialization.load_pem_private_key(
        next(k for k in keyring.bundle().signing_keys if k.kid == header["kid"]).private_pem.encode(), password=None)
    impostor = ec.generate_private_key(ec.SECP256R1())
    jwks = qr_tokens.jwks(ttl)
    public = jwt.PyJWKSet.from_dict(jwks)[header["kid"]].key
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_input = f"{segment({'alg': 'HS256', 'kid': header['kid'], 'typ': 'JWT'})}.{segment(claims)}"
    cases = [
        ("genuine, with its color", genuine, now),
        ("genuine, without a color", plain, now),
        ("genuine, last second of the leeway", genuine, expires + qr_tokens.LEEWAY_SECONDS - 1),
        ("expired past the leeway", genuine, expires + qr_tokens.LEEWAY_SECONDS),
        ("expired long ago", genuine, expires + 3600),
        ("one character of the signature", ".".join((h, p, change_one_character(s, len(s) // 2))), now),
        ("one character of the payload", ".".join((h, change_one_character(p, len(p) // 2), s)), now),
        ("another key under our kid", jwt.encode(claims, impostor, algorithm="ES256",
                                                 headers={"kid": header["kid"]}), now),
        ("alg none", f"{segment({'alg': 'none', 'kid': header['kid']})}.{segment(claims)}.", now),
        ("HS256 keyed with our public key",
         f"{hs_input}.{b64url(hmac.new(pem, hs_input.encode(), hashlib.sha256).digest())}", now),
        ("a kid we never had", jwt.encode(claims, impostor, algorithm="ES256", headers={"kid": "zz-nokey"}), now),
        ("no kid", jwt.encode(claims, impostor, algorithm="ES256"), now),
        ("truncated signature", ".".join((h, p, s[:40])), now),
        ("empty signature", ".".join((h, p, "")), now),
        ("our key, payload not JSON", _signed_raw(ours, header, b"not json"), now),
        ("our key, no exp", signed_with(ours, header, {"sub": "AAAAAAAAAAAAAAAB"}), now),
        ("our key, no sub", signed_with(ours, header, {"exp": now + 60}), now),
        ("our key, sub a number", signed_with(ours, header, {"sub": 7, "exp": now + 60}), now),
        ("our key, exp a string", signed_with(ours, header, {"sub": "AAAAAAAAAAAAAAAB", "exp": "later"}), now),
        ("our key, color out of range", signed_with(ours, header, {"sub": "AAAAAAAAAAAAAAAB", "exp": now + 60,
                                                                   "c": 7}), now),
        ("our key, iat in the future", signed_with(ours, header, {"sub": "AAAAAAAAAAAAAAAB", "exp": now + 60,
                                                                  "iat": now + 3600, "c": 0}), now),
        ("our key, payload a list", _signed_raw(ours, header, b"[1]"), now),
    ]
    for garbage in ("hello", "not.a.token", "eyJhbGciOiJFUzI1NiJ9", "....", "健康码", "a.b.c", ""):
        cases.append((f"garbage {garbage!r}", garbage, now))
    for i, kid in enumerate(WRONG_KIDS):
        cases.append((f"kid of type {type(kid).__name__} #{i}", signed_with(impostor, {"alg": "ES256", "kid": kid},
                                                                             claims), now))
        cases.append((f"provincial, kid of type {type(kid).__name__} #{i}",
                      signed_with(impostor, {"alg": "ES256", "kid": kid},
                                  {"iss": "province:51", "sub": "sc-1", "exp": now + 60}), now))
    return cases


def _signed_raw(private: Any, header: dict[str, Any], payload: bytes) -> str:
    signing_input = f"{segment(header)}.{b64url(payload)}"
    signature = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256).sign(signing_input.encode(), private)
    return f"{signing_input}.{b64url(signature)}"


def test_the_browser_and_the_server_agree_on_every_forged_token():
    cases = battery()
    jwks = qr_tokens.jwks(get_settings().qr_token_ttl)
    answers = run_offline(jwks, [{"token": token, "now": now} for _, token, now in cases])
    disagreements = []
    for (name, token, now), offline in zip(cases, answers, strict=True):
        said, code_id = server(token, now)
        browser = ("valid", offline["sub"]) if offline["valid"] else (offline["reason"], None)
        if browser != (said, code_id):
            disagreements.append(f"{name}: server {said} {code_id}, browser {browser}")
    assert not disagreements, "\n".join(disagreements)
    # the battery is not all one outcome: each reason the server gives is met
    outcomes = {server(token, now)[0] for _, token, now in cases}
    assert outcomes == {"valid", "expired", "bad_signature", "unknown_key", "malformed"}


def test_the_browser_reads_the_signed_color_and_when_it_was_computed():
    ttl = get_settings().qr_token_ttl
    now = clock.now()
    tokens = [qr_tokens.issue("AAAAAAAAAAAAAAAB", now, ttl, color=c)[0] for c in ("green", "yellow", "red")]
    tokens.append(qr_tokens.issue("AAAAAAAAAAAAAAAB", now, ttl)[0])
    answers = run_offline(qr_tokens.jwks(ttl), [{"token": t, "now": now} for t in tokens])
    assert [a["color"] for a in answers] == ["green", "yellow", "red", None]
    assert [a["iat"] for a in answers] == [now, now, now, None]
    assert {a["issuer"] for a in answers} == {"national"}


def test_a_province_token_verifies_offline_against_the_trust_list():
    now = clock.now()
    active, revoked, stranger = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))

    def jwk(private: Any, kid: str, **extra: Any) -> dict[str, Any]:
        return {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key())), "kid": kid, "alg": "ES256",
                "use": "sig", "status": "active", **extra}

    trust = {"provinces": {"51": {"keys": [jwk(active, "sc-a"), jwk(stranger, "sc-late", nbf=now + 600)],
                                  "revoked": [{"kid": "sc-gone", "at": now - 60}]}}}

    def token(private: Any, kid: str, province: str = "51", **claims: Any) -> str:
        return jwt.encode({"iss": f"province:{province}", "sub": "sc-1", "exp": now + 60, **claims}, private,
                          algorithm="ES256", headers={"kid": kid})

    cases = [token(active, "sc-a", c=2), token(active, "sc-a"), token(revoked, "sc-gone"), token(stranger, "sc-a"),
             token(stranger, "sc-late"), token(active, "sc-a", province="44"), token(active, "sc-x"),
             token(active, "sc-a", exp=now - 60)]
    answers = run_offline({"keys": []}, [{"token": t, "now": now} for t in cases], trust)
    said = [(a["issuer"], a["color"]) if a["valid"] else a["reason"] for a in answers]
    assert said == [("province:51", "red"), ("province:51", None), "key_revoked", "bad_signature",
                    "key_not_yet_valid", "unknown_province", "unknown_key", "expired"]


# --- paper codes, the revocation list, entry rules (docs/identity.md "Paper codes"; tests-and-vaccinations.md) -----

CALLER = r"""
const HCOffline = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const out = [];
  for (const [name, args] of JSON.parse(input)) {
    try { out.push(await HCOffline[name](...args)); } catch (e) { out.push({refused: e.reason || String(e)}); }
  }
  process.stdout.write(JSON.stringify(out));
});
"""


def call_offline(calls: list[tuple[str, list[Any]]]) -> list[Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node (Node.js 20) is needed to run the page's offline verifier")
    done = subprocess.run([node, "-e", CALLER, str(OFFLINE_JS)], input=json.dumps(calls), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def published_jwks() -> dict[str, Any]:
    """/.well-known/jwks.json: the QR keys and the paper codes' key (api/keys.py)."""
    return {"keys": [*qr_tokens.jwks(get_settings().qr_token_ttl)["keys"], paper_tokens.jwk()]}


def server_any(token: str, now: int) -> tuple[str, str | None]:
    """The server's order (services/verifications.py): a QR token, else a paper code under `pc1`."""
    try:
        return "valid", qr_tokens.verify(token, get_settings().qr_token_ttl, now)
    except qr_tokens.TokenRejected as refused:
        if refused.reason in ("unknown_key", "malformed") and paper_tokens.is_paper(token):
            try:
                return "valid", paper_tokens.verify(token, now).code_id
            except qr_tokens.TokenRejected as paper_refused:
                return paper_refused.reason, None
        return refused.reason, None


def paper_battery() -> list[tuple[str, str, int]]:
    now = clock.now()
    claims = paper_tokens.PaperClaims("AAAAAAAAAAAAAAAB", "402816573924", now - 3600, now + 14 * 86400, "yellow")
    genuine = paper_tokens.issue(claims)
    private = paper_tokens._ring()[0]
    header = {"alg": "ES256", "kid": paper_tokens.KID, "typ": paper_tokens.TYP}
    body = jwt.decode(genuine, options={"verify_signature": False})
    h, p, s = genuine.split(".")
    qr_header = jwt.get_unverified_header(qr_tokens.issue("AAAAAAAAAAAAAAAB", now, 60)[0])
    qr_private = serialization.load_pem_private_key(
        next(k for k in keyring.bundle().signing_keys if k.kid == qr_header["kid"]).private_pem.encode(), password=None)
    impostor = ec.generate_private_key(ec.SECP256R1())
    return [
        ("genuine paper code", genuine, now),
        ("paper code, last second of the leeway", genuine, claims.expires_at + qr_tokens.LEEWAY_SECONDS - 1),
        ("paper code expired", genuine, claims.expires_at + qr_tokens.LEEWAY_SECONDS),
        ("paper code, one character of the signature", ".".join((h, p, change_one_character(s, len(s) // 2))), now),
        ("paper code, one character of the payload", ".".join((h, change_one_character(p, len(p) // 2), s)), now),
        ("another key under pc1", signed_with(impostor, header, body), now),
        ("pc1 without the paper typ", signed_with(private, {"alg": "ES256", "kid": paper_tokens.KID}, body), now),
        ("pc1 with a QR token's claims", signed_with(private, header, {"sub": "AAAAAAAAAAAAAAAB", "exp": now + 60,
                                                                       "c": 0}), now),
        ("pc1, col null", signed_with(private, header, {**body, "col": None}), now),
        ("pc1, pc a number", signed_with(private, header, {**body, "pc": 402816573924}), now),
        ("pc1, sub a number", signed_with(private, header, {**body, "sub": 7}), now),
        ("pc1, payload not JSON", _signed_raw(private, header, b"not json"), now),
        ("a QR key signing a paper code", signed_with(qr_private, {**header, "kid": qr_header["kid"]}, body), now),
        ("the paper key under a QR kid", signed_with(private, {**header, "kid": qr_header["kid"]}, body), now),
        ("pc1, alg none", f"{segment({'alg': 'none', 'kid': paper_tokens.KID, 'typ': paper_tokens.TYP})}."
                          f"{segment(body)}.", now),
    ]


def test_the_browser_and_the_server_agree_on_every_forged_paper_code():
    cases = paper_battery()
    answers = call_offline([("verify", [token, {"jwks": published_jwks()}, now]) for _, token, now in cases])
    disagreements = []
    for (name, token, now), offline in zip(cases, answers, strict=True):
        said, code_id = server_any(token, now)
        browser = ("valid", offline["sub"]) if offline["valid"] else (offline["reason"], None)
        if browser != (said, code_id):
            disagreements.append(f"{name}: server {said} {code_id}, browser {browser}")
    assert not disagreements, "\n".join(disagreements)
    assert {server_any(token, now)[0] for _, token, now in cases} == {"valid", "expired", "bad_signature",
                                                                       "malformed"}
    genuine, printed = answers[0], jwt.decode(cases[0][1], options={"verify_signature": False})
    assert genuine["printed"] is True and genuine["color"] == "yellow", genuine
    assert genuine["paper"] == {"number": "402816573924", "valid_until": printed["exp"], "color_at_issue": "yellow",
                                "issued_at": printed["iat"]}
    # a typed number needs the platform
    assert call_offline([("verify", ["402816573924", {}])]) == [{"valid": False, "reason": "number_offline"}]
    # the browser's constants are the server's
    source = OFFLINE_JS.read_text()
    for constant in (f'PAPER_KID = "{paper_tokens.KID}"', f'PAPER_TYP = "{paper_tokens.TYP}"',
                     f'REVOCATIONS_TYP = "{paper_tokens.LIST_TYP}"'):
        assert constant in source


def test_a_paper_code_on_the_held_revocation_list_is_refused_offline():
    now = clock.now()
    numbers = ["402816573924", "100000000008"]
    token = paper_tokens.issue(paper_tokens.PaperClaims("AAAAAAAAAAAAAAAB", numbers[0], now, now + 86400, "green"))
    page = paper_tokens.sign_list({"iss": "x", "iat": now, "since": 0, "sequence": 2, "latest": 2, "complete": True,
                                   "next_update": now + 300,
                                   "revoked": [{"seq": 1, "number": numbers[0], "revoked_at": now, "exp": now + 86400},
                                               {"seq": 2, "number": numbers[1], "revoked_at": now, "exp": now - 60}]})
    jwks = published_jwks()
    held, wrong_since, by_qr_key = call_offline([
        ("revocations", [page, jwks, {"sequence": 0, "entries": {}}, now]),
        ("revocations", [page, jwks, {"sequence": 1, "entries": {}}, now]),
        ("revocations", [jwt.encode(jwt.decode(page, options={"verify_signature": False}),
                                    serialization.load_pem_private_key(keyring.bundle().signing_keys[0].private_pem
                                                                       .encode(), password=None),
                                    algorithm="ES256", headers={"kid": paper_tokens.KID,
                                                                "typ": paper_tokens.LIST_TYP}), jwks,
                         {"sequence": 0, "entries": {}}, now]),
    ])
    # the expired entry is dropped; a page answering another `since`, or not under pc1, is not used
    assert held == {"sequence": 2, "entries": {numbers[0]: now + 86400}, "complete": True, "next_update": now + 300,
                    "iat": now}
    assert wrong_since == {"refused": "malformed"} and by_qr_key == {"refused": "bad_signature"}
    revoked, fine = call_offline([("verify", [token, {"jwks": jwks, "revoked": list(held["entries"])}, now]),
                                  ("verify", [token, {"jwks": jwks, "revoked": [numbers[1]]}, now])])
    assert revoked == {"valid": False, "reason": "revoked"} and fine["valid"] is True


def test_the_rule_set_verifies_and_a_rule_is_judged_on_what_the_token_carries():
    from chalicelib.domain.colors import Color
    from chalicelib.domain.lab_results import EntryRule

    green_only, tested = EntryRule((Color.GREEN,)), EntryRule((Color.GREEN, Color.YELLOW), 48, 2)
    now = clock.now()
    ring = qr_tokens.key_ring(get_settings().qr_token_ttl)
    claims = {"iss": "x", "purpose": "entry_rules", "version": 2, "iat": now, "exp": now + 7 * 86400,
              "rules": [{"rule_id": r.rule_id, **r.canonical(), "since": now} for r in (green_only, tested)]}
    signed = jwt.encode(claims, ring.signing_key, algorithm="ES256", headers={"kid": ring.signing_kid,
                                                                               "typ": "entry-rules+jwt"})
    by_paper_key = jwt.encode(claims, paper_tokens._ring()[0], algorithm="ES256",
                              headers={"kid": paper_tokens.KID, "typ": "entry-rules+jwt"})
    untyped = jwt.encode(claims, ring.signing_key, algorithm="ES256", headers={"kid": ring.signing_kid})
    jwks = published_jwks()
    rule_set, expired, wrong_key, no_typ, id1, id2 = call_offline([
        ("ruleSet", [signed, jwks, now]), ("ruleSet", [signed, jwks, now + 8 * 86400]),
        ("ruleSet", [by_paper_key, jwks, now]), ("ruleSet", [untyped, jwks, now]),
        ("ruleId", [green_only.claims()]), ("ruleId", [tested.claims()])])
    assert rule_set["rules"] == claims["rules"] and rule_set["exp"] == now + 7 * 86400
    assert (expired, wrong_key, no_typ) == ({"refused": "expired"}, {"refused": "bad_signature"},
                                            {"refused": "bad_signature"})
    assert (id1, id2) == (green_only.rule_id, tested.rule_id)   # the server's names, from the token's claim

    green_rule, tested_rule = claims["rules"]
    judged = call_offline([("judge", [green_rule, {"color": c}]) for c in ("green", "yellow", None)]
                          + [("judge", [green_rule, {"color": "green", "printed": True}]),
                             ("judge", [tested_rule, {"color": "yellow"}]), ("judge", [tested_rule, {"color": "red"}])])
    summary = [(j["admit"], [u["code"] for u in j["unmet"]], [u["code"] for u in j["unchecked"]]) for j in judged]
    assert summary == [
        (True, [], []),
        (False, ["color_not_admitted"], []),
        (None, [], ["color_not_admitted"]),                         # no color offline: check in person
        (None, [], ["color_not_admitted"]),                         # a printed color never admits
        (None, [], ["negative_test_within_48h", "min_doses_2"]),    # never admitted on what it cannot check
        (False, ["color_not_admitted"], ["negative_test_within_48h", "min_doses_2"]),
    ]
    test_requirement = judged[4]["unchecked"][0]
    assert "需人工核验" in test_requirement["message"] and "in person" in test_requirement["message_en"]
