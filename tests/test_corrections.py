"""'I want to correct an error': a worker wrongly matched to a flight files a correction, Sichuan approves it."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.errors import Conflict
from chalicelib.security import access
from chalicelib.security.access import Role
from chalicelib.services import corrections as correction_service
from tests import people
from tests.conftest import auth, client_token, dump
from tests.receiver import Receiver


@pytest.fixture
def province(client):
    return lambda code: auth(client_token(client, Role.PROVINCE, province=code))


def flight_exposure(client, authority, number: str, day: dt.date) -> None:
    published = client.post("/v1/exposures", headers=authority, body=dump({
        "mode": "flight", "number": number, "date": day.isoformat(), "case_type": "confirmed",
        "rows": {"from": 10, "to": 12}}))
    assert published.status_code == 201, published.json_body


def file(client, person, source, code, key=None):
    headers = {**person.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/v1/corrections", headers=headers, body=dump({
        "source": source, "reason_code": code, "description": "我没有乘坐这个航班，是订票后退票了",
        "evidence": "退票凭证编号 TK-2026-0001"}))


def test_a_wrongly_matched_worker_is_corrected_and_every_change_is_explained(
        client, citizen, health_authority, province, pump):
    worker = citizen(people.in_province("51"), "张伟")
    worker.apply(current_area="510104")
    day = days.today(clock.now()) - dt.timedelta(days=2)
    client.post("/v1/trips", headers=worker.headers, body=dump({
        "date": day.isoformat(), "from": "510104", "to": "440106", "mode": "flight", "number": "3U8701",
        "seat": "40C"}))
    sichuan_systems = province("51")
    receiver = Receiver().start()
    hook = client.post("/v1/webhooks", headers=sichuan_systems, body=dump({
        "url": receiver.url, "event_types": ["person.color_changed", "correction.decided"]})).json_body
    receiver.secrets.append(hook["secret"])
    client.post("/v1/sync/local-codes", headers=sichuan_systems, body=dump({"province": "51", "records": [{
        "id_number": worker.id_number, "color": "green", "local_code_id": "sc-zw-1", "issued_at": clock.now() - 60,
        "updated_at": clock.now() - 60, "version": 1}]}))
    pump.drain()

    flight_exposure(client, health_authority("44"), "3U8701", day)
    pump.drain()
    risk = client.get("/v1/me/risk", headers=worker.headers).json_body
    assert risk["color"] == "yellow" and [(r["source"], r["code"]) for r in risk["reasons"]] == [
        ("exposure", "co_passenger")]

    filed = file(client, worker, "exposure", "co_passenger", key="corr-1")
    assert filed.status_code == 201 and filed.json_body["status"] == "pending"
    again = file(client, worker, "exposure", "co_passenger", key="corr-1")
    assert again.json_body["id"] == filed.json_body["id"] and again.headers.get("Idempotent-Replayed") == "true"
    retried = file(client, worker, "exposure", "co_passenger")
    assert retried.status_code == 200 and retried.json_body["id"] == filed.json_body["id"]
    correction_id = filed.json_body["id"]

    # the exposure was published by Guangdong: Guangdong reviews it, not Sichuan where the worker lives
    reviewer, outsider = health_authority("44"), health_authority("51")
    assert filed.json_body["province"] == "44" and filed.json_body["ref"] == "44"
    queue = client.get("/v1/corrections?status=pending", headers=reviewer).json_body["corrections"]
    assert correction_id in [c["id"] for c in queue]
    assert queue == sorted(queue, key=lambda c: c["created_at"])
    pending = client.get("/v1/corrections?status=pending", headers=outsider).json_body["corrections"]
    assert correction_id not in [c["id"] for c in pending]
    assert client.post(f"/v1/corrections/{correction_id}/decision", headers=outsider,
                       body=dump({"decision": "approve", "reason": "ok"})).status_code == 404
    trail = client.get(f"/v1/corrections/{correction_id}/history", headers=reviewer).json_body["history"]
    assert trail[0]["color_after"] == "yellow" and trail[0]["cause"] == "exposure"

    decided = client.post(f"/v1/corrections/{correction_id}/decision", headers=reviewer,
                          body=dump({"decision": "approve", "reason": "航空公司确认已退票", "period_days": 14}))
    assert decided.status_code == 200 and decided.json_body["color"] == "green"
    assert client.get("/v1/codes/me", headers=worker.headers).json_body["color"] == "green"
    mine = client.get("/v1/corrections", headers=worker.headers).json_body["corrections"]
    assert [(c["id"], c["status"], c["decision_reason"]) for c in mine] == [
        (correction_id, "approved", "航空公司确认已退票")]

    pump.drain()
    received = [d["body"] for d in receiver.unique().values()]
    assert [(b["type"], b["data"].get("decision")) for b in received if b["type"] == "correction.decided"] == [
        ("correction.decided", "approved")]
    changes = [b["data"]["color"] for b in received if b["type"] == "person.color_changed"]
    assert changes[-2:] == ["yellow", "green"]
    assert all(b["data"]["local_code_id"] == "sc-zw-1" for b in received)

    history = client.get("/v1/me/history", headers=worker.headers).json_body["history"]
    to_green, to_yellow = history[0], history[1]
    assert (to_yellow["color_before"], to_yellow["color_after"], to_yellow["cause"]) == ("green", "yellow", "exposure")
    assert to_yellow["reasons_added"] == ["exposure:co_passenger"]
    assert (to_green["color_before"], to_green["color_after"], to_green["cause"]) == ("yellow", "green", "correction")
    assert to_green["actor"].startswith("he_") and to_green["sources_changed"] == ["exposure"]
    assert client.delete("/v1/me/history", headers=worker.headers).status_code == 405
    receiver.stop()


def test_a_rejection_keeps_the_color(client, citizen, health_authority):
    person = citizen(people.in_province("51"))
    person.apply(temperature=38.1, current_area="510107")
    correction = file(client, person, "declaration", "declared_fever").json_body
    reviewer = health_authority("51")
    decided = client.post(f"/v1/corrections/{correction['id']}/decision", headers=reviewer,
                          body=dump({"decision": "reject", "reason": "申报体温属实"}))
    assert decided.status_code == 200 and decided.json_body["status"] == "rejected"
    assert client.get("/v1/codes/me", headers=person.headers).json_body["color"] == "yellow"
    twice = client.post(f"/v1/corrections/{correction['id']}/decision", headers=reviewer,
                        body=dump({"decision": "approve", "reason": "改判"}))
    assert twice.status_code == 409 and twice.json_body["error"]["code"] == "already_decided"


def test_two_reviewers_deciding_at_once_get_one_decision(client, citizen, health_authority):
    person = citizen(people.in_province("51"))
    person.apply(temperature=38.6, current_area="510104")
    correction_id = file(client, person, "declaration", "declared_fever").json_body["id"]
    reviewers = [access.authenticate(health_authority("51")["Authorization"]) for _ in range(2)]
    outcomes: list[str] = []

    def decide(reviewer, approve):
        # the chalice test client is not thread-safe, so the race is run on the service itself
        try:
            correction_service.decide(reviewer, correction_id, approve, "并发审核", None, None)
            outcomes.append("decided")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=(r, i == 0)) for i, r in enumerate(reviewers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "decided"]
    mine = client.get("/v1/corrections", headers=person.headers).json_body["corrections"]
    assert len(mine) == 1 and mine[0]["status"] in ("approved", "rejected")


def test_at_most_three_open_requests_and_only_live_reasons(client, citizen):
    person = citizen(people.in_province("51"))
    person.apply(temperature=38.5, symptoms=["cough"], contact_with_cases=True, stayed_in_high_risk_area=True)
    codes = [r["code"] for r in client.get("/v1/me/risk", headers=person.headers).json_body["reasons"]]
    assert len(codes) == 4
    for code in codes[:3]:
        assert file(client, person, "declaration", code).status_code == 201
    fourth = file(client, person, "declaration", codes[3])
    assert fourth.status_code == 409 and fourth.json_body["error"]["code"] == "too_many_open_corrections"
    unknown = file(client, citizen(), "exposure", "co_passenger")
    assert unknown.status_code in (404, 422)
    other = citizen()
    other.apply()
    not_live = file(client, other, "exposure", "co_passenger")
    assert not_live.status_code == 422 and not_live.json_body["error"]["details"][0]["field"] == "reason_code"


def test_citizens_and_checkpoints_cannot_review(client, citizen, checkpoint):
    person = citizen()
    assert client.get("/v1/corrections?status=pending", headers=checkpoint).status_code == 403
    assert client.post("/v1/corrections/cor_0000/decision", headers=person.headers,
                       body=dump({"decision": "approve", "reason": "self-approval"})).status_code == 403


def test_five_filings_at_once_make_one_request(client, citizen):
    """A mini-program that retries on a slow network, without an Idempotency-Key: the five filings race, one
    request is created (201) and the others are answered with it (200)."""
    person = citizen(people.in_province("51"))
    person.apply(temperature=38.3, current_area="510104")
    caller = access.authenticate(person.headers["Authorization"])
    start = threading.Barrier(5)
    answers: list[tuple[int, str]] = []

    def file_once():
        # the chalice test client is not thread-safe, so the race is run on the service itself
        start.wait()
        status, body = correction_service.file(caller, "declaration", "declared_fever", "体温计坏了，量错了", None)
        answers.append((status, body["id"]))

    threads = [threading.Thread(target=file_once) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 5
    assert sorted(status for status, _ in answers) == [200, 200, 200, 200, 201], answers
    assert len({correction_id for _, correction_id in answers}) == 1, answers
    mine = client.get("/v1/corrections", headers=person.headers).json_body["corrections"]
    assert [(c["id"], c["status"]) for c in mine] == [(answers[0][1], "pending")]


def test_a_decided_reason_can_be_filed_again(client, citizen, health_authority):
    person = citizen(people.in_province("51"))
    person.apply(temperature=38.3, current_area="510104")
    first = file(client, person, "declaration", "declared_fever")
    assert first.status_code == 201
    rejected = client.post(f"/v1/corrections/{first.json_body['id']}/decision", headers=health_authority("51"),
                           body=dump({"decision": "reject", "reason": "申报体温属实"}))
    assert rejected.status_code == 200, rejected.json_body
    again = file(client, person, "declaration", "declared_fever")
    assert again.status_code == 201 and again.json_body["id"] != first.json_body["id"]
    assert file(client, person, "declaration", "declared_fever").json_body["id"] == again.json_body["id"]
