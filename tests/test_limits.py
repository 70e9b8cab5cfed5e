"""Abuse limits (chalicelib/domain/limits.py, docs/limits.md): each answers 429 with Retry-After once spent,
and its window resets.

Each test counts in a window of its own: per-person and per-client limits under identities and clients
made for the test, per-address limits from an address of its own (chalice's test client sends whatever
address LambdaEventConverter names), per-province limits in a minute far from the real clock. The platform
clock stands still in these tests, so a test's thousands of requests fall in the window it moved the clock
to, however slow the machine; it moves on only by `clock.shift`.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.local import LambdaEventConverter

from chalicelib import clock, settings
from chalicelib.api.sync import MAX_BATCH, MAX_LOOKUP
from chalicelib.domain import days, limits
from chalicelib.domain.limits import Limit
from chalicelib.security.access import Role
from chalicelib.services import throttle
from chalicelib.services.sessions import create_client
from chalicelib.store import dynamo, ratelimits, wire
from tests import people
from tests.conftest import auth, client_token, dump
from tests.refusals import assert_refused
from tests.test_wire import THROTTLED, Proxy

ROOT = Path(__file__).resolve().parents[1]
_rng = random.Random()
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(autouse=True)
def _clock_stands_still(monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = clock.time.time()
    monkeypatch.setattr(clock, "time", SimpleNamespace(time=lambda: stopped))


def start_of_window(limit: Limit, far: bool = False) -> None:
    """Move the platform clock to the start of a window of `limit` (`far`: one no other test counts in)."""
    if far:
        clock.shift(_rng.randrange(1000, 100000) * 3600)
    clock.shift(limit.window - clock.now() % limit.window)


def refused_until_reset(response: Any, limit: Limit) -> int:
    """The response is the limit's 429; returns its Retry-After, which ends the window."""
    error = assert_refused(response, 429, "too_many_requests")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= limit.window
    assert error["details"] == [{"limit": limit.name, "per": limit.per.name.lower(), "count": limit.count,
                                 "window_seconds": limit.window, "retry_after": retry_after}]
    assert f"{limit.count:,}" in error["message"] and f"{retry_after} s" in error["message"]
    return retry_after


def spend(limit: Limit, send: Callable[[], Any], ok: int | tuple[int, ...] = 200) -> int:
    """Send `limit.count` requests, each answered `ok`; then the next is refused. Returns its Retry-After."""
    statuses = [send().status_code for _ in range(limit.count)]
    allowed = ok if isinstance(ok, tuple) else (ok,)
    assert all(s in allowed for s in statuses), [s for s in statuses if s not in allowed][:5]
    return refused_until_reset(send(), limit)


@pytest.fixture
def address(monkeypatch: pytest.MonkeyPatch) -> str:
    """Requests of this test come from an address of their own, in the carrier-grade NAT range."""
    ip = f"100.{_rng.randrange(64, 128)}.{_rng.randrange(256)}.{_rng.randrange(1, 255)}"
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ip)
    return ip


def login(client: Any, id_number: str | None = None) -> Any:
    return client.post("/v1/sessions", headers=JSON, body=dump({"self_asserted": {
        "name": people.name(), "id_number": id_number or people.id_number(), "phone": people.phone()}}))


# --- the table ------------------------------------------------------------------------------------------

@pytest.mark.fast
def test_docs_limits_md_holds_the_table_of_the_limits_the_code_enforces():
    assert limits.table() in (ROOT / "docs" / "limits.md").read_text(), (
        "docs/limits.md differs from chalicelib/domain/limits.py: paste limits.table() into it")


def test_every_limit_names_routes_that_exist_and_room_for_the_largest_batch(app_module):
    routes = {f"{m} {p}" for p, methods in app_module.app.routes.items() for m in methods}
    assert len({limit.name for limit in limits.LIMITS}) == len(limits.LIMITS)
    for limit in limits.LIMITS:
        assert set(limit.operations) <= routes, limit.name
    # a batch larger than its whole limit could never be accepted
    assert limits.SYNC_RECORDS_PER_PROVINCE.count >= MAX_BATCH
    assert limits.LOOKUPS_PER_PROVINCE.count >= MAX_LOOKUP


def test_the_openapi_document_gives_every_limited_operation_its_429_with_retry_after():
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    too_many = document["components"]["responses"]["TooManyRequests"]
    assert too_many["headers"]["Retry-After"]["required"] is True
    for limit in limits.LIMITS:
        for operation in limit.operations:
            method, path = operation.split(" ")
            described = document["paths"][path][method.lower()]
            assert described["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}
            assert limit.name in [named["name"] for named in described["x-rate-limits"]], operation


# --- where no one is authenticated: per source address -------------------------------------------------

def test_log_ins_from_one_address_count_before_the_identity_is_checked(client, address):
    start_of_window(limits.SESSIONS_PER_ADDRESS)
    # ID tokens this stage cannot check (no identity provider here): refused, but counted first
    assertion = dump({"assertion": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"})
    wait = spend(limits.SESSIONS_PER_ADDRESS, lambda: client.post("/v1/sessions", headers=JSON, body=assertion),
                 ok=401)
    refused_until_reset(login(client), limits.SESSIONS_PER_ADDRESS)
    clock.shift(wait)
    assert login(client).status_code == 201


def test_the_ratelimits_table_never_holds_an_address(client, address):
    assert login(client).status_code == 201
    assert not [item for item in dynamo.scan_all(ratelimits.KIND) if address in json.dumps(item)]


def test_token_requests_from_one_address_count_wrong_secrets_too(client, address):
    created = create_client(Role.CHECKPOINT, "gate at a busy station", area="440106")

    def wrong_secret() -> Any:
        return client.post("/v1/oauth/token", headers=FORM,
                           body=f"grant_type=client_credentials&client_id={created['client_id']}&client_secret=guess")
    start_of_window(limits.TOKENS_PER_ADDRESS)
    wait = spend(limits.TOKENS_PER_ADDRESS, wrong_secret, ok=401)
    right = (f"grant_type=client_credentials&client_id={created['client_id']}"
             f"&client_secret={created['client_secret']}")
    refused_until_reset(client.post("/v1/oauth/token", headers=FORM, body=right), limits.TOKENS_PER_ADDRESS)
    clock.shift(wait)
    assert client.post("/v1/oauth/token", headers=FORM, body=right).status_code == 200


# --- per citizen -----------------------------------------------------------------------------------------

def test_log_ins_of_one_person(client, address):
    start_of_window(limits.SESSIONS_PER_PERSON)
    id_number = people.id_number()
    wait = spend(limits.SESSIONS_PER_PERSON, lambda: login(client, id_number), ok=201)
    assert login(client).status_code == 201      # someone else, from the same address
    clock.shift(wait)
    assert login(client, id_number).status_code == 201


def test_applications_of_one_person_retries_included(client, citizen):
    start_of_window(limits.APPLIES_PER_PERSON)
    person = citizen()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    declaration = dump({"temperature": 36.5, "symptoms": [], "contact_with_cases": False,
                        "stayed_in_high_risk_area": False, "current_area": "510104"})
    wait = spend(limits.APPLIES_PER_PERSON,
                 lambda: client.post("/v1/codes", headers={**person.headers, **key}, body=declaration), ok=(200, 201))
    clock.shift(wait)
    person = citizen(person.id_number, person.name)     # the hour-long token may have run out
    assert person.apply().status_code == 200


def test_qr_tokens_of_one_person(client, citizen):
    start_of_window(limits.QR_TOKENS_PER_PERSON)
    person = citizen()
    assert person.apply().status_code == 201
    wait = spend(limits.QR_TOKENS_PER_PERSON, lambda: client.get("/v1/codes/me/qr?format=text",
                                                                  headers=person.headers))
    clock.shift(wait)
    assert person.qr_token()


def test_trip_declarations_of_one_person(client, citizen):
    start_of_window(limits.TRIPS_PER_PERSON)
    person = citizen()
    trip = {"date": (days.today(clock.now()) - dt.timedelta(days=1)).isoformat(), "from": "440106", "to": "510104",
            "mode": "car"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    wait = spend(limits.TRIPS_PER_PERSON,
                 lambda: client.post("/v1/trips", headers={**person.headers, **key}, body=dump(trip)), ok=201)
    clock.shift(wait)
    person = citizen(person.id_number, person.name)
    trip["date"] = days.today(clock.now()).isoformat()
    assert client.post("/v1/trips", headers=person.headers, body=dump(trip)).status_code == 201


def test_check_ins_of_one_person(client, citizen):
    start_of_window(limits.CHECKINS_PER_PERSON)
    person = citizen()
    checkin = dump({"area": "440106", "temperature": 36.6, "symptoms": []})
    wait = spend(limits.CHECKINS_PER_PERSON,
                 lambda: client.post("/v1/checkins", headers=person.headers, body=checkin), ok=201)
    clock.shift(wait)
    person = citizen(person.id_number, person.name)
    assert client.post("/v1/checkins", headers=person.headers, body=checkin).status_code == 201


def test_correction_requests_of_one_person(client, citizen):
    start_of_window(limits.CORRECTIONS_PER_PERSON)
    person = citizen(people.in_province("51"))
    person.apply(temperature=38.5, symptoms=["cough"], contact_with_cases=True)
    reasons = [r["code"] for r in client.get("/v1/me/risk", headers=person.headers).json_body["reasons"]]

    def file(code: str, key: str) -> Any:
        return client.post("/v1/corrections", headers={**person.headers, "Idempotency-Key": key}, body=dump({
            "source": "declaration", "reason_code": code, "description": "体温是运动后测的，休息后复测正常"}))
    first = str(uuid.uuid4())
    wait = spend(limits.CORRECTIONS_PER_PERSON, lambda: file(reasons[0], first), ok=201)
    clock.shift(wait)
    person.headers = citizen(person.id_number, person.name).headers
    assert file(reasons[1], str(uuid.uuid4())).status_code == 201


# --- per client and per province -------------------------------------------------------------------------

def test_tokens_of_one_client_and_no_one_else_can_spend_them(client, address):
    created = create_client(Role.PROVINCE, "Guizhou sync", province="52")
    right = (f"grant_type=client_credentials&client_id={created['client_id']}"
             f"&client_secret={created['client_secret']}")
    start_of_window(limits.TOKENS_PER_CLIENT)
    for _ in range(limits.TOKENS_PER_CLIENT.count):   # someone guessing its secret: tokens_per_address only
        wrong = f"grant_type=client_credentials&client_id={created['client_id']}&client_secret=guess"
        assert client.post("/v1/oauth/token", headers=FORM, body=wrong).status_code == 401
    wait = spend(limits.TOKENS_PER_CLIENT, lambda: client.post("/v1/oauth/token", headers=FORM, body=right))
    clock.shift(wait)
    assert client.post("/v1/oauth/token", headers=FORM, body=right).status_code == 200


def test_verifications_of_one_checkpoint(client):
    start_of_window(limits.VERIFICATIONS_PER_CHECKPOINT)
    gate = auth(client_token(client, Role.CHECKPOINT, area="440106"))
    # a token that is not one: refused without reading the database, and counted like any scan
    scan = dump({"token": "not-a-token", "checkpoint_id": "lane-1"})
    wait = spend(limits.VERIFICATIONS_PER_CHECKPOINT,
                 lambda: client.post("/v1/verifications", headers=gate, body=scan))
    other_gate = auth(client_token(client, Role.CHECKPOINT, area="440106"))
    assert client.post("/v1/verifications", headers=other_gate, body=scan).json_body["reason"] == "malformed"
    clock.shift(wait)
    assert client.post("/v1/verifications", headers=gate, body=scan).json_body["reason"] == "malformed"


def test_a_checkpoint_spread_over_containers_gets_at_most_one_batch_more_from_each(client):
    limit = limits.VERIFICATIONS_PER_CHECKPOINT
    start_of_window(limit)
    gate = auth(client_token(client, Role.CHECKPOINT, area="440106"))
    scan = dump({"token": "not-a-token", "checkpoint_id": "lane-1"})
    spend(limit, lambda: client.post("/v1/verifications", headers=gate, body=scan))
    throttle.forget()  # a second container, which has counted nothing yet
    answers = [client.post("/v1/verifications", headers=gate, body=scan).status_code
               for _ in range(2 * limit.flush_every)]
    # it learns the table's count when it writes its first batch, and refuses from then on
    assert answers == [200] * limit.flush_every + [429] * limit.flush_every


def test_a_gate_keeps_scanning_when_its_count_cannot_be_written_and_the_count_is_kept(client, dynamodb, monkeypatch):
    limit = limits.VERIFICATIONS_PER_CHECKPOINT
    start_of_window(limit)
    gate = auth(client_token(client, Role.CHECKPOINT, area="440106"))
    scan = dump({"token": "not-a-token", "checkpoint_id": "lane-1"})
    proxy = Proxy(dynamodb.endpoint).start()
    try:
        settings.override(dynamodb_endpoint=proxy.url)
        monkeypatch.setattr(wire, "BACKOFF_BASE", 0.001)
        for _ in range(limit.flush_every - 1):
            assert client.post("/v1/verifications", headers=gate, body=scan).status_code == 200
        proxy.only, proxy.plan = "UpdateItem", list(THROTTLED)     # the write of the first 50 fails throughout
        assert client.post("/v1/verifications", headers=gate, body=scan).json_body["reason"] == "malformed"
        assert proxy.plan == []
        # those 50 were not lost: the container wrote them with its next batch, and the limit holds exactly
        statuses = [client.post("/v1/verifications", headers=gate, body=scan).status_code
                    for _ in range(limit.count - limit.flush_every)]
        assert statuses == [200] * (limit.count - limit.flush_every)
        refused_until_reset(client.post("/v1/verifications", headers=gate, body=scan), limit)
        throttle.forget()   # and the table has them all: another container learns so at its first write
        answers = [client.post("/v1/verifications", headers=gate, body=scan).status_code
                   for _ in range(limit.flush_every + 1)]
        assert answers == [200] * limit.flush_every + [429]
    finally:
        proxy.stop()


def test_sync_records_of_one_province_refused_batches_count_nothing(client):
    limit = limits.SYNC_RECORDS_PER_PROVINCE
    start_of_window(limit, far=True)
    guizhou = auth(client_token(client, Role.PROVINCE, province="52"))
    now = clock.now()
    record = {"id_number": people.in_province("52"), "color": "green", "local_code_id": f"gz-{_rng.getrandbits(40):x}",
              "issued_at": now - 60, "updated_at": now, "version": 1}

    def push(size: int) -> Any:
        # the same record again and again: counted like any, written once
        return client.post("/v1/sync/local-codes", headers=guizhou,
                           body=dump({"province": "52", "records": [record] * size}))
    full = limit.count // MAX_BATCH - 1
    assert [push(MAX_BATCH).status_code for _ in range(full)] == [200] * full
    assert push(MAX_BATCH - 200).status_code == 200                        # 200 records of room left
    refused_until_reset(push(MAX_BATCH), limit)                            # counts nothing...
    assert push(200).status_code == 200                                    # ...so these still fit
    health = {"id_number": record["id_number"], "record_id": "gz-hosp-1", "status": "recovered",
              "institution": "贵阳市第一人民医院", "issued_at": now, "version": 1}
    refused = client.post("/v1/sync/health-records", headers=guizhou,
                          body=dump({"province": "52", "records": [health]}))
    wait = refused_until_reset(refused, limit)                              # one count for both kinds
    clock.shift(wait)
    assert push(MAX_BATCH).status_code == 200


def test_look_ups_of_one_province(client):
    limit = limits.LOOKUPS_PER_PROVINCE
    start_of_window(limit, far=True)
    fujian = auth(client_token(client, Role.PROVINCE, province="35"))
    # the province's other clients looked up all but 100 people earlier in the minute: doing that here would
    # take the suite half a minute
    assert ratelimits.take(limit.name, "35", limit.window_start(clock.now()), limit.window, limit.count - MAX_LOOKUP,
                           limit.count)

    def look_up(size: int) -> Any:
        return client.post("/v1/sync/lookups", headers=fujian, body=dump({
            "id_numbers": [people.in_province("35") for _ in range(size)], "purpose": "入境人员核验"}))
    assert look_up(MAX_LOOKUP).status_code == 200
    wait = refused_until_reset(look_up(1), limit)
    clock.shift(wait)
    assert look_up(1).status_code == 200
