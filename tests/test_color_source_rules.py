"""The color sources' rules in the details a mutation pass showed no test held (issue 16): the areas' level
window and back-dating, the check-in and fever rules, co-passengers, venue visits, storage of reasons, and the
reasons' texts a citizen reads (one table per rule).

Expected values are written out (CST wall-clock times, known division names, Luhn digits worked by hand), not
computed with the rules' own helpers.
"""
from __future__ import annotations

import datetime as dt
import time

import pytest

from chalicelib.domain import areas, days, divisions, venues
from chalicelib.domain.areas import (
    LevelPeriod,
    RiskLevel,
    Visit,
    level_now,
    periods_that_matter,
    risky_since,
    visit_reasons,
)
from chalicelib.domain.colors import Color, Reason, reasons_from_sources
from chalicelib.domain.corrections import Override
from chalicelib.domain.declaration import Declaration, Symptom, declaration_reasons
from chalicelib.domain.exposures import CaseType, Exposure, Trip, exposure_reasons, is_close
from chalicelib.domain.lab_results import LabResult, TestOutcome
from chalicelib.domain.local_codes import LocalCode, local_code_reasons
from chalicelib.domain.medical import MedicalStatus, StatusEntry
from chalicelib.domain.risk import (
    CheckIn,
    RiskInputs,
    assess,
    checkin_reasons,
    fever_until,
    has_fever,
    health_summary,
    stay_facts,
)
from chalicelib.domain.stays import StayFacts
from chalicelib.domain.transport import Mode
from tests.test_rule_boundaries import DAY, HOUR, cst

pytestmark = pytest.mark.fast

MARCH_1 = dt.date(2026, 3, 1)


# --- days ------------------------------------------------------------------------------------------------------

@pytest.fixture
def shanghai_host(monkeypatch: pytest.MonkeyPatch):
    """A host whose local zone is not UTC (a developer's laptop in China)."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_moments_are_written_in_utc_whatever_the_hosts_zone(shanghai_host):
    assert time.localtime(0).tm_hour == 8      # the zone did change
    assert days.iso(cst(2026, 3, 1)) == "2026-02-28T16:00:00Z"
    assert days.today(cst(2026, 3, 1)) == MARCH_1


# --- divisions: names ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, name", [
    ("500229", "重庆市城口县"),                  # not "重庆市县城口县": the "县" level is no name
    ("500200", "重庆市"),
    ("429004", "湖北省仙桃市"),                  # not "湖北省省直辖县级行政区划仙桃市"
    ("469001", "海南省五指山市"),
    ("659001", "新疆维吾尔自治区石河子市"),      # not "…自治区直辖县级行政区划石河子市"
])
def test_a_countys_name_leaves_out_the_placeholder_levels_between_it_and_its_province(code, name):
    assert divisions.name_of(code) == name


# --- areas: when a level may take effect ------------------------------------------------------------------------

def test_a_level_may_take_effect_from_now_back_to_exactly_14_days_ago():
    now = cst(2026, 3, 15, 12)
    for start in (now, now - 1, now - 14 * DAY):
        areas.check_start(start, now)           # no error
    for start in (now + 1, now - 14 * DAY - 1, now + DAY):
        with pytest.raises(ValueError, match="^must be between 14 days ago and now$"):
            areas.check_start(start, now)


def test_a_county_is_governed_by_itself_and_its_prefecture_and_a_prefecture_by_itself():
    assert areas.governing_areas("440106") == ["440106", "440100"]
    assert areas.governing_areas("440100") == ["440100"]
    assert areas.governing_areas("469001") == ["469001", "469000"]


def test_level_ranks_order_low_medium_high():
    assert [level.rank for level in (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)] == [0, 1, 2]


def test_the_level_in_force_is_the_latest_start_whatever_order_the_periods_come_in():
    early, late = LevelPeriod(RiskLevel.HIGH, cst(2026, 3, 1)), LevelPeriod(RiskLevel.MEDIUM, cst(2026, 3, 3))
    assert level_now([late, early], cst(2026, 3, 4)) == (RiskLevel.MEDIUM, cst(2026, 3, 3))
    assert level_now([early, late], cst(2026, 3, 4)) == (RiskLevel.MEDIUM, cst(2026, 3, 3))
    assert level_now([late, early], cst(2026, 3, 2)) == (RiskLevel.HIGH, cst(2026, 3, 1))


def test_the_highest_level_and_the_first_risky_moment_in_a_stays_window_whatever_the_order():
    medium, high, low = (LevelPeriod(RiskLevel.MEDIUM, cst(2026, 3, 2)), LevelPeriod(RiskLevel.HIGH, cst(2026, 3, 3)),
                         LevelPeriod(RiskLevel.LOW, cst(2026, 3, 4)))
    start, end = cst(2026, 3, 1), cst(2026, 3, 5)
    assert risky_since([low, high, medium], start, end) == (RiskLevel.HIGH, cst(2026, 3, 2))
    assert risky_since([medium, high, low], start, end) == (RiskLevel.HIGH, cst(2026, 3, 2))
    # a level in force before the window counts from the window's start
    assert risky_since([medium, high, low], cst(2026, 3, 3, 12), end) == (RiskLevel.HIGH, cst(2026, 3, 3, 12))
    assert risky_since([], start, end) == (RiskLevel.LOW, None)
    assert risky_since([low], start, end) == (RiskLevel.LOW, None)


def test_periods_that_ended_before_a_stay_or_were_replaced_do_not_hide_the_later_ones():
    start, end = cst(2026, 3, 1), cst(2026, 3, 5)
    ended = [LevelPeriod(RiskLevel.HIGH, cst(2026, 2, 10)), LevelPeriod(RiskLevel.LOW, cst(2026, 2, 20)),
             LevelPeriod(RiskLevel.MEDIUM, cst(2026, 3, 3))]
    assert risky_since(ended, start, end) == (RiskLevel.MEDIUM, cst(2026, 3, 3))
    replaced = [LevelPeriod(RiskLevel.HIGH, cst(2026, 3, 2)), LevelPeriod(RiskLevel.LOW, cst(2026, 3, 2)),
                LevelPeriod(RiskLevel.MEDIUM, cst(2026, 3, 3))]
    assert risky_since(replaced, start, end) == (RiskLevel.MEDIUM, cst(2026, 3, 3))


def test_a_province_summary_is_the_same_whatever_order_the_periods_come_in():
    now = cst(2026, 3, 20)
    periods = [LevelPeriod(RiskLevel.LOW, cst(2026, 3, 10)), LevelPeriod(RiskLevel.HIGH, cst(2026, 2, 1)),
               LevelPeriod(RiskLevel.MEDIUM, cst(2026, 2, 10)), LevelPeriod(RiskLevel.HIGH, cst(2026, 3, 8))]
    assert periods_that_matter(periods, now) == [periods[2], periods[3], periods[0]]


def test_a_stay_outside_the_window_or_in_a_low_area_does_not_hide_the_next_stay():
    now = cst(2026, 3, 20)
    area = {"420106": [LevelPeriod(RiskLevel.MEDIUM, cst(2026, 2, 1))]}
    old, low, recent = (Visit(MARCH_1, "420106", "trip"), Visit(dt.date(2026, 3, 10), "440106", "checkin"),
                        Visit(dt.date(2026, 3, 10), "420106", "checkin"))
    [reason] = visit_reasons([old, low, recent], area, False, now)
    assert (reason.code, reason.since, reason.until) == ("medium_risk_stay", cst(2026, 3, 10), cst(2026, 3, 25))


def test_a_worse_stay_and_a_milder_later_one_in_one_area_each_keep_their_reason():
    levels = {"420106": [LevelPeriod(RiskLevel.HIGH, cst(2026, 2, 20)), LevelPeriod(RiskLevel.MEDIUM, cst(2026, 3, 2))]}
    stays = [Visit(dt.date(2026, 3, 3), "420106", "checkin"), Visit(MARCH_1, "420106", "trip")]
    reasons = visit_reasons(stays, levels, True, cst(2026, 3, 5))
    assert [(r.code, r.color, r.since, r.until) for r in reasons] == [
        ("high_risk_stay_with_fever", Color.RED, cst(2026, 3, 1), cst(2026, 3, 16)),
        ("medium_risk_stay", Color.YELLOW, cst(2026, 3, 3), cst(2026, 3, 18))]
    # of the milder stays that last longer than the worst, the one that lasts longest is kept, whatever the order
    milder = [Visit(dt.date(2026, 3, 3), "420106", "checkin"), Visit(dt.date(2026, 3, 4), "420106", "trip"), stays[1]]
    assert [(r.code, r.until) for r in visit_reasons(milder, levels, True, cst(2026, 3, 5))] == [
        ("high_risk_stay_with_fever", cst(2026, 3, 16)), ("medium_risk_stay", cst(2026, 3, 19))]
    # of two stays at the same level the later one lasts longer and is the only one kept
    [later] = visit_reasons([Visit(dt.date(2026, 3, 3), "420106", "checkin"), Visit(dt.date(2026, 3, 4), "420106",
                                                                                      "trip")],
                            {"420106": [LevelPeriod(RiskLevel.MEDIUM, cst(2026, 2, 20))]}, False, cst(2026, 3, 5))
    assert (later.since, later.until) == (cst(2026, 3, 4), cst(2026, 3, 19))


# --- local codes ------------------------------------------------------------------------------------------------

def test_a_green_local_code_or_a_lapsed_one_does_not_hide_the_next_province():
    now = cst(2026, 3, 5)
    codes = [LocalCode("11", Color.GREEN, now - DAY, None), LocalCode("31", Color.RED, now - DAY, now),
             LocalCode("44", Color.YELLOW, now - DAY, None)]
    [reason] = local_code_reasons(codes, now)
    assert (reason.source, reason.code, reason.ref) == ("local_code", "local_code_yellow", "44")


# --- co-passengers ----------------------------------------------------------------------------------------------

def test_a_flights_close_rule_is_its_rows_never_a_carriage():
    exposure = Exposure("exp_1", Mode.FLIGHT, "CA123", MARCH_1, CaseType.CONFIRMED, False, cst(2026, 3, 3),
                        carriages=(3,))
    trip = Trip("trp_1", MARCH_1, Mode.FLIGHT, "CA123", seat=None, carriage=3)
    assert not is_close(trip, exposure)
    [reason] = exposure_reasons([trip], [exposure])
    assert (reason.code, reason.color) == ("co_passenger", Color.YELLOW)


# --- the assessment of every source ------------------------------------------------------------------------

def test_every_source_is_assessed_under_its_own_name():
    now = cst(2026, 3, 5, 12)
    inputs = RiskInputs(
        declaration=declared(contact_with_cases=True), declared_at=cst(2026, 3, 5),
        statuses=[StatusEntry(MedicalStatus.UNDER_OBSERVATION, cst(2026, 3, 4), cst(2026, 3, 11), "42")],
        local_codes=[LocalCode("42", Color.YELLOW, cst(2026, 3, 4), cst(2026, 3, 6))],
        visits=[Visit(MARCH_1, "420106", "trip")], levels={"420106": [LevelPeriod(RiskLevel.MEDIUM, cst(2026, 2, 1))]},
        trips=[Trip("trp_1", MARCH_1, Mode.TRAIN, "G123", carriage=5)],
        exposures=[Exposure("exp_1", Mode.TRAIN, "G123", MARCH_1, CaseType.SUSPECTED, False, cst(2026, 3, 3))],
        checkins=[CheckIn(dt.date(2026, 3, 5), "420106", 38.0, (), cst(2026, 3, 5, 8))],
        lab_results=[LabResult(cst(2026, 3, 4, 9), cst(2026, 3, 4, 20), TestOutcome.POSITIVE, "42")],
        extra={"transit": [Reason("transit", "x", Color.YELLOW, "中转", "transit", 0, None)]})
    assessed = assess(inputs, now)
    assert {source: [r.code for r in reasons] for source, reasons in assessed.items()} == {
        "declaration": ["declared_contact"], "medical_status": ["medical_under_observation"],
        "local_code": ["local_code_yellow"], "area": ["medium_risk_stay"], "exposure": ["co_passenger"],
        "checkin": ["checkin_fever"], "test": ["test_positive"], "transit": ["x"]}
    [status] = assessed["medical_status"]
    assert (status.since, status.until, status.ref) == (cst(2026, 3, 4), cst(2026, 3, 11), "42")


def test_a_declaration_not_yet_made_yields_no_reason_and_no_fever():
    inputs = RiskInputs(declaration=declared(temperature=39.0))
    assert assess(inputs, cst(2026, 3, 5)) == {}
    assert fever_until(inputs) is None and not has_fever(inputs, cst(2026, 3, 5))


def test_a_declaration_without_fever_reports_no_fever():
    inputs = RiskInputs(declaration=declared(symptoms=[Symptom.COUGH]), declared_at=cst(2026, 3, 5))
    assert fever_until(inputs) is None


def test_a_national_recovery_given_apart_lifts_an_earlier_positive_test():
    positive = LabResult(cst(2026, 3, 1, 9), cst(2026, 3, 1, 20), TestOutcome.POSITIVE)
    inputs = RiskInputs(medical_status=MedicalStatus.RECOVERED, medical_since=cst(2026, 3, 4), lab_results=[positive])
    [reason] = assess(inputs, cst(2026, 3, 3))["test"]
    assert (reason.since, reason.until) == (cst(2026, 3, 1, 9), cst(2026, 3, 4))
    assert assess(inputs, cst(2026, 3, 4)) == {}


def test_the_latest_check_in_counts_whatever_order_they_come_in():
    now = cst(2026, 3, 5, 9)
    calm, feverish = (CheckIn(dt.date(2026, 3, 4), "420106", 36.5, (), cst(2026, 3, 4, 8)),
                      CheckIn(dt.date(2026, 3, 5), "420106", 38.0, (), cst(2026, 3, 5, 8)))
    for order in ([calm, feverish], [feverish, calm]):
        assert [r.code for r in checkin_reasons(order, now)] == ["checkin_fever"]
    calm_later = CheckIn(dt.date(2026, 3, 5), "420106", 36.5, (), cst(2026, 3, 5, 8))
    feverish_earlier = CheckIn(dt.date(2026, 3, 4), "420106", 38.0, (), cst(2026, 3, 4, 8))
    for order in ([calm_later, feverish_earlier], [feverish_earlier, calm_later]):
        assert checkin_reasons(order, now) == []


def test_a_code_keeps_its_stays_its_fever_and_its_area_corrections():
    now = cst(2026, 3, 5, 12)
    area_fix = Override("cor_1", "area", None, cst(2026, 3, 4), cst(2026, 3, 10), None, "420106")
    other_fix = Override("cor_2", "declaration", None, cst(2026, 3, 4), cst(2026, 3, 10), None)
    inputs = RiskInputs(visits=[Visit(dt.date(2026, 3, 2), "420106", "trip"), Visit(MARCH_1, "420106", "checkin"),
                                Visit(dt.date(2026, 2, 10), "440106", "trip")],
                        checkins=[CheckIn(dt.date(2026, 3, 3), "420106", 37.5, (), cst(2026, 3, 3, 8))],
                        overrides=[area_fix, other_fix])
    assert stay_facts(inputs, now) == StayFacts("420106:20260301,20260302", cst(2026, 3, 18), (area_fix,))
    assert stay_facts(RiskInputs(), now) == StayFacts("", None, ())


# --- lab results and doses in the summary a code carries --------------------------------------------------------

def test_a_code_carries_the_latest_negative_known_by_now_and_its_distinct_doses():
    now = cst(2026, 3, 5, 12)
    results = (LabResult(cst(2026, 3, 3, 9), cst(2026, 3, 3, 20), TestOutcome.NEGATIVE),
               LabResult(cst(2026, 3, 4, 9), cst(2026, 3, 4, 20), TestOutcome.NEGATIVE),
               LabResult(cst(2026, 3, 5, 9), now + 1, TestOutcome.NEGATIVE))          # not known yet
    summary = health_summary(RiskInputs(lab_results=results, doses=(1, 2, 2)), now)
    assert (summary.negative_at, summary.doses) == (cst(2026, 3, 4, 9), 2)
    assert health_summary(RiskInputs(), now) == type(summary)(None, 0)


# --- reasons in storage ------------------------------------------------------------------------------------------

def test_stored_reasons_of_every_source_are_read_back_in_order():
    first = Reason("declaration", "declared_fever", Color.YELLOW, "申报发热", "fever", 100, 200, "440106")
    second = Reason("local_code", "local_code_red", Color.RED, "红码", "red", 150, None, "44")
    third = Reason("checkin", "checkin_fever", Color.YELLOW, "打卡", "check-in", 120, 300)
    stored = {"declaration": [first.to_dict()], "local_code": [second.to_dict(), third.to_dict()]}
    assert reasons_from_sources(stored) == [first, second, third]
    assert reasons_from_sources({}) == []


def test_a_reason_is_stored_as_plain_json_fields():
    reason = Reason("local_code", "local_code_red", Color.RED, "红码", "red", 150, None, "44")
    assert reason.to_dict() == {"source": "local_code", "code": "local_code_red", "color": "red", "message": "红码",
                                "message_en": "red", "since": 150, "until": None, "ref": "44"}


def test_a_reason_stored_before_english_messages_reads_back_with_an_empty_one():
    stored = {"source": "declaration", "code": "declared_fever", "color": "yellow", "message": "申报发热",
              "since": 100, "until": 200}
    reason = Reason.from_dict(stored)
    assert reason.message_en == "" and reason.ref is None and reason.color is Color.YELLOW


def test_a_train_passenger_with_a_seat_is_judged_by_the_carriage():
    exposure = Exposure("exp_1", Mode.TRAIN, "G123", MARCH_1, CaseType.CONFIRMED, False, cst(2026, 3, 3),
                        carriages=(5,))
    assert is_close(Trip("trp_1", MARCH_1, Mode.TRAIN, "G123", seat="12A", carriage=5), exposure)
    assert not is_close(Trip("trp_1", MARCH_1, Mode.TRAIN, "G123", seat="12A", carriage=6), exposure)


VENUE = "ven_0123456789ab"


def test_an_exposure_of_another_trip_does_not_hide_the_next_one():
    trip = Trip("trp_1", MARCH_1, Mode.FLIGHT, "CA123", seat="10F")
    other = Exposure("exp_0", Mode.FLIGHT, "CA124", MARCH_1, CaseType.CONFIRMED, False, cst(2026, 3, 3))
    mine = Exposure("exp_1", Mode.FLIGHT, "CA123", MARCH_1, CaseType.CONFIRMED, False, cst(2026, 3, 3))
    assert [r.code for r in exposure_reasons([trip], [other, mine])] == ["co_passenger"]


@pytest.mark.parametrize("trip, exposure, zh, en", [
    (Trip("trp_1", MARCH_1, Mode.FLIGHT, "CA123", seat="30A"),
     Exposure("exp_1", Mode.FLIGHT, "CA123", MARCH_1, CaseType.CONFIRMED, False, 0, rows=(10, 12)),
     "2026-03-01 乘坐的航班CA123有确诊病例（同航班）",
     "Flight CA123 on 2026-03-01 carried a confirmed case; you were on the same flight"),
    (Trip("trp_1", MARCH_1, Mode.TRAIN, "G123", carriage=5),
     Exposure("exp_1", Mode.TRAIN, "G123", MARCH_1, CaseType.SUSPECTED, True, 0, carriages=(5,)),
     "2026-03-01 乘坐的列车G123有境外输入疑似病例（邻近座位/同车厢）",
     "Train G123 on 2026-03-01 carried an inbound suspected case; you were near the case's seats or carriage"),
])
def test_a_co_passengers_reason_names_the_trip_the_case_and_where_they_sat(trip, exposure, zh, en):
    [reason] = exposure_reasons([trip], [exposure])
    assert (reason.source, reason.message, reason.message_en) == ("exposure", zh, en)


# --- venues -----------------------------------------------------------------------------------------------------

def luhn_valid(number: str) -> bool:
    """The Luhn check read the other way: over the whole number, every second digit from the right doubled."""
    total = 0
    for i, char in enumerate(reversed(number)):
        digit = int(char) * (2 if i % 2 else 1)
        total += digit // 10 + digit % 10
    return total % 10 == 0


# worked by hand: 1234567 -> 7 6 5 4 3 2 1 from the right, doubled at even places: 14->5, 6, 10->1, 4, 6, 2, 2
# = 26, so 4; 0000000 -> 0; 5000000 -> 5 doubled is 10->1 at the 7th place = 1, so 9; 0000009 -> 18->9, so 1
@pytest.mark.parametrize("first7, digit", [("1234567", "4"), ("0000000", "0"), ("5000000", "9"), ("0000009", "1"),
                                           ("0000005", "9"), ("0000050", "5")])
def test_a_venue_numbers_check_digit_is_its_luhn_digit(first7, digit):
    assert venues.check_digit(first7) == digit
    assert luhn_valid(first7 + digit)
    assert venues.venue_number(int(first7)) == first7 + digit


def test_a_venue_number_is_eight_digits_whose_last_checks_the_seven_before():
    assert venues.venue_number(42) == "00000422"
    assert luhn_valid("00000422")
    assert venues.is_venue_number("12345674")
    for wrong in ("12345675", "21345674", "1234567", "123456744", "1234567a", ""):
        assert not venues.is_venue_number(wrong), wrong


def test_a_venue_id_is_ven_and_12_hex_digits():
    assert venues.is_venue_id(VENUE)
    assert not venues.is_venue_id("ven_0123456789aB") and not venues.is_venue_id("ven_0123456789a")


def test_scans_within_one_five_minute_bucket_are_one_visit():
    start = cst(2026, 3, 1, 10, 5)
    assert [venues.bucket(start + s) for s in (0, 1, 299, 300, 599)] == [start, start, start, start + 300,
                                                                         start + 300]


def venue_case(start: int, end: int, case: CaseType = CaseType.CONFIRMED, exposure_id: str = "vex_1",
               venue_id: str = VENUE) -> venues.VenueExposure:
    return venues.VenueExposure(exposure_id, venue_id, "东门菜市场", start, end, case, cst(2026, 3, 3, 9), "44")


def test_a_visit_counts_from_30_minutes_before_a_published_window_to_30_minutes_after():
    start, end = cst(2026, 3, 1, 10), cst(2026, 3, 1, 12)
    exposure = venue_case(start, end)
    inside = (start - 30 * 60, start, end, end + 30 * 60)
    outside = (start - 30 * 60 - 1, end + 30 * 60 + 1)
    assert [exposure.covers(at) for at in inside + outside] == [True] * 4 + [False] * 2
    for at in inside:
        [reason] = venues.venue_exposure_reasons([venues.VenueVisit(VENUE, at)], [exposure])
        assert (reason.source, reason.code, reason.color, reason.since, reason.until, reason.ref) == (
            "exposure", "venue_exposure", Color.YELLOW, cst(2026, 3, 3, 9), cst(2026, 3, 16), "44")
    for at in outside:
        assert venues.venue_exposure_reasons([venues.VenueVisit(VENUE, at)], [exposure]) == []


def test_of_several_visits_around_one_exposure_the_latest_gives_the_one_reason():
    start, end = cst(2026, 3, 1, 23), cst(2026, 3, 2, 1)
    late, early = venues.VenueVisit(VENUE, cst(2026, 3, 2, 0, 30)), venues.VenueVisit(VENUE, cst(2026, 3, 1, 23, 10))
    [reason] = venues.venue_exposure_reasons([late, early], [venue_case(start, end)])
    assert reason.until == cst(2026, 3, 17)       # 14 days after 2 March, the day of the latest visit


def test_an_exposure_of_another_venue_does_not_hide_the_next_one():
    at = cst(2026, 3, 1, 10)
    other = venue_case(at - HOUR, at + HOUR, exposure_id="vex_0", venue_id="ven_ba9876543210")
    found = venues.venue_exposure_reasons([venues.VenueVisit(VENUE, at)], [other, venue_case(at - HOUR, at + HOUR)])
    assert len(found) == 1
    two = venues.venue_exposure_reasons([venues.VenueVisit(VENUE, at)],
                                        [venue_case(at - HOUR, at), venue_case(at, at + HOUR, exposure_id="vex_2")])
    assert len(two) == 2


@pytest.mark.parametrize("case, at, zh, en", [
    (CaseType.CONFIRMED, cst(2026, 3, 1, 9, 7), "2026-03-01 09:07 到访的场所「东门菜市场」同时段有确诊病例",
     "You visited 东门菜市场 at 2026-03-01 09:07 CST, when a confirmed case was there"),
    (CaseType.SUSPECTED, cst(2026, 3, 1, 23, 59), "2026-03-01 23:59 到访的场所「东门菜市场」同时段有疑似病例",
     "You visited 东门菜市场 at 2026-03-01 23:59 CST, when a suspected case was there"),
])
def test_a_venue_exposures_message_names_the_venue_the_visit_in_cst_and_the_case(case, at, zh, en):
    [reason] = venues.venue_exposure_reasons([venues.VenueVisit(VENUE, at)], [venue_case(at - HOUR, at + HOUR, case)])
    assert (reason.message, reason.message_en) == (zh, en)


# --- the texts a citizen reads, one table per rule ----------------------------------------------------------------

def stayed(level: RiskLevel, fever: bool, area: str = "420106") -> Reason:
    [reason] = visit_reasons([Visit(MARCH_1, area, "trip")], {area: [LevelPeriod(level, cst(2026, 2, 20))]}, fever,
                             cst(2026, 3, 5))
    return reason


@pytest.mark.parametrize("level, fever, code, zh, en", [
    (RiskLevel.HIGH, True, "high_risk_stay_with_fever", "14天内到过高风险地区（湖北省武汉市武昌区）且有发热",
     "Stay in a high-risk area (420106) within 14 days with fever"),
    (RiskLevel.HIGH, False, "high_risk_stay", "14天内到过高风险地区（湖北省武汉市武昌区）",
     "Stay in a high-risk area (420106) within 14 days"),
    (RiskLevel.MEDIUM, True, "medium_risk_stay", "14天内到过中风险地区（湖北省武汉市武昌区）",
     "Stay in a medium-risk area (420106) within 14 days"),
])
def test_an_area_reason_names_the_level_and_the_area(level, fever, code, zh, en):
    reason = stayed(level, fever)
    assert (reason.source, reason.code, reason.message, reason.message_en) == ("area", code, zh, en)


def test_an_area_reason_names_an_unknown_area_by_its_code():
    reason = stayed(RiskLevel.MEDIUM, False, area="429999")
    assert reason.message == "14天内到过中风险地区（429999）" and reason.ref == "429999"


def declared(**change: object) -> Declaration:
    fields: dict[str, object] = {"temperature": 36.5, "symptoms": [], "contact_with_cases": False,
                                 "stayed_in_high_risk_area": False, "current_area": "420106", **change}
    return Declaration(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("made, code, zh, en", [
    (declared(contact_with_cases=True), "declared_contact", "申报与确诊或疑似病例有接触史",
     "Declared contact with a confirmed or suspected case"),
    (declared(stayed_in_high_risk_area=True, symptoms=[Symptom.COUGH]), "declared_high_risk_stay_with_symptoms",
     "申报14天内到过高风险地区且有发热或症状",
     "Declared a stay in a high-risk area within 14 days with fever or symptoms"),
    (declared(stayed_in_high_risk_area=True), "declared_high_risk_stay", "申报14天内到过高风险地区",
     "Declared a stay in a high-risk area within 14 days"),
    (declared(temperature=38.0), "declared_fever", "申报发热（体温≥37.3℃）", "Declared fever (37.3 °C or above)"),
    (declared(symptoms=[Symptom.DIARRHOEA]), "declared_symptoms", "申报有咳嗽、乏力等症状",
     "Declared symptoms such as cough or fatigue"),
])
def test_each_declared_reason_says_what_was_declared(made, code, zh, en):
    [reason] = [r for r in declaration_reasons(made, cst(2026, 3, 1)) if r.code == code]
    assert (reason.source, reason.code, reason.message, reason.message_en) == ("declaration", code, zh, en)


def test_everything_declared_at_once_gives_each_reason_in_the_rule_tables_order():
    made = declared(contact_with_cases=True, stayed_in_high_risk_area=True, temperature=37.5,
                    symptoms=[Symptom.FEVER, Symptom.COUGH])
    assert [(r.code, r.color) for r in declaration_reasons(made, cst(2026, 3, 1))] == [
        ("declared_contact", Color.RED), ("declared_high_risk_stay_with_symptoms", Color.RED),
        ("declared_fever", Color.YELLOW), ("declared_symptoms", Color.YELLOW)]


def test_a_fever_check_in_says_its_day():
    day = dt.date(2026, 3, 4)
    [reason] = checkin_reasons([CheckIn(day, "420106", 38.1, (), cst(2026, 3, 4, 8))], cst(2026, 3, 4, 9))
    assert (reason.source, reason.code, reason.message, reason.message_en, reason.ref) == (
        "checkin", "checkin_fever", "2026-03-04 健康打卡报告发热", "Daily check-in on 2026-03-04 reported fever",
        "420106")
