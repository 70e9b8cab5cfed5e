"""Property-based tests of the pure rule module (chalicelib.domain): the color never goes below the
most severe live source, windows close, recovery lifts, and more information never lowers a color.

Inputs are generated the way the service gathers them (chalicelib.services.assessment.gather): trips
and check-ins of the last 14 days, visits on either side of the window, level periods set up to now,
exposures published by now on numbers and dates that may or may not match the trips.
"""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chalicelib.domain import days
from chalicelib.domain.areas import LevelPeriod, RiskLevel, Visit, periods_that_matter, visit_reasons
from chalicelib.domain.colors import Color, Reason, live_color, live_reasons, most_severe
from chalicelib.domain.corrections import Override
from chalicelib.domain.declaration import Declaration, Symptom, declaration_reasons
from chalicelib.domain.exposures import CaseType, Exposure, Trip, exposure_reasons
from chalicelib.domain.medical import MedicalStatus, medical_reasons
from chalicelib.domain.risk import CheckIn, RiskInputs, assess, checkin_reasons, has_fever, stay_facts
from chalicelib.domain.stays import area_reasons, decode_stays, encode_stays
from chalicelib.domain.transport import Mode
from tests.examples import examples

pytestmark = pytest.mark.fast

DAY = days.DAY
PROPERTIES = settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])

COUNTIES = ("440106", "440105", "510104", "510105")
AREAS = COUNTIES + ("440100", "510100")          # stays may name a prefecture too
NUMBERS = {Mode.FLIGHT: ("CA123", "CA124", "G5123"), Mode.TRAIN: ("G123", "G5123", "D7")}
LIFTED = (MedicalStatus.RECOVERED, MedicalStatus.CLEARED)

nows = st.integers(min_value=1_580_000_000, max_value=1_900_000_000)
# strategies are built once here: building them inside each draw costs more than the rules themselves
backs = st.integers(0, 20)                     # days before today: inside (0-14) and outside the window
hours = st.integers(0, 23)
declarations = st.builds(
    Declaration, temperature=st.sampled_from([36.2, 36.9, 37.2, 37.3, 37.8, 39.1]),
    symptoms=st.lists(st.sampled_from(list(Symptom)), unique=True, max_size=3),
    contact_with_cases=st.booleans(), stayed_in_high_risk_area=st.booleans(), current_area=st.just("510104"))
visit_drafts = st.lists(st.tuples(backs, st.sampled_from(AREAS), st.sampled_from(["trip", "checkin"])), max_size=6)
# level periods start on the days the stays happen, so levels rise and fall between two stays
level_drafts = st.dictionaries(st.sampled_from(AREAS), st.lists(
    st.tuples(st.sampled_from(list(RiskLevel)), st.integers(0, 30), hours), min_size=1, max_size=4), max_size=4)
trip_drafts = st.lists(st.tuples(st.sampled_from([Mode.FLIGHT, Mode.TRAIN, Mode.CAR]), st.integers(0, 2), backs,
                                 st.none() | st.sampled_from(["1A", "8C", "10F", "12K", "30B"]),
                                 st.none() | st.integers(1, 4)), max_size=4)
exposure_drafts = st.lists(st.tuples(
    st.sampled_from([Mode.FLIGHT, Mode.TRAIN]), st.integers(0, 2), backs, st.sampled_from(list(CaseType)),
    st.booleans(), st.floats(0, 1), st.lists(st.integers(1, 4), unique=True, max_size=2),
    st.none() | st.tuples(st.integers(1, 20), st.integers(0, 5))), max_size=4)
checkin_drafts = st.dictionaries(backs, st.tuples(st.sampled_from(COUNTIES), st.sampled_from([36.4, 37.0, 37.5, 38.6]),
                                                  st.lists(st.sampled_from(["fever", "cough"]), unique=True),
                                                  st.integers(0, DAY - 1)), max_size=4)


def day_before(now: int, back: int) -> dt.date:
    return days.today(now) - dt.timedelta(days=back)


@st.composite
def risk_inputs(draw: st.DrawFn, now: int, trips_in_window: bool = True) -> RiskInputs:
    """What gather() hands to assess() at `now`."""
    declaration = draw(st.none() | declarations)
    declared_at = now - draw(st.integers(0, 20 * DAY)) if declaration is not None else None
    status = draw(st.none() | st.sampled_from(list(MedicalStatus)))
    medical_since = now - draw(st.integers(0, 30 * DAY))

    # visits.recent() returns the last 14 days, but the rule must also ignore older ones by itself
    visits = [Visit(day_before(now, back), area, source) for back, area, source in draw(visit_drafts)]
    # set_level only accepts starts up to now
    levels = {code: [LevelPeriod(level, min(days.start_of(day_before(now, back)) + hour * 3600, now))
                     for level, back, hour in periods] for code, periods in draw(level_drafts).items()}

    def in_window(back: int) -> int:
        return back if not trips_in_window else back % 15   # trips.recent(): the last 14 days only

    trips = []
    for i, (mode, which, back, seat, carriage) in enumerate(draw(trip_drafts)):
        trips.append(Trip(f"trp_{i}", day_before(now, in_window(back)), mode,
                          NUMBERS[mode][which] if mode in NUMBERS else None,
                          seat if mode is Mode.FLIGHT else None, carriage if mode is Mode.TRAIN else None))

    exposures = []
    for i, (mode, which, back, case, inbound, when, carriages, rows) in enumerate(draw(exposure_drafts)):
        day = day_before(now, in_window(back))
        # published between the journey and now (never before the day it happened, never after now)
        first = min(days.start_of(day), now)
        exposures.append(Exposure(
            f"exp_{i}", mode, NUMBERS[mode][which], day, case, inbound, first + int((now - first) * when),
            carriages=tuple(carriages) if mode is Mode.TRAIN else (),
            rows=(rows[0], rows[0] + rows[1]) if rows and mode is Mode.FLIGHT else None))

    checkins = [CheckIn(day_before(now, back), area, temperature, tuple(symptoms),
                        min(days.start_of(day_before(now, back)) + second, now))
                for back, (area, temperature, symptoms, second) in draw(checkin_drafts).items()]

    return RiskInputs(declaration=declaration, declared_at=declared_at, medical_status=status,
                      medical_since=medical_since, visits=visits, levels=levels, trips=trips, exposures=exposures,
                      checkins=checkins)


@st.composite
def scenarios(draw: st.DrawFn, trips_in_window: bool = True) -> tuple[RiskInputs, int]:
    now = draw(nows)
    return draw(risk_inputs(now, trips_in_window)), now


def all_reasons(assessed: dict[str, list[Reason]]) -> list[Reason]:
    return [r for reasons in assessed.values() for r in reasons]


def color_of(inputs: RiskInputs, now: int) -> Color:
    return live_color(all_reasons(assess(inputs, now)), now)


def each_source(inputs: RiskInputs, now: int) -> dict[str, list[Reason]]:
    """Every source assessed on its own, straight from its rule function (not through assess)."""
    return {
        "declaration": declaration_reasons(inputs.declaration, inputs.declared_at)
        if inputs.declaration is not None and inputs.declared_at is not None else [],
        "medical_status": medical_reasons(inputs.medical_status, inputs.medical_since),
        "area": visit_reasons(inputs.visits, inputs.levels, False, now),
        "exposure": exposure_reasons(inputs.trips, inputs.exposures),
        "checkin": checkin_reasons(inputs.checkins, now),
    }


@PROPERTIES
@given(scenarios())
def test_the_color_is_never_below_the_most_severe_live_reason_of_any_source(scenario):
    inputs, now = scenario
    color = color_of(inputs, now)
    for source, reasons in each_source(inputs, now).items():
        worst = most_severe(r.color for r in reasons if r.is_live(now))
        assert color.severity >= worst.severity, (source, worst, color)
    for source, reasons in assess(inputs, now).items():
        assert all(r.source == source for r in reasons)
        worst = most_severe(r.color for r in reasons if r.is_live(now))
        assert color.severity >= worst.severity, (source, worst, color)


@PROPERTIES
@given(scenarios())
def test_green_exactly_when_no_reason_is_live(scenario):
    inputs, now = scenario
    reasons = all_reasons(assess(inputs, now))
    live = live_reasons(reasons, now)
    assert (color_of(inputs, now) is Color.GREEN) == (live == [])
    if live:
        assert live[0].color is color_of(inputs, now)  # most severe first


@PROPERTIES
@given(scenarios())
def test_every_reason_has_a_window_that_is_not_empty(scenario):
    inputs, now = scenario
    for reason in all_reasons(assess(inputs, now)):
        assert reason.until is None or reason.since < reason.until, reason
        assert reason.message and reason.message_en and reason.code


@PROPERTIES
@given(scenarios(trips_in_window=False))
def test_a_trip_or_stay_never_outlives_its_day_plus_the_window(scenario):
    inputs, now = scenario
    assessed = assess(inputs, now)
    for reason in assessed.get("exposure", []):
        # each exposure reason ends when the window of one of the matching trips ends
        assert reason.until is not None
        assert reason.until in {days.lapses_at(t.day) for t in inputs.trips}, reason
    for reason in assessed.get("area", []):
        assert reason.until is not None
        assert reason.until in {days.lapses_at(v.day) for v in inputs.visits}, reason
    for reason in assessed.get("checkin", []):
        assert reason.until in {days.lapses_at(c.day, 1) for c in inputs.checkins}, reason
    # once the last trip and stay is 15 days old, nothing from trips or stays is live
    latest = max([t.day for t in inputs.trips] + [v.day for v in inputs.visits], default=None)
    if latest is not None:
        later = days.lapses_at(latest)
        assert not live_reasons(assessed.get("exposure", []) + assessed.get("area", []), later)
        assert not assess(RiskInputs(visits=inputs.visits, levels=inputs.levels, trips=inputs.trips,
                                     exposures=[e for e in inputs.exposures if e.published_at <= later]),
                          later).get("area")


@PROPERTIES
@given(scenarios(), st.sampled_from(LIFTED))
def test_recovered_or_cleared_yields_no_medical_reason(scenario, lifted):
    inputs, now = scenario
    assert medical_reasons(lifted, inputs.medical_since) == []
    lifted_inputs = RiskInputs(**{**inputs.__dict__, "medical_status": lifted})
    assert "medical_status" not in assess(lifted_inputs, now)
    # and the color is then the other sources' color
    without = RiskInputs(**{**inputs.__dict__, "medical_status": None})
    assert color_of(lifted_inputs, now) is color_of(without, now)


@PROPERTIES
@given(scenarios(), st.sampled_from(["local_code", "correction"]),
       st.lists(st.tuples(st.sampled_from(list(Color)), st.integers(-20 * DAY, DAY),
                          st.none() | st.integers(1, 20 * DAY)), max_size=3))
def test_adding_a_sources_reasons_never_lowers_the_color(scenario, source, extra):
    inputs, now = scenario
    reasons = [Reason(source, f"{source}_{i}", color, "其他来源", "another source", now + start,
                      None if length is None else now + start + length)
               for i, (color, start, length) in enumerate(extra)]
    more = RiskInputs(**{**inputs.__dict__, "extra": {source: reasons}})
    assert color_of(more, now).severity >= color_of(inputs, now).severity
    assert color_of(more, now).severity >= live_color(reasons, now).severity


@PROPERTIES
@given(scenarios(), st.data())
def test_more_trips_stays_exposures_or_a_medical_status_never_lower_the_color(scenario, data):
    inputs, now = scenario
    other = data.draw(risk_inputs(now))
    before = color_of(inputs, now)
    grown = {
        "visits": RiskInputs(**{**inputs.__dict__, "visits": [*inputs.visits, *other.visits],
                                "levels": inputs.levels}),
        "trips": RiskInputs(**{**inputs.__dict__, "trips": [*inputs.trips, *other.trips]}),
        "exposures": RiskInputs(**{**inputs.__dict__, "exposures": [*inputs.exposures, *other.exposures]}),
        "fever check-in": RiskInputs(**{**inputs.__dict__, "checkins": [
            c for c in inputs.checkins if c.day != days.today(now)] + [
            CheckIn(days.today(now), "510104", 38.5, (), now)]}),
    }
    if inputs.medical_status in (None, *LIFTED):
        grown["medical status"] = RiskInputs(**{**inputs.__dict__, "medical_status": data.draw(
            st.sampled_from(list(MedicalStatus)))})
    for what, more in grown.items():
        assert color_of(more, now).severity >= before.severity, what


@PROPERTIES
@given(scenarios())
def test_fever_turns_exactly_the_high_risk_stays_red(scenario):
    inputs, now = scenario
    calm = visit_reasons(inputs.visits, inputs.levels, False, now)
    feverish = visit_reasons(inputs.visits, inputs.levels, True, now)
    assert all(r.color is Color.YELLOW and r.code in ("medium_risk_stay", "high_risk_stay") for r in calm)
    assert [(r.since, r.until, r.color if r.code == "medium_risk_stay" else Color.RED) for r in calm] == \
        [(r.since, r.until, r.color) for r in feverish]
    area = assess(inputs, now).get("area", [])
    assert area == (feverish if has_fever(inputs, now) else calm)


@PROPERTIES
@given(nows, st.lists(st.tuples(st.sampled_from(list(RiskLevel)), st.integers(0, 16), hours), min_size=1, max_size=4),
       st.lists(st.integers(0, 16), min_size=2, max_size=4, unique=True), st.sampled_from(["440106", "440100"]),
       st.booleans())
def test_staying_again_in_an_area_already_visited_never_lowers_the_color(now, periods, backs, governing, fever):
    """A stay while an area was risky counts for 14 days, whatever stays there come after it (one area, its level
    rising and falling around the stays: the case a rule keeping only the latest stay per area gets wrong)."""
    levels = {governing: [LevelPeriod(level, min(days.start_of(day_before(now, back)) + hour * 3600, now))
                          for level, back, hour in periods]}
    stays = [Visit(day_before(now, back), "440106", "checkin") for back in backs]
    together = live_color(visit_reasons(stays, levels, fever, now), now)
    for stay in stays:
        alone = live_color(visit_reasons([stay], levels, fever, now), now)
        assert together.severity >= alone.severity, (stay, together, alone)
    # and the reasons kept for the area still cover the longest-lasting risky stay
    lasting = [s for s in stays if visit_reasons([s], levels, fever, now)]
    if lasting:
        last = max(days.lapses_at(s.day) for s in lasting)
        assert max(r.until for r in visit_reasons(stays, levels, fever, now)) == last


# --- reads join a code's stays with the levels in force (domain/stays.py) ------------------------------

area_overrides = st.lists(st.tuples(st.sampled_from([None, "medium_risk_stay", "high_risk_stay",
                                                     "high_risk_stay_with_fever"]),
                                    st.integers(0, 16 * DAY), st.integers(1, 10 * DAY)), max_size=2)


@PROPERTIES
@given(scenarios(), area_overrides, st.integers(0, 17 * DAY), st.integers(0, 17 * DAY))
def test_a_read_judges_the_stays_kept_on_the_code_as_a_full_assessment_would(scenario, drafts, later, written):
    """What a code keeps at its last assessment (`stay_facts`), joined at any later read with the levels of
    then, gives the area source that assessing every source at that read would give; also when the levels
    come from the province summaries, trimmed when they were written (`periods_that_matter`)."""
    inputs, now = scenario
    overrides = [Override(f"cor_{i}", "area", code, now - back, now - back + length, None)
                 for i, (code, back, length) in enumerate(drafts)]
    inputs = RiskInputs(**{**inputs.__dict__, "overrides": overrides})
    facts = stay_facts(inputs, now)
    for read_at in (now, now + later):
        expected = assess(inputs, read_at).get("area", [])
        assert area_reasons(facts, inputs.levels, read_at) == expected
        summarised_at = min(now + written, read_at)     # a summary is written after the periods it keeps
        summaries = {code: kept for code, periods in inputs.levels.items()
                     if (kept := periods_that_matter(periods, summarised_at))}
        assert area_reasons(facts, summaries, read_at) == expected


@PROPERTIES
@given(scenarios())
def test_the_stays_kept_on_a_code_survive_their_encoding(scenario):
    inputs, now = scenario
    text = encode_stays(inputs.visits, now)
    in_window = {(v.area, v.day) for v in inputs.visits if v.day >= days.window_start(now)}
    assert {(v.area, v.day) for v in decode_stays(text)} == in_window
    assert len(text) <= 7 * len({a for a, _ in in_window}) + 9 * len(in_window)


def test_a_full_window_of_daily_check_ins_and_trips_keeps_a_few_hundred_bytes_on_the_code():
    now = 1_800_000_000
    visits = [Visit(day_before(now, back), area, "trip") for back in range(15)
              for area in ("440106", "440105", "510104")]
    assert len(encode_stays(visits, now)) < 450


def test_the_province_list_is_every_province_level_division():
    from chalicelib.domain import divisions

    assert set(divisions.PROVINCES) == {code[:2] for code in divisions._codes() if code.endswith("0000")}


@settings(max_examples=examples(1000), deadline=None)
@given(nows, st.integers(0, 17 * DAY), visit_drafts, level_drafts, st.booleans())
def test_a_province_summary_keeps_every_period_that_can_still_decide_a_stay(now, later, visit_list, level_list,
                                                                           fever):
    """Stays and levels alone, drawn densely: the summary written at `now` and read up to 17 days later
    judges every stay in the window as the full history of periods does."""
    levels = {code: [LevelPeriod(level, min(days.start_of(day_before(now, back)) + hour * 3600, now))
                     for level, back, hour in periods] for code, periods in level_list.items()}
    summaries = {code: kept for code, periods in levels.items() if (kept := periods_that_matter(periods, now))}
    read_at = now + later
    visits = [Visit(day_before(read_at, back), area, source) for back, area, source in visit_list]
    visits = [v for v in visits if days.start_of(v.day) <= now]     # stays come before the read, not after it
    assert visit_reasons(visits, summaries, fever, read_at) == visit_reasons(visits, levels, fever, read_at)


def test_fever_counts_for_the_area_rule_until_the_window_of_its_report_closes():
    now = 1_800_000_000
    today = days.today(now)
    checked_in = RiskInputs(checkins=[CheckIn(today, "440106", 37.3, (), now)])
    assert has_fever(checked_in, days.lapses_at(today) - 1) and not has_fever(checked_in, days.lapses_at(today))
    calm = RiskInputs(checkins=[CheckIn(today, "440106", 37.2, ("cough",), now)])
    assert not has_fever(calm, now)
    declared = RiskInputs(declaration=Declaration(temperature=36.5, symptoms=[Symptom.FEVER], contact_with_cases=False,
                                                  stayed_in_high_risk_area=False, current_area="510104"),
                          declared_at=now)
    assert has_fever(declared, now + 14 * DAY - 1) and not has_fever(declared, now + 14 * DAY)
