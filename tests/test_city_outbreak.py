"""A city's level goes up: every code that stayed there reads the new color at once, the stored history and
events follow in bounded units, and nothing unrelated waits behind them (issue 14).

Reads join each code's own stays with the area levels cached per container (domain/stays.py,
services/area_levels.py); the fan-out that brings stored assessments up to date runs as units of the
work table (events/fanout.py).
"""
from __future__ import annotations

from typing import Any

from chalicelib import clock, settings
from chalicelib.events import fanout
from chalicelib.security.access import Role
from chalicelib.services import area_levels
from chalicelib.store import areas, dynamo, people
from tests.conftest import auth, client_token, dump
from tests.dated import _clear_of_midnight, _leave_no_events_behind, day  # noqa: F401 (autouse fixtures)
from tests.test_risk_scenarios import (
    HOME,
    SHANGHAI,
    code_of,
    color,
    declare,
    drain,
    flight,
    fresh_prefecture,
    publish,
    resident,
    set_level,
)


def verified_color(client: Any, gate: dict[str, str], person: Any) -> str:
    response = client.post("/v1/verifications", headers=gate,
                           body=dump({"token": person.qr_token(), "checkpoint_id": "city-gate"}))
    assert response.status_code == 200 and response.json_body["valid"] is True, response.json_body
    return response.json_body["color"]


def history(client: Any, person: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/me/history", headers=person.headers)
    assert response.status_code == 200, response.json_body
    return response.json_body["history"]


def test_a_raised_level_is_read_at_once_by_everyone_who_stayed_there_before_any_fan_out(
        client, citizen, health_authority, pump):
    prefecture, county = fresh_prefecture("44")
    gate = auth(client_token(client, Role.CHECKPOINT, area=HOME))
    visitors = [resident(citizen) for _ in range(3)]
    for person in visitors:
        declare(client, person, mode="car", to=county, date=day(2))
    elsewhere = resident(citizen)
    declare(client, elsewhere, mode="car", to=SHANGHAI)
    drain(pump)
    assert verified_color(client, gate, visitors[0]) == "green"     # the container now holds a copy of the levels

    set_level(client, health_authority("44"), prefecture, "medium")
    # no stream handler has run: every read judges the stays on the code against the new level
    for person in visitors:
        assert verified_color(client, gate, person) == "yellow"
        assert color(client, person) == "yellow"
        risk = client.get("/v1/me/risk", headers=person.headers).json_body
        assert risk["color"] == "yellow" and [r["code"] for r in risk["reasons"]] == ["medium_risk_stay"]
    assert verified_color(client, gate, elsewhere) == "green"
    # the stored assessment and the history have not caught up yet: they follow from the fan-out
    stored = people.get(code_of(client, visitors[0])["code_id"], consistent=True)
    assert stored.color == "green"
    assert [h["color_after"] for h in history(client, visitors[0])][:1] == ["green"]

    drain(pump)
    for person in visitors:
        assert people.get(code_of(client, person)["code_id"], consistent=True).color == "yellow"
        latest = history(client, person)[0]
        assert latest["cause"] == "area" and latest["color_before"] == "green" and latest["color_after"] == "yellow"
        assert latest["reasons_added"] == ["area:medium_risk_stay"]


def test_another_containers_level_change_is_read_within_the_cache_age(client, citizen, health_authority,
                                                                         monkeypatch):
    prefecture, county = fresh_prefecture("51")
    gate = auth(client_token(client, Role.CHECKPOINT, area=HOME))
    person = resident(citizen)
    declare(client, person, mode="car", to=county)
    settings.override(area_levels_max_age=60.0)    # far longer than this test takes on a slow machine
    area_levels.forget()
    assert verified_color(client, gate, person) == "green"
    # the change is made by another container: this one's copy of the levels is not told about it
    monkeypatch.setattr(area_levels, "forget", lambda: None)
    set_level(client, health_authority("51"), county, "high")
    assert verified_color(client, gate, person) == "green"

    clock.shift(60)
    assert verified_color(client, gate, person) == "yellow"
    assert color(client, person) == "yellow"


def test_a_trip_to_a_low_area_keeps_the_stay_on_the_code_without_a_history_entry(client, citizen, health_authority):
    prefecture, county = fresh_prefecture("32")
    person = resident(citizen)
    before = people.get(code_of(client, person)["code_id"], consistent=True)
    entries = len(history(client, person))
    declare(client, person, mode="car", to=county, date=day(1))
    after = people.get(before.code_id, consistent=True)
    assert after.version == before.version + 1 and after.color == "green"
    assert f"{county}:" in after.facts.stays and f"{HOME}:" in after.facts.stays
    assert len(history(client, person)) == entries       # same color, same reasons: nothing to tell
    set_level(client, health_authority("32"), county, "medium")
    assert color(client, person) == "yellow"


def test_a_fan_out_runs_in_pages_that_continue_until_every_visitor_is_done(client, citizen, health_authority, pump,
                                                                          monkeypatch):
    monkeypatch.setattr(fanout, "AREA_PAGE", 2)      # many continuations from a few visitors
    prefecture, county = fresh_prefecture("41")
    visitors = [resident(citizen) for _ in range(20)]
    for person in visitors:
        declare(client, person, mode="car", to=county)
    drain(pump)

    level = set_level(client, health_authority("41"), prefecture, "high")
    drain(pump)
    stored = [people.get(code_of(client, p)["code_id"], consistent=True) for p in visitors]
    assert [s.color for s in stored] == ["yellow"] * len(visitors)
    assert all(s.sources["area"][0].since == level["since"] for s in stored)
    units = dynamo.scan_all("catchup", "begins_with(#k, :s) AND #p > :zero",
                            {":s": "s", ":zero": 0}, names={"#k": "key", "#p": "part"})
    assert any(u["params"]["area"] == prefecture for u in units), "no unit continued onto a second page"


def test_an_exposure_published_behind_a_big_fan_out_is_not_left_until_it_ends(client, citizen, health_authority,
                                                                              pump, monkeypatch):
    monkeypatch.setattr(fanout, "AREA_PAGE", 1)
    prefecture, county = fresh_prefecture("43")
    visitors = [resident(citizen) for _ in range(16)]
    for person in visitors:
        declare(client, person, mode="car", to=county)
    number = flight()
    passenger = resident(citizen)
    declare(client, passenger, mode="flight", number=number)
    drain(pump)
    done: list[str] = []
    real = fanout.run

    def noting(unit: Any, now: int) -> int:
        done.append(unit.kind)
        return real(unit, now)

    monkeypatch.setattr(fanout, "run", noting)
    set_level(client, health_authority("43"), prefecture, "high")
    publish(client, health_authority("11"), mode="flight", number=number)
    drain(pump)
    assert color(client, passenger) == "yellow"
    assert done.count("voyage") == 1 and done.count("area") > 16
    # the exposure's unit does not wait for the area's: they are on separate streams and functions
    assert done.index("voyage") < done.index("area")


def test_a_copy_of_the_levels_read_while_the_clock_was_ahead_is_replaced_once_it_is_back(monkeypatch):
    reads: list[bool] = []
    real = areas.levels
    monkeypatch.setattr(areas, "levels", lambda hot=False: reads.append(hot) or real(hot))
    clock.shift(30 * 86400)             # as a test that moves the platform clock on does
    area_levels.current()
    clock.reset()
    area_levels.current()               # the copy from "the future" is too old to trust: read again...
    area_levels.current()               # ...and that read is kept
    assert len(reads) == 2
