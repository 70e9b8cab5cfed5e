"""Nucleic-acid tests and vaccinations: a Chengdu lab pushes results, the code shows them, a hospital gate admits on
its rule, a positive turns a code red and the province holding the person's local code hears of it."""
from __future__ import annotations

import json

import jwt
import pytest

from chalicelib import clock
from chalicelib.security.access import Role
from chalicelib.services.sessions import create_client
from tests import people
from tests.conftest import auth, client_token, dump
from tests.receiver import Receiver

HOUR = 3600


def token_of(http, created: dict) -> str:
    response = http.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=f"grant_type=client_credentials&client_id={created['client_id']}"
                              f"&client_secret={created['client_secret']}")
    assert response.status_code == 200, response.json_body
    return response.json_body["access_token"]


@pytest.fixture
def lab(client):
    """A Chengdu testing lab, bound to Sichuan (51)."""
    return auth(client_token(client, Role.LAB, province="51"))


def result(id_number: str, record_id: str, outcome: str, sampled_hours_ago: float, version: int = 1,
           reported_after: float = 6) -> dict:
    sample = clock.now() - int(sampled_hours_ago * HOUR)
    return {"id_number": id_number, "record_id": record_id, "sample_time": sample,
            "result_time": min(clock.now(), sample + int(reported_after * HOUR)), "result": outcome,
            "test_type": "pcr", "institution": {"name": "成都市疾控中心实验室", "county": "510104"},
            "version": version}


def dose(id_number: str, record_id: str, number: int, date: str) -> dict:
    return {"id_number": id_number, "record_id": record_id, "product": "新冠病毒灭活疫苗（Vero细胞）", "dose": number,
            "date": date, "institution": {"name": "锦江区社区卫生服务中心", "county": "510104"}, "version": 1}


def push(client, headers, path: str, records: list[dict], province: str = "51"):
    return client.post(path, headers=headers, body=dump({"province": province, "records": records}))


def verify(client, headers, token):
    response = client.post("/v1/verifications", headers=headers,
                           body=dump({"token": token, "checkpoint_id": "hospital-east-gate"}))
    assert response.status_code == 200, response.json_body
    return response.json_body


def test_a_lab_pushes_a_negative_test_and_the_code_shows_48h(client, citizen, lab, pump):
    worker = citizen(people.in_province("51"))
    assert worker.apply().json_body["health"] == {"negative_within": None, "doses": 0}

    pushed = push(client, lab, "/v1/sync/test-results", [result(worker.id_number, "cdc-0001", "negative", 30)])
    assert pushed.status_code == 200 and pushed.json_body["written"] == 1, pushed.json_body
    pushed = push(client, lab, "/v1/sync/vaccinations",
                  [dose(worker.id_number, "v-1", 1, "2026-03-01"), dose(worker.id_number, "v-2", 2, "2026-04-01")])
    assert pushed.json_body["written"] == 2, pushed.json_body
    pump.drain()

    code = client.get("/v1/codes/me", headers=worker.headers).json_body
    assert code["color"] == "green" and code["health"] == {"negative_within": "48h", "doses": 2}

    # the citizen reads their own records; the ID number was only used to find them
    tests = client.get("/v1/me/tests", headers=worker.headers).json_body["tests"]
    assert [(t["record_id"], t["result"], t["test_type"]) for t in tests] == [("cdc-0001", "negative", "pcr")]
    assert worker.id_number not in dump(tests)
    doses = client.get("/v1/me/vaccinations", headers=worker.headers).json_body["vaccinations"]
    assert [(d["dose"], d["date"]) for d in doses] == [(1, "2026-03-01"), (2, "2026-04-01")]
    # and sees the lab's pushes in their access log
    log = client.get("/v1/me/access-log", headers=worker.headers).json_body["accesses"]
    assert {a["action"] for a in log} >= {"test_result", "vaccination"}

    # the buckets move with the clock, from the sample time: 19 hours later the sample is 49 hours old
    clock.shift(19 * HOUR)
    later = citizen(worker.id_number, worker.name)   # a new session: the first one has expired
    assert client.get("/v1/codes/me", headers=later.headers).json_body["health"]["negative_within"] == "72h"
    clock.shift(5 * 24 * HOUR)
    later = citizen(worker.id_number, worker.name)
    assert client.get("/v1/codes/me", headers=later.headers).json_body["health"] == {"negative_within": None,
                                                                                    "doses": 2}

    # a replayed batch writes nothing new
    clock.reset()
    again = push(client, lab, "/v1/sync/test-results", [result(worker.id_number, "cdc-0001", "negative", 30)])
    assert again.json_body["written"] == 0 and again.json_body["stale"][0]["index"] == 0


def test_a_gate_that_needs_a_test_within_24h_refuses_with_the_reason(client, citizen, lab, health_authority, pump):
    patient = citizen(people.in_province("51"))
    patient.apply()
    push(client, lab, "/v1/sync/test-results", [result(patient.id_number, "cdc-0100", "negative", 30)])
    pump.drain()

    # a Chengdu hospital's gate; Sichuan's health authority sets its rule: green and a negative test within 24 h
    gate = create_client(Role.CHECKPOINT, "华西医院东门", area="510107")
    rule = {"colors": ["green"], "negative_test_within_hours": 24}
    # another province's authority may not
    refused = client.put(f"/v1/checkpoints/{gate['client_id']}/rule", headers=health_authority("44"),
                         body=dump(rule))
    assert refused.status_code == 403 and refused.json_body["error"]["code"] == "outside_province"
    set_ = client.put(f"/v1/checkpoints/{gate['client_id']}/rule", headers=health_authority("51"), body=dump(rule))
    assert set_.status_code == 200, set_.json_body
    assert set_.json_body["rule"] == {"colors": ["green"], "negative_test_within_hours": 24, "min_doses": None}

    answer = verify(client, auth(token_of(client, gate)), patient.qr_token())
    assert answer["valid"] is True and answer["color"] == "green"      # the color stays the color
    assert answer["admit"] is False and answer["rule_id"] == set_.json_body["rule_id"]
    assert [u["code"] for u in answer["unmet"]] == ["negative_test_within_24h"]
    assert answer["unmet"][0]["message"] == "无24小时内核酸检测阴性结果"
    # the gate sees the bucket its rule needs, never dates, institutions or results
    assert answer["negative_within"] == "48h" and "doses" not in answer
    assert "sample_time" not in dump(answer) and "成都" not in dump(answer)

    # the rule rides in the gate's token: a verification is still the one UpdateItem of the code (bench/dynamo_calls.py)
    from bench.dynamo_calls import recording

    qr, gate_headers = patient.qr_token(), auth(token_of(client, gate))
    with recording() as calls:
        verify(client, gate_headers, qr)
    # (beside it, at times, the container's copy of the area levels and the gate's sampled count: not per verify)
    assert [c for c in calls if "areas" not in c and "ratelimits" not in c] == [
        "UpdateItem people (direct HTTP, no botocore)"], list(calls)

    # a fresh negative: admitted
    push(client, lab, "/v1/sync/test-results", [result(patient.id_number, "cdc-0101", "negative", 3)])
    pump.drain()
    answer = verify(client, auth(token_of(client, gate)), patient.qr_token())
    assert answer["admit"] is True and answer["unmet"] == [] and answer["negative_within"] == "24h"

    # a gate without a rule answers as before: no admit
    plain = create_client(Role.CHECKPOINT, "普通卡口", area="510104")
    assert "admit" not in verify(client, auth(token_of(client, plain)), patient.qr_token())


def test_a_positive_result_turns_the_person_red_and_the_province_holding_their_local_code_is_told(
        client, citizen, lab, pump):
    traveller = citizen(people.in_province("51"))
    traveller.apply()
    guangdong = auth(client_token(client, Role.PROVINCE, province="44"))
    # Guangdong holds a local code for the traveller: a basis to hear about them
    local = {"id_number": traveller.id_number, "color": "green", "local_code_id": "gd-7788",
             "issued_at": clock.now() - 60, "updated_at": clock.now(), "version": 1}
    assert push(client, guangdong, "/v1/sync/local-codes", [local], "44").status_code == 200
    pump.drain()
    receiver = Receiver().start()
    try:
        hook = client.post("/v1/webhooks", headers=guangdong,
                           body=dump({"url": receiver.url, "event_types": ["person.color_changed",
                                                                           "test_result.synced"],
                                      "description": "粤康码"})).json_body
        receiver.secrets.append(hook["secret"])

        positive = result(traveller.id_number, "cdc-0200", "positive", 10)
        assert push(client, lab, "/v1/sync/test-results", [positive]).json_body["written"] == 1
        pump.drain()
        code = client.get("/v1/codes/me", headers=traveller.headers).json_body
        assert code["color"] == "red" and [r["code"] for r in code["reasons"]] == ["test_positive"]

        bodies = {d["body"]["type"]: d["body"]["data"] for d in receiver.unique().values()}
        assert bodies["person.color_changed"]["color"] == "red"
        assert bodies["person.color_changed"]["local_code_id"] == "gd-7788"
        told = bodies["test_result.synced"]
        assert told["result"] == "positive" and told["local_code_id"] == "gd-7788" and told["province"] == "51"
        assert traveller.id_number not in json.dumps(bodies)

        # a later negative (its sample taken after the positive's) lifts the red
        push(client, lab, "/v1/sync/test-results", [result(traveller.id_number, "cdc-0201", "negative", 2, 1, 1)])
        pump.drain()
        assert client.get("/v1/codes/me", headers=traveller.headers).json_body["color"] == "green"
    finally:
        receiver.stop()


def test_an_invalid_result_changes_nothing(client, citizen, lab, pump):
    person = citizen(people.in_province("51"))
    person.apply()
    push(client, lab, "/v1/sync/test-results", [result(person.id_number, "cdc-0300", "invalid", 5)])
    pump.drain()
    code = client.get("/v1/codes/me", headers=person.headers).json_body
    assert code["color"] == "green" and code["health"]["negative_within"] is None


def test_a_batch_with_one_bad_record_writes_nothing(client, citizen, lab, pump):
    persons = [citizen(people.in_province("51")) for _ in range(3)]
    records = [result(p.id_number, f"cdc-04{i}", "negative", 5) for i, p in enumerate(persons)]
    records[1] = {**records[1], "result_time": records[1]["sample_time"] - 60}
    records[2] = {**records[2], "institution": {"name": "某实验室", "county": "999999"}}
    records.append({**records[0], "record_id": "cdc-0499", "result_time": clock.now() + 3600})
    refused = push(client, lab, "/v1/sync/test-results", records)
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json_body["error"]["details"]] == [
        "records.1", "records.2.institution.county", "records.3"]
    for person in persons:
        assert client.get("/v1/me/tests", headers=person.headers).json_body["tests"] == []

    # a lab pushes only for its own province
    other = push(client, lab, "/v1/sync/test-results", [result(persons[0].id_number, "x-1", "negative", 5)], "44")
    assert other.status_code == 403 and other.json_body["error"]["code"] == "outside_province"


def test_the_rule_set_is_a_jws_that_verifies_with_our_jwks(client, checkpoint):
    gate = create_client(Role.CHECKPOINT, "机场T2", area="440106")
    from chalicelib.domain.colors import Color
    from chalicelib.domain.lab_results import EntryRule
    from chalicelib.services import entry_rules

    rule = EntryRule((Color.GREEN,), 72, 2)
    entry_rules.set_rule(None, gate["client_id"], rule)
    response = client.get("/.well-known/entry-rules.jws")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/jose"
    token = response.body.decode()
    jwks = client.get("/.well-known/jwks.json").json_body
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "entry-rules+jwt"
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(token, key.key, algorithms=["ES256"])
    assert claims["purpose"] == "entry_rules" and claims["version"] >= 1
    published = {r["rule_id"]: r for r in claims["rules"]}
    assert published[rule.rule_id]["negative_test_within_hours"] == 72 and published[rule.rule_id]["min_doses"] == 2
    # signed with the QR key, yet never taken for a QR token: it names no code
    refused = verify(client, checkpoint, token)
    assert refused["valid"] is False and refused["reason"] == "malformed", refused
    # a tampered set does not verify
    head, body, signature = token.split(".")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{body[:-2]}AA.{signature}", key.key, algorithms=["ES256"])
