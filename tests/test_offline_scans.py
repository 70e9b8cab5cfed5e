"""Checkpoints that verified offline upload their queued scans (issue 17): POST /v1/verifications/batch.

Each scan is verified as of its `scanned_at`, recorded once per scan key however often (and however
concurrently) the batch is sent, and answered on its own; the token's signed color (`c`) is what an offline
device shows, and online verification never trusts it.
"""
from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import clock
from chalicelib.security import qr_tokens
from chalicelib.security.access import Role
from chalicelib.services import offline_scans
from chalicelib.settings import get_settings
from chalicelib.store import scans
from tests.conftest import auth, client_token, dump


def queued(token: str, at: int | None = None, **extra: Any) -> dict[str, Any]:
    return {"scan_key": str(uuid.uuid4()), "token": token, "checkpoint_id": "gate-7", "temperature": 36.6,
            "scanned_at": clock.now() if at is None else at, **extra}


def upload(client: Any, headers: dict[str, str], *items: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/verifications/batch", headers=headers, body=dump({"scans": list(items)}))
    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert [r["scan_key"] for r in body["results"]] == [i["scan_key"] for i in items]
    return body


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def rows(code_id: str) -> list[scans.Row]:
    return scans.since(code_id, 0, clock.now())


@pytest.fixture
def holder(citizen: Any) -> Any:
    person = citizen()
    applied = person.apply()
    assert applied.status_code == 201
    person.code_id = applied.json_body["code_id"]
    return person


def test_the_qr_token_carries_the_color_and_when_it_was_computed(client, citizen):
    green = citizen()
    assert green.apply().status_code == 201
    yellow = citizen()
    assert yellow.apply(temperature=38.0).json_body["color"] == "yellow"
    before = clock.now()
    for person, expected in ((green, 0), (yellow, 1)):
        token = person.qr_token()
        found = claims(token)
        assert found["c"] == expected and before <= found["iat"] <= clock.now()
        assert found["exp"] == found["iat"] + get_settings().qr_token_ttl
        assert set(found) == {"sub", "exp", "iat", "c"}


def test_online_verification_answers_the_live_color_not_the_tokens(client, checkpoint, holder):
    token = holder.qr_token()
    assert claims(token)["c"] == 0
    assert holder.apply(temperature=38.5, contact_with_cases=True).status_code in (200, 201)
    live = client.get("/v1/codes/me", headers=holder.headers).json_body["color"]
    assert live != "green"
    verified = client.post("/v1/verifications", headers=checkpoint,
                           body=dump({"token": token, "checkpoint_id": "gate-1"})).json_body
    assert verified["valid"] is True and verified["color"] == live, verified


def test_queued_scans_are_recorded_once_however_often_the_batch_is_sent(client, checkpoint, holder):
    token = holder.qr_token()
    first, second = queued(token, offline_color="green"), queued(token, clock.now() + 30, temperature=37.5)
    clock.shift(600)   # the device comes back online ten minutes later: the token has long expired
    sent = upload(client, checkpoint, first, second)
    assert [r["status"] for r in sent["results"]] == ["recorded", "recorded"]
    assert sent["recorded"] == 2 and sent["duplicate"] == sent["refused"] == 0
    assert all(r["color"] == "green" and r["issuer"] == "national" for r in sent["results"])
    again = upload(client, checkpoint, second, first)
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert [r["scan_id"] for r in again["results"]] == [sent["results"][1]["scan_id"], sent["results"][0]["scan_id"]]
    recorded = rows(holder.code_id)
    assert len(recorded) == 2
    newest, oldest = recorded
    assert oldest.scan.at == first["scanned_at"] and newest.scan.at == second["scanned_at"]
    assert oldest.scan.offline and oldest.offline is not None and oldest.offline.shown_color == "green"
    assert newest.scan.fever is True and newest.scan.temperature == 37.5
    assert oldest.offline.uploaded_at == sent["uploaded_at"]


def verify_online(client: Any, headers: dict[str, str], item: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/verifications", headers=headers, body=dump(
        {"token": item["token"], "checkpoint_id": item["checkpoint_id"], "scan_key": item["scan_key"]}))
    assert response.status_code == 200 and response.json_body["valid"] is True, response.json_body
    return response.json_body


def test_a_scan_verified_online_too_late_and_queued_offline_is_one_row(client, checkpoint, holder, pump):
    # the online answer came after the page's limit: the page verified the scan offline too, under the same key
    item = queued(holder.qr_token())
    online = verify_online(client, checkpoint, item)
    pump.drain()                                       # the scans function writes the online scan's row
    sent = upload(client, checkpoint, item)
    assert sent["results"][0]["status"] == "duplicate" and sent["recorded"] == 0
    assert sent["results"][0]["scan_id"] == online["scan_id"]
    [row] = rows(holder.code_id)
    assert row.scan.scan_id == online["scan_id"] and not row.scan.offline


def test_an_upload_that_comes_before_the_online_scans_row_is_one_row(client, checkpoint, holder, pump):
    item = queued(holder.qr_token())
    online = verify_online(client, checkpoint, item)
    sent = upload(client, checkpoint, item)            # before the stream wrote the online row
    assert sent["results"][0]["status"] == "recorded"
    pump.drain()
    [row] = rows(holder.code_id)
    assert row.scan.scan_id == online["scan_id"] and row.scan.offline
    # without a key, an online scan is a row of its own, as before
    client.post("/v1/verifications", headers=checkpoint,
                body=dump({"token": item["token"], "checkpoint_id": "gate-7"}))
    pump.drain()
    assert len(rows(holder.code_id)) == 2


def test_the_same_scan_twice_in_one_batch_is_recorded_once(client, checkpoint, holder):
    item = queued(holder.qr_token())
    sent = upload(client, checkpoint, item, dict(item))
    assert sorted(r["status"] for r in sent["results"]) == ["duplicate", "recorded"]
    assert len(rows(holder.code_id)) == 1


def test_concurrent_uploads_of_the_same_scans_record_each_once(client, checkpoint, holder):
    token = holder.qr_token()
    items = [queued(token, clock.now() - i) for i in range(12)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: upload(client, checkpoint, *items), range(4)))
    for i in range(len(items)):
        statuses = sorted(a["results"][i]["status"] for a in answers)
        assert statuses == ["duplicate", "duplicate", "duplicate", "recorded"], statuses
    assert len(rows(holder.code_id)) == len(items)


def test_another_checkpoint_with_the_same_scan_key_is_another_scan(client, checkpoint, holder):
    item = queued(holder.qr_token())
    other = auth(client_token(client, Role.CHECKPOINT, area="510104"))
    assert upload(client, checkpoint, item)["results"][0]["status"] == "recorded"
    assert upload(client, other, item)["results"][0]["status"] == "recorded"
    assert len(rows(holder.code_id)) == 2


def test_partial_failures_are_reported_per_scan(client, checkpoint, holder):
    token = holder.qr_token()
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    tampered = ".".join((header, payload, signature[:middle] + ("A" if signature[middle] != "A" else "B")
                         + signature[middle + 1:]))
    stranger = jwt.encode(claims(token), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                          headers={"kid": "zz-nokey"})
    nobody, _ = qr_tokens.issue("AAAAAAAAAAAAAAAA", clock.now(), get_settings().qr_token_ttl, color="green")
    ttl = get_settings().qr_token_ttl
    items = [queued(token), queued(tampered), queued("hello"), queued(stranger), queued(nobody),
             queued(token, clock.now() + ttl + qr_tokens.LEEWAY_SECONDS + 1),              # expired when scanned
             queued(token, clock.now() + offline_scans.FUTURE_SKEW_SECONDS + 60),          # in the future
             queued(token, clock.now() - offline_scans.MAX_AGE_SECONDS - 1),               # too old
             queued(token, clock.now() + 1)]
    clock.shift(ttl + 10)   # the upload comes after the token expired: each is judged as of its scanned_at
    # the future one stays in the future
    items[6]["scanned_at"] = clock.now() + offline_scans.FUTURE_SKEW_SECONDS + 60
    sent = upload(client, checkpoint, *items)
    outcome = [(r["status"], r.get("reason")) for r in sent["results"]]
    assert outcome == [("recorded", None), ("refused", "bad_signature"), ("refused", "malformed"),
                       ("refused", "unknown_key"), ("refused", "unknown_code"), ("refused", "expired"),
                       ("refused", "scanned_in_future"), ("refused", "scan_too_old"), ("recorded", None)], outcome
    assert sent["recorded"] == 2 and sent["refused"] == 7
    assert all(r["message"] for r in sent["results"] if r["status"] == "refused")
    assert len(rows(holder.code_id)) == 2


def test_a_scan_within_the_skew_ahead_is_recorded(client, checkpoint, holder):
    item = queued(holder.qr_token(), clock.now() + offline_scans.FUTURE_SKEW_SECONDS - 5)
    assert upload(client, checkpoint, item)["results"][0]["status"] == "recorded"


def test_a_revoked_code_is_refused(client, checkpoint, holder):
    from chalicelib.store import dynamo

    item = queued(holder.qr_token())
    dynamo.update("people", {"pk": holder.code_id}, "SET #s = :r", {":r": "revoked"}, names={"#s": "status"})
    assert upload(client, checkpoint, item)["results"][0]["reason"] == "revoked"


@pytest.mark.parametrize("body", [
    {"scans": []},
    {"scans": [{"scan_key": "not-a-uuid", "token": "x", "checkpoint_id": "g", "scanned_at": 1}]},
    {"scans": [{"scan_key": str(uuid.uuid4()), "token": "x", "checkpoint_id": "g", "scanned_at": "1"}]},
    {"scans": [{"scan_key": str(uuid.uuid4()), "token": "x", "checkpoint_id": "g", "scanned_at": 1,
                "temperature": 50}]},
    {"scans": [{"scan_key": str(uuid.uuid4()), "token": "x", "checkpoint_id": "g", "scanned_at": 1,
                "offline_color": "blue"}]},
    {"scans": [{"scan_key": str(uuid.uuid4()), "token": "x", "checkpoint_id": "g", "scanned_at": 1, "extra": 1}]},
])
def test_a_malformed_upload_is_refused_whole(client, checkpoint, body):
    response = client.post("/v1/verifications/batch", headers=checkpoint, body=dump(body))
    assert response.status_code == 422, response.json_body
    assert response.json_body["error"]["code"] == "validation_failed"


def test_an_upload_holds_at_most_200_scans(client, checkpoint, holder):
    token = holder.qr_token()
    response = client.post("/v1/verifications/batch", headers=checkpoint,
                           body=dump({"scans": [queued(token) for _ in range(offline_scans.MAX_SCANS + 1)]}))
    assert response.status_code == 422, response.json_body
    assert rows(holder.code_id) == []


@pytest.mark.parametrize("role", [Role.PROVINCE, Role.HEALTH_AUTHORITY])
def test_only_checkpoints_upload_scans(client, holder, role):
    headers = auth(client_token(client, role, province="44"))
    response = client.post("/v1/verifications/batch", headers=headers,
                           body=dump({"scans": [queued(holder.qr_token())]}))
    assert response.status_code == 403, response.json_body
    citizen_said = client.post("/v1/verifications/batch", headers=holder.headers,
                               body=dump({"scans": [queued(holder.qr_token())]}))
    assert citizen_said.status_code == 403
    anonymous = client.post("/v1/verifications/batch", headers={"Content-Type": "application/json"},
                            body=dump({"scans": [queued(holder.qr_token())]}))
    assert anonymous.status_code == 401
    assert rows(holder.code_id) == []


def test_an_upload_counts_each_scan_against_the_checkpoints_verification_limit(client, checkpoint, holder, monkeypatch):
    from chalicelib.domain import limits

    token = holder.qr_token()
    counted: list[tuple[str, int]] = []
    from chalicelib.services import throttle
    real = throttle.check
    monkeypatch.setattr(throttle, "check", lambda limit, key, amount=1: (counted.append((limit.name, amount)),
                                                                         real(limit, key, amount))[1])
    upload(client, checkpoint, *[queued(token) for _ in range(3)])
    assert counted == [(limits.VERIFICATIONS_PER_CHECKPOINT.name, 3)]


def test_the_province_trust_list_publishes_every_provinces_keys(client):
    from chalicelib.api.provinces import PublicJwk  # noqa: F401  (the registration's model)

    sichuan = auth(client_token(client, Role.PROVINCE, province="51"))
    active = ec.generate_private_key(ec.SECP256R1())
    later = ec.generate_private_key(ec.SECP256R1())
    gone = ec.generate_private_key(ec.SECP256R1())

    def jwk(private: Any, kid: str, **extra: Any) -> dict[str, Any]:
        return {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key())), "kid": kid, **extra}

    first = [jwk(active, "sc-a"), jwk(gone, "sc-gone")]
    assert client.put("/v1/provinces/51/keys", headers=sichuan, body=dump({"keys": first})).status_code == 200
    second = [jwk(active, "sc-a"), jwk(later, "sc-later", nbf=clock.now() + 3600)]
    assert client.put("/v1/provinces/51/keys", headers=sichuan, body=dump({"keys": second})).status_code == 200

    response = client.get("/.well-known/province-keys.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    listed = response.json_body["provinces"]["51"]
    by_kid = {k["kid"]: k for k in listed["keys"]}
    assert by_kid["sc-a"]["status"] == "active" and by_kid["sc-later"]["status"] == "not_yet_valid"
    revoked = [r["kid"] for r in listed["revoked"]]   # with any other test's keys Sichuan has revoked before
    assert "sc-gone" in revoked and not {"sc-a", "sc-later"} & set(revoked)
    assert all("d" not in k for k in listed["keys"])
    # a JOSE library reads each province's set as a JWKS, and verifies the province's tokens with it
    keyset = jwt.PyJWKSet.from_dict({"keys": [{k: v for k, v in key.items() if k != "status"}
                                              for key in listed["keys"]]})
    token = jwt.encode({"iss": "province:51", "sub": "sc-1", "exp": clock.now() + 60, "c": 1}, active,
                       algorithm="ES256", headers={"kid": "sc-a"})
    assert jwt.decode(token, keyset["sc-a"].key, algorithms=["ES256"])["c"] == 1


def test_a_province_tokens_offline_scan_is_recorded_as_the_provinces(client, citizen, checkpoint, pump):
    from tests import people
    from tests.test_provinces import ec_key, local_code, provincial_token

    person = citizen(people.in_province("51"))
    assert person.apply().status_code == 201
    sichuan = auth(client_token(client, Role.PROVINCE, province="51"))
    private, jwk = ec_key("sc-off-1")
    assert client.put("/v1/provinces/51/keys", headers=sichuan, body=dump({"keys": [jwk]})).status_code == 200
    pushed = client.post("/v1/sync/local-codes", headers=sichuan, body=dump(
        {"province": "51", "records": [local_code(person.id_number, "green", 1, "sc-off-0001")]}))
    assert pushed.status_code == 200, pushed.json_body
    pump.drain()
    token = provincial_token(private, "sc-off-1", "51", "sc-off-0001", ttl=60)
    unshared = provincial_token(private, "sc-off-1", "51", "sc-off-9999", ttl=60)
    clock.shift(600)   # uploaded after the token expired: judged as of the scan
    at = clock.now() - 590
    sent = upload(client, checkpoint, queued(token, at), queued(unshared, at))
    first, second = sent["results"]
    assert (first["status"], first["issuer"], first["color"]) == ("recorded", "province:51", "green"), first
    assert (second["status"], second["reason"]) == ("refused", "unknown_code"), second
    code_id = client.get("/v1/codes/me", headers=person.headers).json_body["code_id"]
    [row] = rows(code_id)
    assert row.scan.issuer == "province:51" and row.scan.offline


def test_a_paper_codes_offline_scan_is_recorded_on_its_holders_code(client, checkpoint, holder):
    issued = client.post("/v1/paper-codes", headers=holder.headers, body=dump({}))
    assert issued.status_code == 201, issued.json_body
    paper = issued.json_body["token"]
    header, payload, signature = paper.split(".")
    middle = len(signature) // 2
    tampered = ".".join((header, payload, signature[:middle] + ("A" if signature[middle] != "A" else "B")
                         + signature[middle + 1:]))
    clock.shift(600)   # uploaded later, as the page does when the API answers again
    sent = upload(client, checkpoint, queued(paper, clock.now() - 500, offline_color="green"), queued(tampered))
    outcome = [(r["status"], r.get("reason"), r.get("issuer")) for r in sent["results"]]
    assert outcome == [("recorded", None, "national"), ("refused", "bad_signature", None)], outcome
    [row] = rows(holder.code_id)
    assert row.scan.offline and row.offline is not None and row.offline.shown_color == "green"
