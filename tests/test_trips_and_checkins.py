"""14-day trip declaration and query, and the daily health check-in, through the HTTP API.

Trips here go between Beijing and Shanghai districts, whose levels no test raises, so a color seen
here comes from the trip or check-in under test alone.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.security.access import Role
from tests.conftest import auth, client_token, dump
from tests.dated import _clear_of_midnight, _leave_no_events_behind, day  # noqa: F401 (autouse fixtures)
from tests.refusals import assert_refused, fields

HOME, OFFICE = "110101", "110105"          # Beijing Dongcheng, Chaoyang
SHANGHAI, XUHUI = "310101", "310104"




def trip(**fields_: Any) -> dict[str, Any]:
    return {"date": day(), "from": HOME, "to": SHANGHAI, "mode": "car", **fields_}


def declare(client: Any, person: Any, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/v1/trips", headers={**person.headers, **headers}, body=dump(body))


def listed(client: Any, person: Any, query: str = "") -> dict[str, Any]:
    response = client.get(f"/v1/trips{query}", headers=person.headers)
    assert response.status_code == 200, response.json_body
    return response.json_body


def resident(citizen: Any) -> Any:
    person = citizen()
    assert person.apply(current_area=HOME).status_code == 201
    return person


def test_trips_are_listed_newest_first_a_page_at_a_time(client, citizen):
    person = resident(citizen)
    backs = [3, 0, 14, 1, 13]
    declared = {}
    for back in backs:
        response = declare(client, person, trip(date=day(back), mode="train", number="G12", carriage=back % 8 + 1))
        assert response.status_code == 201, response.json_body
        body = response.json_body
        assert body["date"] == day(back) and body["from"] == HOME and body["to"] == SHANGHAI
        assert body["mode"] == "train" and body["number"] == "G12" and body["carriage"] == back % 8 + 1
        assert body["trip_id"].startswith("trp_") and body["declared_at"] <= clock.now()
        declared[body["trip_id"]] = back

    everything = listed(client, person)
    assert [t["date"] for t in everything["trips"]] == [day(b) for b in sorted(backs)]
    assert {t["trip_id"] for t in everything["trips"]} == set(declared)

    pages, cursor = [], None
    while True:
        page = listed(client, person, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["trips"]) <= 2
        pages.append(page["trips"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "the cursor never ends"
    assert len(pages) >= 3
    assert [t for p in pages for t in p] == everything["trips"]

    # someone else's list is their own
    assert listed(client, resident(citizen))["trips"] == []


def test_a_cursor_from_someone_else_or_made_up_is_refused(client, citizen):
    person, other = resident(citizen), resident(citizen)
    for back in (0, 1):
        assert declare(client, other, trip(date=day(back))).status_code == 201
    theirs = listed(client, other, "?limit=1")["next_cursor"]
    assert theirs
    forged = base64.urlsafe_b64encode(json.dumps({"pk": "someone", "sk": day()}).encode()).decode()
    for cursor in (theirs, forged, "not-a-cursor", base64.urlsafe_b64encode(b"\xff\xfe").decode()):
        error = assert_refused(client.get(f"/v1/trips?cursor={cursor}", headers=person.headers), 422,
                               "validation_failed")
        assert fields(error) == {"cursor"}
    # and the owner's cursor still works for the owner
    assert len(listed(client, other, f"?limit=1&cursor={theirs}")["trips"]) == 1
    error = assert_refused(client.get("/v1/trips?limit=0", headers=person.headers), 422)
    assert fields(error) == {"limit"}


def test_a_cursor_the_window_has_moved_past_ends_the_list(client, citizen):
    """A cursor given out on Monday, followed on Thursday: the trips after it have left the 14-day window,
    so the list ends there (DynamoDB refuses a start key outside the query's key condition)."""
    person = resident(citizen)
    for back in (13, 12):
        assert declare(client, person, trip(date=day(back))).status_code == 201
    first = listed(client, person, "?limit=1")
    assert [t["date"] for t in first["trips"]] == [day(12)] and first["next_cursor"]
    clock.shift(3 * days.DAY)
    again = citizen(person.id_number, person.name)   # a new session: the old one has expired
    assert listed(client, again, f"?cursor={first['next_cursor']}") == {"trips": [], "next_cursor": None}
    assert listed(client, again) == {"trips": [], "next_cursor": None}


@pytest.mark.parametrize("mode, raw, normal", [
    ("flight", "ca 0123", "CA123"), ("flight", "3u8888", "3U8888"), ("flight", "MU 5101", "MU5101"),
    ("train", "g 1234", "G1234"), ("train", "d 07", "D7"), ("train", "1461", "1461"),
])
def test_flight_and_train_numbers_are_normalised(client, citizen, mode, raw, normal):
    person = resident(citizen)
    response = declare(client, person, trip(mode=mode, number=raw))
    assert response.status_code == 201, response.json_body
    assert response.json_body["number"] == normal
    assert [t["number"] for t in listed(client, person)["trips"]] == [normal]


@pytest.mark.parametrize("mode, number", [
    ("flight", "C1"), ("flight", "CA12345"), ("flight", "1234"), ("flight", "CA"), ("flight", "C-A12"),
    ("train", "X123"), ("train", "G12345"), ("train", "GG12"),
])
def test_invalid_numbers_are_refused_with_a_field_error(client, citizen, mode, number):
    person = resident(citizen)
    error = assert_refused(declare(client, person, trip(mode=mode, number=number)), 422, "validation_failed")
    assert fields(error) == {"number"}, error
    assert listed(client, person)["trips"] == []


@pytest.mark.parametrize("changes, field", [
    ({"from": "999999"}, "from"),
    ({"to": "440199"}, "to"),
    ({"to": "4401"}, "to"),
    ({"date": "tomorrow"}, "date"),
    ({"mode": "rocket"}, "mode"),
    ({"mode": "train"}, "number"),                                       # a train needs its number
    ({"mode": "car", "number": "A12345"}, "number"),                      # a car trip has none
    ({"mode": "bus", "seat": "12"}, "seat"),
    ({"mode": "flight", "number": "CA1234", "carriage": 3}, "carriage"),  # carriages are for trains
    ({"mode": "flight", "number": "CA1234", "seat": "window"}, "seat"),
    ({"mode": "train", "number": "G1", "carriage": 31}, "carriage"),
])
def test_invalid_trips_are_refused_with_a_field_error(client, citizen, changes, field):
    person = resident(citizen)
    error = assert_refused(declare(client, person, trip(**changes)), 422, "validation_failed")
    assert fields(error) == {field}, error
    assert listed(client, person)["trips"] == []


@pytest.mark.parametrize("when", ["future", "too_old"])
def test_dates_outside_the_14_day_window_are_refused(client, citizen, when):
    person = resident(citizen)
    date = (days.today(clock.now()) + dt.timedelta(days=1)).isoformat() if when == "future" else day(15)
    error = assert_refused(declare(client, person, trip(date=date)), 422, "validation_failed")
    assert error["details"] == [{"field": "date", "message": error["details"][0]["message"], "type": "date_window"}]
    assert listed(client, person)["trips"] == []
    # the edges of the window are accepted: today and 14 days ago
    for back in (0, 14):
        assert declare(client, person, trip(date=day(back))).status_code == 201


def test_a_retried_declaration_with_its_idempotency_key_is_answered_once(client, citizen):
    person = resident(citizen)
    body = trip(mode="flight", number="CA 981", seat="32A", **{"to": XUHUI})
    first = declare(client, person, body, **{"Idempotency-Key": "trip-2020-03-01-a"})
    again = declare(client, person, body, **{"Idempotency-Key": "trip-2020-03-01-a"})
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.json_body == first.json_body
    assert [t["trip_id"] for t in listed(client, person)["trips"]] == [first.json_body["trip_id"]]

    reused = declare(client, person, {**body, "seat": "33A"}, **{"Idempotency-Key": "trip-2020-03-01-a"})
    assert_refused(reused, 422, "idempotency_key_reused")
    # a key is the caller's own: someone else using the same key declares their own trip
    other = resident(citizen)
    theirs = declare(client, other, body, **{"Idempotency-Key": "trip-2020-03-01-a"})
    assert theirs.status_code == 201 and theirs.json_body["trip_id"] != first.json_body["trip_id"]
    # without a key, the same body is a second trip
    assert declare(client, person, body).status_code == 201
    assert len(listed(client, person)["trips"]) == 2


def test_trips_are_citizens_own(client, citizen, checkpoint):
    assert_refused(client.post("/v1/trips", headers=checkpoint, body=dump(trip())), 403, "forbidden")
    assert_refused(client.get("/v1/trips", headers=checkpoint), 403, "forbidden")
    assert_refused(client.get("/v1/trips"), 401, "unauthenticated")


def test_trips_leave_the_list_when_their_14_days_are_over(client, citizen):
    person = resident(citizen)
    assert declare(client, person, trip(date=day(2))).status_code == 201
    assert declare(client, person, trip(date=day(0), to=XUHUI)).status_code == 201
    clock.shift(13 * days.DAY)      # the older trip is now 15 days old, the newer 13
    person = citizen(person.id_number, person.name)   # log in again: the old session has expired
    assert [t["to"] for t in listed(client, person)["trips"]] == [XUHUI]


def cities_by_source(client: Any, person: Any, source: str) -> list[str]:
    response = client.get("/v1/me/cities", headers=person.headers)
    assert response.status_code == 200, response.json_body
    return [c["area"] for c in response.json_body["cities"] if source in c["sources"]]


def check_in(client: Any, person: Any, area: str, temperature: float = 36.5, symptoms: list[str] | None = None) -> Any:
    response = client.post("/v1/checkins", headers=person.headers,
                           body=dump({"area": area, "temperature": temperature, "symptoms": symptoms or []}))
    assert response.status_code == 201, response.json_body
    return response.json_body


def test_one_check_in_a_day_a_second_one_replaces_the_first(client, citizen):
    person = resident(citizen)
    first = check_in(client, person, HOME)
    assert first["date"] == day() and first["area"] == HOME and first["temperature"] == 36.5
    assert cities_by_source(client, person, "checkin") == [HOME]

    second = check_in(client, person, SHANGHAI, 36.7)
    assert second["date"] == day() and second["area"] == SHANGHAI
    assert cities_by_source(client, person, "checkin") == [SHANGHAI]
    assert client.get("/v1/codes/me", headers=person.headers).json_body["color"] == "green"


def test_a_check_in_with_fever_turns_the_code_yellow_until_a_healthy_one_that_day(client, citizen):
    person = resident(citizen)
    fever = check_in(client, person, HOME, 38.1, ["cough"])
    code = client.get("/v1/codes/me", headers=person.headers).json_body
    assert code["color"] == "yellow"
    assert [r["code"] for r in code["reasons"]] == ["checkin_fever"]
    reason = code["reasons"][0]
    assert reason["source"] == "checkin" and reason["since"] == fever["at"]
    assert reason["until"] == days.lapses_at(days.today(clock.now()), 1)

    risk = client.get("/v1/me/risk", headers=person.headers).json_body
    assert risk["color"] == "yellow" and [r["code"] for r in risk["reasons"]] == ["checkin_fever"]
    assert risk["reasons"][0]["message"] and risk["reasons"][0]["source_name"] == "健康打卡"

    check_in(client, person, HOME, 36.6)        # that day's check-in, corrected
    assert client.get("/v1/codes/me", headers=person.headers).json_body["color"] == "green"


def test_fever_reported_as_a_symptom_counts_as_fever(client, citizen):
    person = resident(citizen)
    check_in(client, person, OFFICE, 36.8, ["fever"])
    code = client.get("/v1/codes/me", headers=person.headers).json_body
    assert code["color"] == "yellow" and [r["code"] for r in code["reasons"]] == ["checkin_fever"]


def test_a_check_in_is_refused_with_field_errors(client, citizen):
    person = resident(citizen)
    for body, field in [({"area": "999999", "temperature": 36.5}, "area"),
                        ({"area": HOME, "temperature": 52.0}, "temperature"),
                        ({"area": HOME, "temperature": 36.5, "symptoms": ["sneezing"]}, "symptoms.0")]:
        error = assert_refused(client.post("/v1/checkins", headers=person.headers, body=dump(body)), 422)
        assert fields(error) == {field}, error
    assert cities_by_source(client, person, "checkin") == []


def test_a_checkpoint_cannot_check_in_for_someone(client):
    headers = auth(client_token(client, Role.CHECKPOINT, area=HOME))
    response = client.post("/v1/checkins", headers=headers, body=dump({"area": HOME, "temperature": 36.5}))
    assert_refused(response, 403, "forbidden")
