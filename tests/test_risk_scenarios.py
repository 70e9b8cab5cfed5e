"""The issue's risk scenarios through the HTTP API: co-passenger exposures, area levels, medical status,
windows that close on their own, who may set what, the public co-passenger query and the cities view.

Published exposures and area levels stay in the shared tables for the whole session, so every test
uses numbers and prefectures of its own (see `flight`, `train`, `fresh_prefecture`), and residents live
and travel in Beijing and Shanghai, whose levels no test raises.
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from chalicelib import clock
from chalicelib.domain import days, divisions
from chalicelib.domain.limits import EXPOSURE_QUERIES_PER_ADDRESS
from chalicelib.errors import Conflict
from chalicelib.security.access import Role
from chalicelib.store import dynamo, people
from infra.local.pump import scheduled_event
from tests.conftest import auth, client_token, dump
from tests.dated import _clear_of_midnight, _leave_no_events_behind, day  # noqa: F401 (autouse fixtures)
from tests.refusals import assert_refused, fields

HOME, SHANGHAI = "110101", "310101"      # Beijing Dongcheng, Shanghai Huangpu: never raised
# prefectures where no test raises a level, so that a visit there leaves a visitor's color to their own sources
# (tests/test_venues.py county_of)
QUIET_PREFECTURES = {"44": "445100", "51": "511900"}   # Chaozhou, Bazhong
RESERVED_PREFECTURES = {"440100", "510100",   # the checkpoint fixture's Guangzhou, the walkthrough's Chengdu
                        "441700", "445300",   # test_openapi raises Yangjiang's 441781; test_retention stays in 445302
                        *QUIET_PREFECTURES.values()}
_rng = random.Random()
_taken: set[str] = set()


def _unique(make: Callable[[], str]) -> str:
    while (value := make()) in _taken:
        pass
    _taken.add(value)
    return value


def flight() -> str:
    return _unique(lambda: f"CA{_rng.randrange(1000, 10000)}")


def train() -> str:
    return _unique(lambda: f"G{_rng.randrange(1000, 10000)}")


def flight_and_train() -> str:
    """A string that is both a flight (airline G5) and a train (G class) number."""
    return _unique(lambda: f"G5{_rng.randrange(100, 1000)}")


def fresh_prefecture(province: str) -> tuple[str, str]:
    """A prefecture no other test in this session raises, and one of its counties."""
    counties = [c for c in divisions.all_counties() if c.startswith(province)]
    prefectures = sorted({c[:4] + "00" for c in counties if divisions.is_division(c[:4] + "00")}
                         - RESERVED_PREFECTURES - _taken)
    prefecture = _rng.choice(prefectures)
    _taken.add(prefecture)
    return prefecture, _rng.choice([c for c in counties if c.startswith(prefecture[:4])])




def resident(citizen: Any, **declaration: Any) -> Any:
    person = citizen()
    response = person.apply(current_area=HOME, **declaration)
    assert response.status_code == 201, response.json_body
    return person


def declare(client: Any, person: Any, **trip: Any) -> dict[str, Any]:
    body = {"date": day(), "from": HOME, "to": SHANGHAI, **trip}
    response = client.post("/v1/trips", headers=person.headers, body=dump(body))
    assert response.status_code == 201, response.json_body
    return response.json_body


def publish(client: Any, authority: dict[str, str], **exposure: Any) -> dict[str, Any]:
    body = {"date": day(), "case_type": "confirmed", **exposure}
    response = client.post("/v1/exposures", headers=authority, body=dump(body))
    assert response.status_code == 201, response.json_body
    return response.json_body


def set_level(client: Any, authority: dict[str, str], code: str, level: str, **extra: Any) -> dict[str, Any]:
    response = client.put(f"/v1/areas/{code}", headers=authority, body=dump({"level": level, **extra}))
    assert response.status_code == 200, response.json_body
    return response.json_body


def code_of(client: Any, person: Any) -> dict[str, Any]:
    response = client.get("/v1/codes/me", headers=person.headers)
    assert response.status_code == 200, response.json_body
    return response.json_body


def color(client: Any, person: Any) -> str:
    return code_of(client, person)["color"]


def reason_codes(client: Any, person: Any) -> list[str]:
    return [r["code"] for r in code_of(client, person)["reasons"]]


def drain(pump: Any) -> None:
    """Run the stream handler on what is pending, as Lambda would; a handler that raised fails the test."""
    failures = pump.failures
    pump.drain()
    assert pump.failures == failures, "a stream handler raised (see the log)"


# (a) co-passengers --------------------------------------------------------------------------------

def test_a_passenger_of_a_flight_later_published_turns_yellow_without_reapplying_and_sees_why(
        client, citizen, health_authority, pump):
    number = flight()
    passenger = resident(citizen)
    declare(client, passenger, mode="flight", number=number, seat="40A")
    assert color(client, passenger) == "green"
    version = code_of(client, passenger)["version"]

    published = publish(client, health_authority("42"), mode="flight", number=number.lower()[:2] + " " + number[2:],
                        rows={"from": 10, "to": 12})
    assert published["number"] == number and published["mode"] == "flight"
    drain(pump)

    code = code_of(client, passenger)
    assert code["color"] == "yellow" and code["version"] > version
    risk = client.get("/v1/me/risk", headers=passenger.headers).json_body
    assert risk["color"] == "yellow" and risk["headline"].startswith("黄码")
    [reason] = risk["reasons"]
    assert reason["source"] == "exposure" and reason["code"] == "co_passenger" and reason["color"] == "yellow"
    assert reason["since"] == published["published_at"]
    assert reason["until"] == days.lapses_at(days.today(clock.now()))
    assert number in reason["message"] and number in reason["message_en"] and "确诊" in reason["message"]
    assert reason["source_name"] == "同乘人员" and reason["until_iso"] and reason["since_iso"]
    assert risk["next_change_at"] == reason["until"]


@pytest.mark.parametrize("seat, expected", [
    ("8A", "red"), ("10C", "red"), ("12F", "red"), ("14K", "red"),      # within 2 rows of rows 10-12
    ("7A", "yellow"), ("15B", "yellow"), (None, "yellow"),              # farther, or seat unknown
])
def test_a_seat_within_two_rows_of_a_confirmed_case_is_red(client, citizen, health_authority, pump, seat, expected):
    number = flight()
    passenger = resident(citizen)
    declare(client, passenger, mode="flight", number=number, **({"seat": seat} if seat else {}))
    publish(client, health_authority("11"), mode="flight", number=number, rows={"from": 10, "to": 12})
    drain(pump)
    assert color(client, passenger) == expected
    assert reason_codes(client, passenger) == ["co_passenger_close" if expected == "red" else "co_passenger"]


def test_a_train_passenger_in_a_published_carriage_is_red_and_in_another_carriage_yellow(
        client, citizen, health_authority, pump):
    number = train()
    same, other, unknown = resident(citizen), resident(citizen), resident(citizen)
    declare(client, same, mode="train", number=number, carriage=5)
    declare(client, other, mode="train", number=number, carriage=6)
    declare(client, unknown, mode="train", number=number)
    publish(client, health_authority("31"), mode="train", number=number, carriages=[5, 9], inbound=True)
    drain(pump)
    assert (color(client, same), color(client, other), color(client, unknown)) == ("red", "yellow", "yellow")
    assert reason_codes(client, same) == ["co_passenger_close"]
    assert "境外输入" in code_of(client, same)["reasons"][0]["message"]


def test_a_suspected_case_makes_even_a_close_seat_only_yellow(client, citizen, health_authority, pump):
    number = flight()
    near = resident(citizen)
    declare(client, near, mode="flight", number=number, seat="11A")
    publish(client, health_authority("11"), mode="flight", number=number, case_type="suspected",
            rows={"from": 11, "to": 11})
    drain(pump)
    assert color(client, near) == "yellow"
    assert reason_codes(client, near) == ["co_passenger_close"]
    assert "疑似" in code_of(client, near)["reasons"][0]["message"]
    # a later confirmed case on the same flight outranks it
    publish(client, health_authority("11"), mode="flight", number=number, rows={"from": 12, "to": 12})
    drain(pump)
    assert color(client, near) == "red"


def test_a_recompute_that_fails_in_a_fan_out_leaves_the_others_done_and_the_retried_batch_finishes(
        client, citizen, health_authority, pump, monkeypatch):
    from chalicelib.services import assessment

    number = flight()
    passengers = [resident(citizen) for _ in range(5)]
    for passenger in passengers:
        declare(client, passenger, mode="flight", number=number)
    failed: list[str] = []
    calls: list[str] = []
    real = assessment.refresh

    def flaky(person: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(person)
        if not failed:  # the first recompute of the fan-out fails once
            failed.append(person)
            raise Conflict("injected", code="concurrent_update")
        return real(person, *args, **kwargs)

    monkeypatch.setattr(assessment, "refresh", flaky)
    publish(client, health_authority("11"), mode="flight", number=number)
    failures = pump.failures
    pump.drain()  # the first pass raises (as a Lambda invocation would) and the batch is read again
    assert failed and pump.failures == failures + 1
    retried_at = calls.index(failed[0], 1)
    assert len(set(calls[:retried_at])) == 5  # the failing pass recomputed the other four too
    assert [color(client, p) for p in passengers] == ["yellow"] * 5


def test_a_passenger_of_the_same_number_on_another_date_is_unaffected(client, citizen, health_authority, pump):
    number = train()
    yesterday, today = resident(citizen), resident(citizen)
    declare(client, yesterday, mode="train", number=number, carriage=2, date=day(1))
    declare(client, today, mode="train", number=number, carriage=2)
    publish(client, health_authority("11"), mode="train", number=number, carriages=[2])
    drain(pump)
    assert color(client, today) == "red"
    assert color(client, yesterday) == "green" and reason_codes(client, yesterday) == []


def test_a_train_and_a_flight_with_the_same_number_are_not_confused(client, citizen, health_authority, pump):
    number = flight_and_train()
    by_train, by_air = resident(citizen), resident(citizen)
    declare(client, by_train, mode="train", number=number, carriage=1)
    declare(client, by_air, mode="flight", number=number, seat="1A")
    publish(client, health_authority("11"), mode="train", number=number, carriages=[1])
    drain(pump)
    assert color(client, by_train) == "red"
    assert color(client, by_air) == "green"
    found = client.get(f"/v1/exposures?number={number}&date={day()}").json_body
    assert [(e["mode"], e["number"]) for e in found["exposures"]] == [("train", number)]


def test_a_trip_declared_after_the_publication_is_yellow_at_once(client, citizen, health_authority):
    number = flight()
    publish(client, health_authority("11"), mode="flight", number=number, date=day(2))
    late = resident(citizen)
    declare(client, late, mode="flight", number=number, date=day(2))
    assert color(client, late) == "yellow"        # no stream handler involved: the declaration reassessed
    assert reason_codes(client, late) == ["co_passenger"]


# (b) area levels ---------------------------------------------------------------------------------

def test_a_raised_area_level_turns_its_visitors_yellow(client, citizen, health_authority, pump):
    prefecture, county = fresh_prefecture("44")
    by_trip, by_checkin, elsewhere = resident(citizen), resident(citizen), resident(citizen)
    declare(client, by_trip, mode="car", to=county, date=day(3))
    checked_in = client.post("/v1/checkins", headers=by_checkin.headers,
                             body=dump({"area": county, "temperature": 36.4}))
    assert checked_in.status_code == 201
    declare(client, elsewhere, mode="car", to=SHANGHAI)
    assert [color(client, p) for p in (by_trip, by_checkin, elsewhere)] == ["green", "green", "green"]

    level = set_level(client, health_authority("44"), county, "medium", note="cluster")
    assert level["level"] == "medium" and level["code"] == county
    drain(pump)

    assert color(client, by_trip) == color(client, by_checkin) == "yellow"
    assert color(client, elsewhere) == "green"
    risk = client.get("/v1/me/risk", headers=by_trip.headers).json_body
    [reason] = risk["reasons"]
    assert reason["source"] == "area" and reason["code"] == "medium_risk_stay"
    assert reason["since"] == level["since"] and reason["until"] == days.lapses_at(dt.date.fromisoformat(day(3)))
    assert divisions.name_of(county) in reason["message"]


def test_a_big_citys_visitors_are_spread_over_index_shards_and_all_found(client, citizen, health_authority, pump):
    prefecture, county = fresh_prefecture("32")
    visitors = [resident(citizen) for _ in range(24)]
    for person in visitors:
        declare(client, person, mode="car", to=county)
    shards = {item["city_shard"] for item in dynamo.scan_all("visits", "city = :c", {":c": prefecture})}
    assert len(shards) >= 8 and all(s.startswith(prefecture + "#") for s in shards)  # not one hot key

    set_level(client, health_authority("32"), prefecture, "high")
    drain(pump)
    assert [color(client, p) for p in visitors] == ["yellow"] * len(visitors)


def test_a_raised_prefecture_reaches_its_counties_and_a_high_risk_stay_with_fever_is_red(
        client, citizen, health_authority, pump):
    prefecture, county = fresh_prefecture("51")
    visitor, feverish, never = resident(citizen), resident(citizen, temperature=38.2), resident(citizen)
    declare(client, visitor, mode="train", number="D7", to=county)
    declare(client, feverish, mode="bus", to=county, date=day(5))
    assert color(client, feverish) == "yellow"      # the declared fever alone

    set_level(client, health_authority("51"), prefecture, "high")
    drain(pump)

    assert color(client, visitor) == "yellow" and reason_codes(client, visitor) == ["high_risk_stay"]
    assert color(client, feverish) == "red"
    assert reason_codes(client, feverish) == ["high_risk_stay_with_fever", "declared_fever"]
    assert color(client, never) == "green" and reason_codes(client, never) == []


def test_an_earlier_stay_while_the_area_was_risky_counts_after_the_level_falls_and_they_come_back(
        client, citizen, health_authority, pump):
    prefecture, county = fresh_prefecture("44")
    authority = health_authority("44")
    now = clock.now()
    set_level(client, authority, county, "high", effective_from=now - 4 * days.DAY)
    set_level(client, authority, county, "low", effective_from=now - 2 * days.DAY)
    drain(pump)
    person = resident(citizen)
    declare(client, person, mode="car", to=county, date=day(3))     # while it was high
    assert color(client, person) == "yellow"
    declare(client, person, mode="car", to=HOME, **{"from": county})  # back there today, now low
    assert color(client, person) == "yellow"
    assert reason_codes(client, person) == ["high_risk_stay"]


def test_a_level_replaced_with_the_same_start_counts_as_never_set(client, citizen, health_authority, pump):
    prefecture, county = fresh_prefecture("51")
    authority = health_authority("51")
    person = resident(citizen)
    declare(client, person, mode="car", to=county)
    start = clock.now() - 3600
    set_level(client, authority, prefecture, "high", effective_from=start)
    drain(pump)
    assert color(client, person) == "yellow"

    corrected = set_level(client, authority, prefecture, "low", effective_from=start, note="set by mistake")
    assert corrected["level"] == "low"
    assert client.get(f"/v1/areas/{prefecture}").json_body["level"] == "low"
    drain(pump)
    assert color(client, person) == "green"


# (c) medical status ------------------------------------------------------------------------------

def test_confirmed_is_red_at_once_and_recovered_lifts_it_to_the_other_sources_color(
        client, citizen, health_authority):
    person = resident(citizen, symptoms=["cough"])
    assert color(client, person) == "yellow"
    authority = health_authority("11")

    confirmed = client.post("/v1/health-statuses", headers=authority,
                            body=dump({"id_number": person.id_number, "status": "confirmed", "note": "PCR"}))
    assert confirmed.status_code == 201, confirmed.json_body
    body = confirmed.json_body
    # nothing about the person beyond what the authority sent: not whether they have a code, nor its color
    assert set(body) == {"status", "since", "id_last4", "issuer", "basis"} and body["status"] == "confirmed"
    assert body["issuer"] == "11" and body["basis"]["connection"] == "declared_area"
    assert body["id_last4"] == person.id_number[-4:] and person.id_number not in dump(body)
    assert color(client, person) == "red" and reason_codes(client, person)[0] == "medical_confirmed"

    recovered = client.post("/v1/health-statuses", headers=authority,
                            body=dump({"id_number": person.id_number.lower(), "status": "recovered"}))
    assert recovered.status_code == 201 and "color" not in recovered.json_body
    assert color(client, person) == "yellow" and reason_codes(client, person) == ["declared_symptoms"]

    # who set it is on record
    from chalicelib.security import pseudonyms

    history = dynamo.query_all("medical", "pk = :p AND begins_with(sk, :h)",
                               {":p": pseudonyms.person_ref(person.id_number), ":h": "H#"})
    setter = jwt.decode(authority["Authorization"].split()[1], options={"verify_signature": False})["sub"]
    assert {(h["status"], h.get("previous"), h["set_by"]) for h in history} == {
        ("confirmed", None, setter), ("recovered", "confirmed", setter)}


@pytest.mark.parametrize("status, expected", [
    ("suspected", "red"), ("close_contact", "red"), ("under_observation", "yellow"), ("cleared", "green"),
])
def test_each_medical_status_has_its_color(client, citizen, health_authority, status, expected):
    person = resident(citizen)
    response = client.post("/v1/health-statuses", headers=health_authority("11"),
                           body=dump({"id_number": person.id_number, "status": status}))
    assert response.status_code == 201
    assert color(client, person) == expected


def test_a_status_set_before_the_person_applied_applies_when_they_apply(client, citizen, health_authority, pump):
    from tests import people

    id_number = people.id_number()
    # nothing ties a person without a code to Beijing yet: the authority says why it acts
    response = client.post("/v1/health-statuses", headers=health_authority("11"),
                           body=dump({"id_number": id_number, "status": "close_contact",
                                      "basis": {"kind": "traced_here"}}))
    assert response.status_code == 201, response.json_body
    assert "has_code" not in response.json_body and "color" not in response.json_body
    drain(pump)     # the handler of the event finds no code and writes none

    person = citizen(id_number)
    applied = person.apply(current_area=HOME)
    assert applied.status_code == 201
    assert applied.json_body["color"] == "red"
    assert [r["code"] for r in applied.json_body["reasons"]] == ["medical_close_contact"]


def test_the_id_number_is_checked_and_a_status_is_for_health_authorities_only(client, citizen, checkpoint):
    person = resident(citizen)
    error = assert_refused(client.post("/v1/health-statuses", headers=person.headers,
                                       body=dump({"id_number": person.id_number, "status": "cleared"})), 403)
    assert error["code"] == "forbidden"
    assert_refused(client.post("/v1/health-statuses", headers=checkpoint,
                               body=dump({"id_number": person.id_number, "status": "confirmed"})), 403, "forbidden")
    authority = auth(client_token(client, Role.HEALTH_AUTHORITY, province="11"))
    bad = client.post("/v1/health-statuses", headers=authority,
                      body=dump({"id_number": person.id_number[:-1] + "X" if person.id_number[-1] != "X"
                                 else person.id_number[:-1] + "0", "status": "confirmed"}))
    assert fields(assert_refused(bad, 422, "validation_failed")) == {"id_number"}
    assert color(client, person) == "green"


# (d) windows close on their own ------------------------------------------------------------------

def test_fourteen_days_later_a_trips_yellow_lapses_without_anyone_touching_the_record(
        client, citizen, health_authority, pump, app_module):
    number = flight()
    prefecture, county = fresh_prefecture("44")
    passenger, visitor = resident(citizen), resident(citizen)
    declare(client, passenger, mode="flight", number=number, seat="30A")
    declare(client, visitor, mode="car", to=county)
    publish(client, health_authority("44"), mode="flight", number=number)
    set_level(client, health_authority("44"), prefecture, "medium")
    drain(pump)
    assert color(client, passenger) == color(client, visitor) == "yellow"
    stored = {p: people.get(code_of(client, p)["code_id"], consistent=True) for p in (passenger, visitor)}

    clock.shift(16 * days.DAY)      # today's trip lapses at the start of the 15th day after it
    passenger = citizen(passenger.id_number, passenger.name)       # sessions last an hour: log in again
    visitor = citizen(visitor.id_number, visitor.name)
    gate = auth(client_token(client, Role.CHECKPOINT, area=HOME))
    for person, before in zip((passenger, visitor), stored.values(), strict=True):
        code = code_of(client, person)
        assert code["color"] == "green" and code["reasons"] == []
        verified = client.post("/v1/verifications", headers=gate,
                               body=dump({"token": person.qr_token(), "checkpoint_id": "lapse-gate"})).json_body
        assert verified["valid"] is True and verified["color"] == "green"
        # nobody rewrote the record: the reads above computed the color from the stored windows
        now_stored = people.get(code["code_id"], consistent=True)
        assert now_stored.version == before.version and now_stored.color == "yellow"
        assert now_stored.due_at <= clock.now()

    app_module.sweeper(scheduled_event(), None)     # the scheduled handler, as Lambda calls it

    for before in stored.values():
        swept = people.get(before.code_id, consistent=True)
        assert swept.color == "green" and swept.sources == {}
        assert swept.version == before.version + 1 and swept.due_at is None
    assert color(client, passenger) == "green"
    # sweeping again rewrites nothing of theirs
    app_module.sweeper(scheduled_event(), None)
    assert [people.get(b.code_id, consistent=True).version for b in stored.values()] == [
        b.version + 1 for b in stored.values()]


# (e) who may set levels and publish exposures ---------------------------------------------------

def test_a_health_authority_cannot_set_areas_in_another_province(client, health_authority):
    prefecture, county = fresh_prefecture("44")
    for code in (prefecture, county):
        response = client.put(f"/v1/areas/{code}", headers=health_authority("51"), body=dump({"level": "high"}))
        assert_refused(response, 403, "outside_province")
        area = client.get(f"/v1/areas/{code}").json_body
        assert area["level"] == "low" and area["history"] == []


def test_citizens_and_checkpoints_cannot_publish_exposures_or_set_areas(client, citizen, checkpoint):
    prefecture, county = fresh_prefecture("51")
    person = resident(citizen)
    exposure = {"mode": "flight", "number": flight(), "date": day(), "case_type": "confirmed"}
    for headers in (person.headers, checkpoint):
        assert_refused(client.post("/v1/exposures", headers=headers, body=dump(exposure)), 403, "forbidden")
        assert_refused(client.put(f"/v1/areas/{county}", headers=headers, body=dump({"level": "high"})), 403,
                       "forbidden")
    assert_refused(client.post("/v1/exposures", headers={"Content-Type": "application/json"}, body=dump(exposure)),
                   401)
    assert_refused(client.put(f"/v1/areas/{county}", headers={"Content-Type": "application/json"},
                              body=dump({"level": "high"})), 401)
    assert client.get(f"/v1/areas/{county}").json_body["history"] == []
    assert client.get(f"/v1/exposures?number={exposure['number']}&date={day()}").json_body["affected"] is False


def test_area_levels_are_public_with_their_history(client, health_authority):
    prefecture, county = fresh_prefecture("44")
    authority = health_authority("44")
    now = clock.now()
    set_level(client, authority, county, "medium", effective_from=now - 2 * days.DAY)
    set_level(client, authority, county, "high", effective_from=now - days.DAY)
    set_level(client, authority, county, "low")

    response = client.get(f"/v1/areas/{county}")     # no Authorization: public
    assert response.status_code == 200 and "public" in response.headers["Cache-Control"]
    area = response.json_body
    assert area["code"] == county and area["name"] == divisions.name_of(county)
    assert area["level"] == "low" and now <= area["since"] <= clock.now()
    assert [(h["level"], h["from"]) for h in area["history"]] == [
        ("medium", now - 2 * days.DAY), ("high", now - days.DAY), ("low", area["since"])]
    # the prefecture itself was never set
    assert client.get(f"/v1/areas/{prefecture}").json_body == {
        "code": prefecture, "name": divisions.name_of(prefecture), "level": "low", "since": None, "history": []}


@pytest.mark.parametrize("code", ["999999", "440199", "4401", "44010x", "0"])
def test_an_unknown_area_code_is_not_found(client, health_authority, code):
    assert_refused(client.get(f"/v1/areas/{code}"), 404, "unknown_area")
    response = client.put(f"/v1/areas/{code}", headers=health_authority("44"), body=dump({"level": "high"}))
    assert_refused(response, 404, "unknown_area")


@pytest.mark.parametrize("back", [-3600, 15 * days.DAY])
def test_a_level_effective_in_the_future_or_over_14_days_ago_is_refused(client, health_authority, back):
    prefecture, county = fresh_prefecture("51")
    response = client.put(f"/v1/areas/{county}", headers=health_authority("51"),
                          body=dump({"level": "medium", "effective_from": clock.now() - back}))
    assert fields(assert_refused(response, 422, "validation_failed")) == {"effective_from"}
    assert client.get(f"/v1/areas/{county}").json_body["history"] == []


@pytest.mark.parametrize("changes, field", [
    ({"mode": "bus", "number": "A1"}, "mode"),
    ({"number": "C1"}, "number"),
    ({"mode": "flight", "carriages": [1]}, "carriages"),
    ({"mode": "train", "number": "G1", "rows": {"from": 1, "to": 2}}, "rows"),
    ({"rows": {"from": 5, "to": 2}}, "rows"),
    ({"case_type": "rumoured"}, "case_type"),
])
def test_an_invalid_exposure_is_refused_with_a_field_error(client, health_authority, changes, field):
    body = {"mode": "flight", "number": "CA1", "date": day(), "case_type": "confirmed", **changes}
    response = client.post("/v1/exposures", headers=health_authority("11"), body=dump(body))
    assert fields(assert_refused(response, 422, "validation_failed")) == {field}


def test_an_exposure_dated_in_the_future_is_refused(client, health_authority):
    tomorrow = (days.today(clock.now()) + dt.timedelta(days=1)).isoformat()
    body = {"mode": "flight", "number": flight(), "date": tomorrow, "case_type": "confirmed"}
    response = client.post("/v1/exposures", headers=health_authority("11"), body=dump(body))
    assert fields(assert_refused(response, 422, "validation_failed")) == {"date"}


# (f) the public co-passenger query ----------------------------------------------------------------

def test_the_co_passenger_query_is_public_and_normalises_the_number(client, health_authority):
    by_air, by_rail = flight(), train()
    authority = health_authority("11")
    publish(client, authority, mode="flight", number=by_air, rows={"from": 3, "to": 5})
    publish(client, authority, mode="train", number=by_rail, date=day(1), carriages=[2, 7], case_type="suspected",
            inbound=True)

    spaced = by_air[:2].lower() + "%20" + by_air[2:]
    for asked in (by_air, by_air.lower(), spaced, "%20" + spaced + "%20"):
        response = client.get(f"/v1/exposures?number={asked}&date={day()}")   # no Authorization
        assert response.status_code == 200, response.json_body
        body = response.json_body
        assert body["affected"] is True and body["date"] == day()
        [found] = body["exposures"]
        assert (found["mode"], found["number"], found["case_type"]) == ("flight", by_air, "confirmed")
        assert found["rows"] == {"from": 3, "to": 5} and found["carriages"] == []

    rail = client.get(f"/v1/exposures?number={by_rail.lower()}&date={day(1)}").json_body
    assert rail["affected"] is True
    [found] = rail["exposures"]
    assert found["carriages"] == [2, 7] and found["rows"] is None and found["inbound"] is True
    assert found["case_type"] == "suspected"

    assert client.get(f"/v1/exposures?number={by_air}&date={day(1)}").json_body == {
        "number": by_air, "date": day(1), "affected": False, "exposures": []}
    assert client.get(f"/v1/exposures?number={flight()}&date={day()}").json_body["affected"] is False


@pytest.mark.parametrize("query, field", [
    ("number=CA12345&date={today}", "number"), ("number=123456&date={today}", "number"),
    ("number=G-1&date={today}", "number"),
    ("number=CA123", "date"), ("number=CA123&date=03-10", "date"), ("date={today}", "number"),
])
def test_an_invalid_co_passenger_query_is_refused(client, query, field):
    response = client.get("/v1/exposures?" + query.format(today=day()))
    assert fields(assert_refused(response, 422, "validation_failed")) == {field}


def test_the_co_passenger_query_answers_429_after_60_a_minute_from_one_source(client):
    # every request of chalice's test client comes from 127.0.0.1, so count in a minute of our own:
    # far from the real clock (other tests' queries) and at its very start
    clock.shift(_rng.randrange(1000, 100000) * 3600)
    clock.shift(60 - clock.now() % 60)
    number = flight()
    per_minute = EXPOSURE_QUERIES_PER_ADDRESS.count
    answers = [client.get(f"/v1/exposures?number={number}&date=2020-03-10").status_code
               for _ in range(per_minute)]
    assert answers == [200] * per_minute
    response = client.get(f"/v1/exposures?number={number}&date=2020-03-10")
    refused = assert_refused(response, 429, "too_many_requests")
    assert "60" in refused["message"] and 1 <= int(response.headers["Retry-After"]) <= 60
    clock.shift(60)     # the next minute
    assert client.get(f"/v1/exposures?number={number}&date=2020-03-10").status_code == 200


# (g) the cities the caller has been to ------------------------------------------------------------

def test_my_cities_lists_trip_check_in_and_checkpoint_scan_cities_with_their_level(
        client, citizen, checkpoint, health_authority, pump):
    prefecture, county = fresh_prefecture("51")
    person = resident(citizen)
    declare(client, person, mode="train", number="G1", date=day(2), to=county)
    assert client.post("/v1/checkins", headers=person.headers,
                       body=dump({"area": SHANGHAI, "temperature": 36.5})).status_code == 201
    scanned = client.post("/v1/verifications", headers=checkpoint,
                          body=dump({"token": person.qr_token(), "checkpoint_id": "gz-east-1"}))
    assert scanned.json_body["valid"] is True
    pump.drain()  # the scan's row is written from the people table's stream
    start = clock.now() - 600
    set_level(client, health_authority("51"), prefecture, "medium", effective_from=start)

    response = client.get("/v1/me/cities", headers=person.headers)
    assert response.status_code == 200
    body = response.json_body
    assert body["since"] == day(14)
    cities = {c["area"]: c for c in body["cities"]}
    assert set(cities) == {HOME, county, SHANGHAI, "440106"}
    assert [c["area"] for c in body["cities"]][-2:] in ([HOME, county], [county, HOME])   # newest first

    assert cities[county] == {"area": county, "name": divisions.name_of(county), "level": "medium",
                              "level_since": start, "last_visited": day(2), "sources": ["trip"]}
    assert cities[HOME]["sources"] == ["trip"] and cities[HOME]["level"] == "low"
    assert cities[HOME]["level_since"] is None
    assert cities[SHANGHAI]["sources"] == ["checkin"] and cities[SHANGHAI]["last_visited"] == day()
    scan = cities["440106"]
    assert scan["sources"] == ["scan"] and scan["last_visited"] == day()
    # the scan city's level is its own or its prefecture's, whichever is higher: as the public areas say
    public = [client.get(f"/v1/areas/{code}").json_body for code in ("440106", "440100")]
    ranks = {"low": 0, "medium": 1, "high": 2}
    assert scan["level"] == max((a["level"] for a in public), key=ranks.__getitem__)


def test_cities_older_than_14_days_are_not_listed(client, citizen):
    person = resident(citizen)
    declare(client, person, mode="car", date=day(14), to=SHANGHAI)
    assert {c["area"] for c in client.get("/v1/me/cities", headers=person.headers).json_body["cities"]} == {
        HOME, SHANGHAI}
    clock.shift(days.DAY)
    person = citizen(person.id_number, person.name)
    assert client.get("/v1/me/cities", headers=person.headers).json_body["cities"] == []
