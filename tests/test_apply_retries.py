"""A mini-program on a flaky mobile network retries its apply, and several devices apply at once.

A retry with the same Idempotency-Key gets the first answer back without a second write;
concurrent applies for one person all land, one version each, none lost.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.domain.declaration import FEVER_CELSIUS, Declaration
from chalicelib.security.access import authenticate
from chalicelib.services import codes
from chalicelib.store import dynamo, people
from tests.conftest import dump
from tests.refusals import assert_refused, fields


def body(**changes: Any) -> str:
    return dump({"temperature": 36.5, "symptoms": [], "contact_with_cases": False,
                 "stayed_in_high_risk_area": False, "current_area": "510104", **changes})


def apply(client: Any, person: Any, raw: str, key: str | None) -> Any:
    headers = dict(person.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/v1/codes", headers=headers, body=raw)


def version(client: Any, person: Any) -> int:
    response = client.get("/v1/codes/me", headers=person.headers)
    assert response.status_code == 200, response.json_body
    return response.json_body["version"]


# --- Idempotency-Key ----------------------------------------------------------------------------------------

def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing(client, citizen):
    person = citizen()
    first = apply(client, person, body(temperature=37.9), "retry-7f3a")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers

    retry = apply(client, person, body(temperature=37.9), "retry-7f3a")
    assert retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json_body == first.json_body
    assert version(client, person) == 1

    # without a key the same body is a new apply
    again = apply(client, person, body(temperature=37.9), None)
    assert again.status_code == 200 and again.json_body["version"] == 2
    assert "Idempotent-Replayed" not in again.headers


def test_a_retry_finds_the_first_answer_in_the_same_call_that_tries_to_claim_its_key(client, citizen):
    """A conditional put that loses is answered with the record it lost to (ReturnValuesOnConditionCheckFailure),
    so a replay costs one call to the idempotency table, not a claim and then a read."""
    person = citizen()
    assert apply(client, person, body(), "one-trip").status_code == 201
    calls: list[str] = []

    def note(params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("TableName", "").endswith("-idempotency"):
            calls.append(model.name)

    events = dynamo.client().meta.events
    events.register("before-parameter-build.dynamodb", note, unique_id="one-trip-test")
    try:
        retry = apply(client, person, body(), "one-trip")
    finally:
        events.unregister("before-parameter-build.dynamodb", unique_id="one-trip-test")
    assert retry.status_code == 201 and retry.headers.get("Idempotent-Replayed") == "true"
    assert calls == ["PutItem"]


def test_the_same_key_with_a_different_body_is_refused(client, citizen):
    person = citizen()
    assert apply(client, person, body(temperature=36.5), "k-1").status_code == 201
    response = apply(client, person, body(temperature=38.5), "k-1")
    assert_refused(response, 422, "idempotency_key_reused")
    code = client.get("/v1/codes/me", headers=person.headers).json_body
    assert code["version"] == 1 and code["color"] == "green"


def test_keys_belong_to_one_caller(client, citizen):
    alice, bob = citizen(), citizen()
    from_alice = apply(client, alice, body(), "shared-key")
    from_bob = apply(client, bob, body(), "shared-key")
    assert from_alice.status_code == from_bob.status_code == 201
    assert "Idempotent-Replayed" not in from_bob.headers
    assert from_bob.json_body["code_id"] != from_alice.json_body["code_id"]
    assert from_bob.json_body["id_last4"] == bob.id_number[-4:]


def test_an_invalid_key_is_refused_before_anything_is_written(client, citizen):
    person = citizen()
    for key in ("k" * 129, "k" * 200, "has spaces", "semi;colon", "键"):
        error = assert_refused(apply(client, person, body(), key), 422, "validation_failed")
        assert fields(error) == {"Idempotency-Key"}
    assert_refused(client.get("/v1/codes/me", headers=person.headers), 404, "no_code")
    assert apply(client, person, body(), "k" * 128).status_code == 201


def test_a_refused_request_does_not_burn_its_key(client, citizen):
    person = citizen()
    refused = apply(client, person, body(temperature="36.5"), "first-try")
    assert_refused(refused, 422, "validation_failed")
    # the corrected request, with a different body, may use the same key
    corrected = apply(client, person, body(temperature=36.5), "first-try")
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers
    assert apply(client, person, body(temperature=36.5), "first-try").headers.get("Idempotent-Replayed") == "true"
    assert version(client, person) == 1


# --- concurrent applies ---------------------------------------------------------------------------------------
# The chalice test client is not thread-safe, so these call the service directly, with the
# principal the HTTP layer would build from the citizen's token, and read the result over HTTP.

def declaration(temperature: float) -> Declaration:
    return Declaration(temperature=temperature, symptoms=[], contact_with_cases=False,
                       stayed_in_high_risk_area=False, current_area="510104")


def apply_all_at_once(principal: Any, temperatures: list[float]) -> list[dict[str, Any]]:
    start = threading.Barrier(len(temperatures))

    def one(temperature: float) -> dict[str, Any]:
        start.wait()
        return codes.apply(principal, declaration(temperature))

    with ThreadPoolExecutor(max_workers=len(temperatures)) as pool:
        return list(pool.map(one, temperatures))


def test_eight_devices_applying_at_once_all_land(client, citizen):
    person = citizen()
    principal = authenticate("Bearer " + person.token)
    temperatures = [36.1, 36.4, 36.8, 37.1, 37.3, 37.6, 38.2, 39.0]

    results = apply_all_at_once(principal, temperatures)

    # every apply wrote its own version: none was lost, none overwrote another unseen
    assert sorted(r["version"] for r in results) == list(range(1, 9))
    assert len({r["code_id"] for r in results}) == 1
    last = next(t for t, r in zip(temperatures, results, strict=True) if r["version"] == 8)

    code = client.get("/v1/codes/me", headers=person.headers).json_body
    assert code["version"] == 8 and code["code_id"] == results[0]["code_id"]
    assert code["color"] == ("yellow" if last >= FEVER_CELSIUS else "green")
    assert {r["code"] for r in code["reasons"]} == ({"declared_fever"} if last >= FEVER_CELSIUS else set())
    # the stored declaration is the one the last version was made from
    assert people.get(code["code_id"], consistent=True).declaration["temperature"] == last


def test_two_devices_creating_the_first_code_both_succeed(client, citizen):
    person = citizen()
    principal = authenticate("Bearer " + person.token)

    results = apply_all_at_once(principal, [36.5, 38.0])

    assert sorted(r["version"] for r in results) == [1, 2]
    assert results[0]["code_id"] == results[1]["code_id"]
    assert version(client, person) == 2
