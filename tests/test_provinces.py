"""Provinces: a worker from Sichuan travels to Guangdong; data sharing, mutual recognition, audited look-ups."""
from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from chalicelib import clock
from chalicelib.security.access import Role
from tests import people
from tests.conftest import auth, client_token, dump


@pytest.fixture
def province(client):
    return lambda code: auth(client_token(client, Role.PROVINCE, province=code))


def ec_key(kid: str, **extra):
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = {**json.loads(ECAlgorithm.to_jwk(private.public_key())), "kid": kid, **extra}
    return private, jwk


def provincial_token(private, kid: str, province: str, local_code_id: str, ttl: int = 300, alg: str = "ES256") -> str:
    return jwt.encode({"iss": f"province:{province}", "sub": local_code_id, "exp": clock.now() + ttl},
                      private, algorithm=alg, headers={"kid": kid})


def local_code(id_number: str, color: str, version: int, local_code_id: str | None = None) -> dict:
    now = clock.now()
    return {"id_number": id_number, "color": color, "local_code_id": local_code_id or f"sc-{id_number[-6:]}",
            "issued_at": now - 3600, "updated_at": now, "version": version}


def verify(client, headers, token):
    return client.post("/v1/verifications", headers=headers,
                       body=dump({"token": token, "checkpoint_id": "gz-gate-1"})).json_body


def test_a_sichuan_worker_is_recognised_in_guangdong(client, citizen, checkpoint, province, pump):
    worker = citizen(people.in_province("51"), "李建国")
    assert worker.apply().json_body["color"] == "green"
    sichuan, guangdong = province("51"), province("44")

    # Sichuan's medical review institution shares a record: under observation
    record = {"id_number": worker.id_number, "record_id": "cd-hosp-1-0001", "status": "under_observation",
              "institution": "成都市第一人民医院", "issued_at": clock.now(), "version": 1}
    pushed = client.post("/v1/sync/health-records", headers=sichuan,
                         body=dump({"province": "51", "records": [record]}))
    assert pushed.status_code == 200 and pushed.json_body["written"] == 1
    pump.drain()
    risk = client.get("/v1/me/risk", headers=worker.headers).json_body
    assert risk["color"] == "yellow" and [r["code"] for r in risk["reasons"]] == ["medical_under_observation"]

    # Sichuan's local code for the worker is yellow too; the citizen sees the codes they hold
    client.post("/v1/sync/local-codes", headers=sichuan,
                body=dump({"province": "51", "records": [local_code(worker.id_number, "yellow", 1, "sc-0001")]}))
    pump.drain()
    held = client.get("/v1/me/local-codes", headers=worker.headers).json_body["local_codes"]
    assert [(c["province"], c["color"], c["local_code_id"]) for c in held] == [("51", "yellow", "sc-0001")]
    assert {r["source"] for r in client.get("/v1/me/risk", headers=worker.headers).json_body["reasons"]} == {
        "medical_status", "local_code"}

    # Guangdong looks the worker up on arrival, and the look-up is recorded for the worker to see
    looked = client.post("/v1/sync/lookups", headers=guangdong,
                         body=dump({"id_numbers": [worker.id_number], "purpose": "返岗人员健康核验"}))
    assert looked.status_code == 200
    result = looked.json_body["results"][0]
    assert result["color"] == "yellow" and result["has_national_code"] is True
    assert result["reasons_by_category"] == {"medical_status": "yellow", "local_code": "yellow"}
    assert result["id_last4"] == worker.id_number[-4:] and worker.id_number not in dump(looked.json_body)
    assert [c["province"] for c in result["local_codes"]] == ["51"]
    seen = client.get("/v1/me/lookups", headers=worker.headers).json_body["lookups"]
    assert [(s["province"], s["purpose"]) for s in seen] == [("44", "返岗人员健康核验")]

    # Sichuan registers its key; a Guangdong checkpoint verifies a Sichuan-signed token
    private, jwk = ec_key("sc-2026-1")
    assert client.put("/v1/provinces/51/keys", headers=sichuan, body=dump({"keys": [jwk]})).status_code == 200
    verified = verify(client, checkpoint, provincial_token(private, "sc-2026-1", "51", "sc-0001"))
    assert verified["valid"] is True and verified["color"] == "yellow" and verified["issuer"] == "province:51"
    assert verified["id_last4"] == worker.id_number[-4:]

    # recovered: Sichuan's newer record lifts the observation; the consolidated color follows at the gate
    client.post("/v1/sync/health-records", headers=sichuan,
                body=dump({"province": "51", "records": [{**record, "status": "cleared", "version": 2,
                                                          "issued_at": clock.now() + 1}]}))
    client.post("/v1/sync/local-codes", headers=sichuan,
                body=dump({"province": "51", "records": [local_code(worker.id_number, "green", 2, "sc-0001")]}))
    clock.shift(2)
    pump.drain()
    assert client.get("/v1/codes/me", headers=worker.headers).json_body["color"] == "green"
    assert verify(client, checkpoint, provincial_token(private, "sc-2026-1", "51", "sc-0001"))["color"] == "green"


def test_a_batch_with_one_bad_record_writes_nothing(client, citizen, province):
    people_ = [citizen(people.in_province("51")) for _ in range(3)]
    records = [local_code(p.id_number, "green", 1) for p in people_]
    records[1] = {**records[1], "color": "purple"}
    refused = client.post("/v1/sync/local-codes", headers=province("51"),
                          body=dump({"province": "51", "records": records}))
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json_body["error"]["details"]] == ["records.1.color"]
    for person in people_:
        assert client.get("/v1/me/local-codes", headers=person.headers).json_body["local_codes"] == []


def test_stale_versions_are_ignored_and_a_replay_changes_nothing(client, citizen, province):
    person = citizen(people.in_province("51"))
    sichuan = province("51")
    batch = {"province": "51", "records": [local_code(person.id_number, "red", 5)]}
    first = client.post("/v1/sync/local-codes", headers=sichuan, body=dump(batch)).json_body
    assert (first["written"], first["stale"]) == (1, [])
    replay = client.post("/v1/sync/local-codes", headers=sichuan, body=dump(batch)).json_body
    assert replay["written"] == 0 and [s["index"] for s in replay["stale"]] == [0]
    older = {"province": "51", "records": [local_code(person.id_number, "green", 4)]}
    assert client.post("/v1/sync/local-codes", headers=sichuan, body=dump(older)).json_body["written"] == 0
    held = client.get("/v1/me/local-codes", headers=person.headers).json_body["local_codes"]
    assert [c["color"] for c in held] == ["red"]


def test_a_province_stays_in_its_own_code_space(client, citizen, province):
    person = citizen(people.in_province("51"))
    guangdong = province("44")
    pushed = client.post("/v1/sync/local-codes", headers=guangdong,
                         body=dump({"province": "51", "records": [local_code(person.id_number, "red", 1)]}))
    assert pushed.status_code == 403 and pushed.json_body["error"]["code"] == "outside_province"
    _, jwk = ec_key("gd-fake")
    keys = client.put("/v1/provinces/51/keys", headers=guangdong, body=dump({"keys": [jwk]}))
    assert keys.status_code == 403
    assert client.get("/v1/me/local-codes", headers=person.headers).json_body["local_codes"] == []


def test_only_registered_live_keys_verify(client, citizen, checkpoint, province):
    person = citizen(people.in_province("32"))
    person.apply()
    jiangsu = province("32")
    client.post("/v1/sync/local-codes", headers=jiangsu,
                body=dump({"province": "32", "records": [local_code(person.id_number, "green", 1, "js-77")]}))
    good, good_jwk = ec_key("js-1")
    expired, expired_jwk = ec_key("js-old", exp=clock.now() - 10)
    ed_private = ed25519.Ed25519PrivateKey.generate()
    ed_jwk = {**json.loads(OKPAlgorithm.to_jwk(ed_private.public_key())), "kid": "js-ed"}
    client.put("/v1/provinces/32/keys", headers=jiangsu, body=dump({"keys": [good_jwk, expired_jwk, ed_jwk]}))

    assert verify(client, checkpoint, provincial_token(good, "js-1", "32", "js-77"))["valid"] is True
    ed_result = verify(client, checkpoint, provincial_token(ed_private, "js-ed", "32", "js-77", alg="EdDSA"))
    assert ed_result["valid"], ed_result
    unregistered, _ = ec_key("js-1")
    forged = provincial_token(unregistered, "js-1", "32", "js-77")
    assert verify(client, checkpoint, forged)["reason"] == "bad_signature"
    assert verify(client, checkpoint, provincial_token(unregistered, "js-9", "32", "js-77"))["reason"] == "unknown_key"
    assert verify(client, checkpoint, provincial_token(expired, "js-old", "32", "js-77"))["reason"] == "key_expired"
    assert verify(client, checkpoint, provincial_token(good, "js-1", "32", "js-77", ttl=-60))["reason"] == "expired"
    assert verify(client, checkpoint, provincial_token(good, "js-1", "32", "nobody"))["reason"] == "unknown_code"
    assert verify(client, checkpoint, provincial_token(good, "js-1", "65", "js-77"))["reason"] == "unknown_province"

    # leaving a key out of the set revokes it
    client.put("/v1/provinces/32/keys", headers=jiangsu, body=dump({"keys": [ed_jwk]}))
    assert verify(client, checkpoint, provincial_token(good, "js-1", "32", "js-77"))["reason"] == "key_revoked"
    listed = client.get("/v1/provinces/32/keys").json_body
    assert [k["kid"] for k in listed["keys"]] == ["js-ed"] and {r["kid"] for r in listed["revoked"]} >= {"js-1"}


def test_key_sets_are_validated(client, province):
    sichuan = province("51")
    private, jwk = ec_key("sc-x")
    with_private = {**jwk, "d": "AAAA"}
    assert client.put("/v1/provinces/51/keys", headers=sichuan, body=dump({"keys": [with_private]})).status_code == 422
    bad_curve = {**jwk, "crv": "P-384"}
    assert client.put("/v1/provinces/51/keys", headers=sichuan, body=dump({"keys": [bad_curve]})).status_code == 422
    assert client.put("/v1/provinces/51/keys", headers=sichuan, body=dump({"keys": [jwk, jwk]})).status_code == 422


def test_every_lookup_is_audited_and_bounded(client, citizen, province):
    a, b = citizen(people.in_province("11")), citizen(people.in_province("12"))
    guangdong = province("44")
    for purpose in ("入境人员核验", "复工复产核验"):
        assert client.post("/v1/sync/lookups", headers=guangdong,
                           body=dump({"id_numbers": [a.id_number, b.id_number], "purpose": purpose})).status_code == 200
    for person in (a, b):
        seen = client.get("/v1/me/lookups", headers=person.headers).json_body["lookups"]
        assert sorted(s["purpose"] for s in seen) == ["入境人员核验", "复工复产核验"]
    too_many = client.post("/v1/sync/lookups", headers=guangdong,
                           body=dump({"id_numbers": [people.id_number() for _ in range(101)], "purpose": "批量核验"}))
    assert too_many.status_code == 422
    citizen_token = a.headers
    assert client.post("/v1/sync/lookups", headers=citizen_token,
                       body=dump({"id_numbers": [b.id_number], "purpose": "curious"})).status_code == 403


def test_a_local_code_id_names_one_person_for_good(client, citizen, checkpoint, province):
    first, second = citizen(people.in_province("53")), citizen(people.in_province("53"))
    yunnan = province("53")
    pushed = client.post("/v1/sync/local-codes", headers=yunnan, body=dump(
        {"province": "53", "records": [local_code(first.id_number, "green", 1, "yn-1")]})).json_body
    assert pushed["written"] == 1
    clash = client.post("/v1/sync/local-codes", headers=yunnan, body=dump({"province": "53", "records": [
        local_code(second.id_number, "red", 1, "yn-2"), local_code(second.id_number, "red", 2, "yn-1")]}))
    assert clash.status_code == 422
    assert [d["field"] for d in clash.json_body["error"]["details"]] == ["records.1.local_code_id"]
    assert client.get("/v1/me/local-codes", headers=second.headers).json_body["local_codes"] == []
    private, jwk = ec_key("yn-k1")
    client.put("/v1/provinces/53/keys", headers=yunnan, body=dump({"keys": [jwk]}))
    shown = verify(client, checkpoint, provincial_token(private, "yn-k1", "53", "yn-1"))
    assert shown["id_last4"] == first.id_number[-4:]


def test_a_revoked_kid_cannot_come_back(client, province):
    guizhou = province("52")
    _, old = ec_key("gz-1")
    _, new = ec_key("gz-2")
    assert client.put("/v1/provinces/52/keys", headers=guizhou, body=dump({"keys": [old]})).status_code == 200
    assert client.put("/v1/provinces/52/keys", headers=guizhou, body=dump({"keys": [new]})).status_code == 200
    again = client.put("/v1/provinces/52/keys", headers=guizhou, body=dump({"keys": [old, new]}))
    assert again.status_code == 422 and again.json_body["error"]["details"][0]["type"] == "revoked_kid"
