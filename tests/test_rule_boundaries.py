"""Every boundary the rules name (docs/colors.md), pinned at its first and last instant.

The expected moments are written out as China Standard Time wall-clock times, not computed with the rules'
own helpers, so a rule that is off by one second, one day or one row fails here. A mutation pass once moved
the fever threshold (37.3 °C) and every test still passed: each threshold below is tested on both sides.
"""
from __future__ import annotations

import datetime as dt
import itertools

import pytest

from chalicelib.domain import days
from chalicelib.domain.areas import (
    MATTERS_FOR,
    LevelPeriod,
    RiskLevel,
    Visit,
    level_now,
    periods_that_matter,
    visit_reasons,
)
from chalicelib.domain.colors import Color, Reason, live_color, live_reasons, next_change
from chalicelib.domain.corrections import Override, apply_overrides
from chalicelib.domain.declaration import Declaration, Symptom, declaration_reasons
from chalicelib.domain.exposures import CaseType, Exposure, Trip, exposure_reasons
from chalicelib.domain.local_codes import LocalCode, local_code_reasons
from chalicelib.domain.medical import NATIONAL, MedicalStatus, StatusEntry, effective_status, medical_reasons
from chalicelib.domain.risk import CheckIn, RiskInputs, assess, checkin_reasons, has_fever
from chalicelib.domain.stays import StayFacts, area_reasons, encode_stays
from chalicelib.domain.transport import Mode

pytestmark = pytest.mark.fast

CST = dt.timezone(dt.timedelta(hours=8))
HOUR, DAY = 3600, 86400


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=CST).timestamp())


MARCH_1 = dt.date(2026, 3, 1)


def live_at(reasons: list[Reason], moment: int) -> list[str]:
    return [r.code for r in live_reasons(reasons, moment)]


# --- calendar days in CST ----------------------------------------------------------------------------------

def test_a_cst_day_begins_at_local_midnight_not_utc_midnight():
    assert days.start_of(MARCH_1) == cst(2026, 3, 1) == int(dt.datetime(2026, 2, 28, 16, tzinfo=dt.UTC)
                                                             .timestamp())
    assert days.today(cst(2026, 3, 1)) == MARCH_1
    assert days.today(cst(2026, 3, 1) - 1) == dt.date(2026, 2, 28)
    assert days.today(cst(2026, 3, 1, 23, 59, 59)) == MARCH_1


def test_the_window_is_today_and_the_14_days_before_it():
    assert days.window_start(cst(2026, 3, 15, 0, 0, 0)) == MARCH_1
    assert days.window_start(cst(2026, 3, 15, 23, 59, 59)) == MARCH_1
    assert days.window_start(cst(2026, 3, 16)) == dt.date(2026, 3, 2)


def test_a_stay_on_1_march_counts_until_16_march_0000_cst():
    assert days.lapses_at(MARCH_1) == cst(2026, 3, 16)
    assert days.lapses_at(MARCH_1, 1) == cst(2026, 3, 3)      # "until the end of the day after"


def test_moments_are_written_in_utc():
    assert days.iso(cst(2026, 3, 1)) == "2026-02-28T16:00:00Z"


# --- declaration: 14 days from the moment it is made -------------------------------------------------------

def declaration(temperature: float = 36.5, symptoms: tuple[Symptom, ...] = (), contact: bool = False,
                high_risk: bool = False) -> Declaration:
    return Declaration(temperature=temperature, symptoms=list(symptoms), contact_with_cases=contact,
                       stayed_in_high_risk_area=high_risk, current_area="510104")


@pytest.mark.parametrize("made, code, color", [
    (declaration(contact=True), "declared_contact", Color.RED),
    (declaration(high_risk=True, temperature=37.3), "declared_high_risk_stay_with_symptoms", Color.RED),
    (declaration(high_risk=True, symptoms=(Symptom.COUGH,)), "declared_high_risk_stay_with_symptoms", Color.RED),
    (declaration(high_risk=True), "declared_high_risk_stay", Color.YELLOW),
    (declaration(temperature=37.3), "declared_fever", Color.YELLOW),
    (declaration(symptoms=(Symptom.FEVER,)), "declared_fever", Color.YELLOW),
    (declaration(symptoms=(Symptom.FATIGUE,)), "declared_symptoms", Color.YELLOW),
])
def test_each_declared_reason_is_live_from_the_declaration_for_exactly_14_days(made, code, color):
    at = cst(2026, 3, 1, 9, 30)
    reasons = [r for r in declaration_reasons(made, at) if r.code == code]
    assert [(r.color, r.since, r.until, r.ref) for r in reasons] == [(color, at, cst(2026, 3, 15, 9, 30), "510104")]
    assert live_color(reasons, at - 1) is Color.GREEN
    assert live_color(reasons, at) is color
    assert live_color(reasons, cst(2026, 3, 15, 9, 29, 59)) is color
    assert live_color(reasons, cst(2026, 3, 15, 9, 30)) is Color.GREEN


def test_a_declared_temperature_of_37_3_is_fever_and_37_2_is_not():
    at = cst(2026, 3, 1)
    assert [r.code for r in declaration_reasons(declaration(temperature=37.3), at)] == ["declared_fever"]
    assert declaration_reasons(declaration(temperature=37.2), at) == []
    assert declaration_reasons(declaration(temperature=37.29), at) == []
    # a high-risk stay with exactly 37.3 is red; with 37.2 and nothing else it stays yellow
    assert {r.code: r.color for r in declaration_reasons(declaration(temperature=37.2, high_risk=True), at)} == {
        "declared_high_risk_stay": Color.YELLOW}


def test_a_fever_declared_with_the_symptom_alone_is_not_also_an_other_symptom():
    at = cst(2026, 3, 1)
    codes = [r.code for r in declaration_reasons(declaration(symptoms=(Symptom.FEVER,), high_risk=True), at)]
    assert codes == ["declared_high_risk_stay_with_symptoms", "declared_fever"]
    assert [r.code for r in declaration_reasons(declaration(), at)] == []


# --- daily check-in: 37.3 °C, the latest in the window, until the end of the day after -----------------------

def checkin(day: dt.date, temperature: float, at: int | None = None, symptoms: tuple[str, ...] = ()) -> CheckIn:
    return CheckIn(day, "440106", temperature, symptoms, days.start_of(day) + 8 * HOUR if at is None else at)


def test_a_check_in_of_exactly_37_3_is_fever_and_37_2_is_not():
    now = cst(2026, 3, 1, 12)
    assert checkin(MARCH_1, 37.3).fever and not checkin(MARCH_1, 37.2).fever
    assert [r.code for r in checkin_reasons([checkin(MARCH_1, 37.3)], now)] == ["checkin_fever"]
    assert checkin_reasons([checkin(MARCH_1, 37.2)], now) == []
    assert checkin(MARCH_1, 36.5, symptoms=("fever",)).fever
    assert not checkin(MARCH_1, 36.5, symptoms=("cough",)).fever


def test_a_fever_check_in_is_yellow_from_its_moment_until_the_end_of_the_day_after():
    reported = cst(2026, 3, 1, 8, 15)
    [reason] = checkin_reasons([checkin(MARCH_1, 38.0, reported)], cst(2026, 3, 1, 12))
    assert (reason.color, reason.since, reason.until, reason.ref) == (Color.YELLOW, reported, cst(2026, 3, 3),
                                                                       "440106")
    assert not reason.is_live(reported - 1)
    assert reason.is_live(reported)
    assert reason.is_live(cst(2026, 3, 2, 23, 59, 59))
    assert not reason.is_live(cst(2026, 3, 3))


def test_only_the_latest_check_in_of_the_window_counts():
    now = cst(2026, 3, 2, 12)
    assert checkin_reasons([checkin(MARCH_1, 38.0), checkin(dt.date(2026, 3, 2), 36.5)], now) == []
    [reason] = checkin_reasons([checkin(MARCH_1, 36.5), checkin(dt.date(2026, 3, 2), 38.0)], now)
    assert reason.until == cst(2026, 3, 4)


def test_a_check_in_14_days_back_is_in_the_window_and_15_days_back_is_not():
    feverish = checkin(MARCH_1, 38.0)
    # on 15 March the window starts on 1 March: that check-in is the latest in it, a calmer one on 29 February is
    # outside it and cannot hide it
    inside = checkin_reasons([feverish], cst(2026, 3, 15, 23, 59, 59))
    assert [r.code for r in inside] == ["checkin_fever"]
    assert checkin_reasons([feverish], cst(2026, 3, 16)) == []
    # the other way round: a calm check-in older than the window does not count as the latest
    older_calm = checkin(dt.date(2026, 2, 28), 36.5)
    assert checkin_reasons([older_calm, feverish], cst(2026, 3, 2)) != []


def test_fever_counts_for_the_area_rule_for_14_days_after_the_day_of_a_check_in_or_the_moment_of_a_declaration():
    checked = RiskInputs(checkins=[checkin(MARCH_1, 37.3)])
    assert has_fever(checked, cst(2026, 3, 15, 23, 59, 59)) and not has_fever(checked, cst(2026, 3, 16))
    assert not has_fever(RiskInputs(checkins=[checkin(MARCH_1, 37.2)]), cst(2026, 3, 1, 12))
    declared_at = cst(2026, 3, 1, 9, 30)
    for made in (declaration(temperature=37.3), declaration(symptoms=(Symptom.FEVER,))):
        inputs = RiskInputs(declaration=made, declared_at=declared_at)
        assert has_fever(inputs, cst(2026, 3, 15, 9, 29, 59)) and not has_fever(inputs, cst(2026, 3, 15, 9, 30))
    assert not has_fever(RiskInputs(declaration=declaration(temperature=37.2), declared_at=declared_at),
                         declared_at)
    # the later of the two counts
    both = RiskInputs(declaration=declaration(temperature=38.0), declared_at=cst(2026, 3, 10),
                      checkins=[checkin(MARCH_1, 38.0)])
    assert has_fever(both, cst(2026, 3, 23, 23, 59, 59)) and not has_fever(both, cst(2026, 3, 24))


# --- area levels: stays, periods, prefectures ---------------------------------------------------------------

def stay(day: dt.date = MARCH_1, area: str = "440106") -> Visit:
    return Visit(day, area, "checkin")


def levels(area: str, *periods: tuple[RiskLevel, int]) -> dict[str, list[LevelPeriod]]:
    return {area: [LevelPeriod(level, start) for level, start in periods]}


def test_a_stay_in_a_medium_area_is_yellow_until_16_march_and_high_with_fever_is_red():
    raised = cst(2026, 2, 20)
    now = cst(2026, 3, 5)
    [yellow] = visit_reasons([stay()], levels("440106", (RiskLevel.MEDIUM, raised)), False, now)
    assert (yellow.code, yellow.color, yellow.since, yellow.until, yellow.ref) == (
        "medium_risk_stay", Color.YELLOW, cst(2026, 3, 1), cst(2026, 3, 16), "440106")
    assert [r.code for r in visit_reasons([stay()], levels("440106", (RiskLevel.MEDIUM, raised)), True, now)] == [
        "medium_risk_stay"]
    [high] = visit_reasons([stay()], levels("440106", (RiskLevel.HIGH, raised)), False, now)
    assert (high.code, high.color) == ("high_risk_stay", Color.YELLOW)
    [red] = visit_reasons([stay()], levels("440106", (RiskLevel.HIGH, raised)), True, now)
    assert (red.code, red.color, red.since, red.until) == ("high_risk_stay_with_fever", Color.RED,
                                                           cst(2026, 3, 1), cst(2026, 3, 16))
    assert visit_reasons([stay()], levels("440106", (RiskLevel.LOW, raised)), True, now) == []


def test_a_level_raised_after_the_stay_counts_from_the_moment_it_was_raised():
    raised = cst(2026, 3, 4, 10)
    area = levels("440106", (RiskLevel.MEDIUM, raised))
    [reason] = visit_reasons([stay()], area, False, cst(2026, 3, 5))
    assert (reason.since, reason.until) == (raised, cst(2026, 3, 16))
    # a level raised at this very moment already counts; one raised a second later does not yet
    assert visit_reasons([stay()], area, False, raised) != []
    assert visit_reasons([stay()], area, False, raised - 1) == []


def test_a_level_that_ended_before_the_stays_day_began_does_not_count_and_one_that_ended_after_does():
    now = cst(2026, 3, 5)
    lowered_at_midnight = levels("440106", (RiskLevel.HIGH, cst(2026, 2, 20)), (RiskLevel.LOW, cst(2026, 3, 1)))
    assert visit_reasons([stay()], lowered_at_midnight, True, now) == []
    lowered_a_second_later = levels("440106", (RiskLevel.HIGH, cst(2026, 2, 20)),
                                    (RiskLevel.LOW, cst(2026, 3, 1, 0, 0, 1)))
    [reason] = visit_reasons([stay()], lowered_a_second_later, True, now)
    assert (reason.color, reason.since) == (Color.RED, cst(2026, 3, 1))


def test_a_stays_14th_day_back_is_judged_and_its_15th_is_not():
    area = levels("440106", (RiskLevel.MEDIUM, cst(2026, 2, 1)))
    assert [r.until for r in visit_reasons([stay()], area, False, cst(2026, 3, 15, 23, 59, 59))] == [cst(2026, 3, 16)]
    assert visit_reasons([stay()], area, False, cst(2026, 3, 16)) == []


def test_a_prefectures_level_governs_a_stay_in_each_of_its_counties_but_not_in_another_prefecture():
    now = cst(2026, 3, 5)
    prefecture = levels("440100", (RiskLevel.HIGH, cst(2026, 2, 20)))
    [reason] = visit_reasons([stay(area="440106")], prefecture, True, now)
    assert (reason.code, reason.ref) == ("high_risk_stay_with_fever", "440106")
    assert [r.ref for r in visit_reasons([stay(area="440100")], prefecture, True, now)] == ["440100"]
    assert visit_reasons([stay(area="440306")], prefecture, True, now) == []     # Shenzhen
    # a county's own level does not spread to its neighbours
    assert visit_reasons([stay(area="440105")], levels("440106", (RiskLevel.HIGH, cst(2026, 2, 20))), True,
                         now) == []


def test_of_the_county_and_its_prefecture_the_higher_level_and_the_earlier_risk_count():
    now = cst(2026, 3, 5)
    both = {**levels("440106", (RiskLevel.MEDIUM, cst(2026, 3, 2))),
            **levels("440100", (RiskLevel.HIGH, cst(2026, 3, 3)))}
    [reason] = visit_reasons([stay()], both, True, now)
    assert (reason.color, reason.since) == (Color.RED, cst(2026, 3, 2))


def test_the_level_in_force_starts_at_its_first_instant():
    start = cst(2026, 3, 1, 10)
    periods = [LevelPeriod(RiskLevel.LOW, cst(2026, 2, 1)), LevelPeriod(RiskLevel.HIGH, start)]
    assert level_now(periods, start - 1) == (RiskLevel.LOW, cst(2026, 2, 1))
    assert level_now(periods, start) == (RiskLevel.HIGH, start)
    assert level_now([], start) == (RiskLevel.LOW, None)
    assert level_now(periods[1:], start - 1) == (RiskLevel.LOW, None)
    # two settings with the same start: the one made last counts
    again = [LevelPeriod(RiskLevel.HIGH, start), LevelPeriod(RiskLevel.MEDIUM, start)]
    assert level_now(again, start) == (RiskLevel.MEDIUM, start)


def test_a_setting_replaced_by_a_later_one_with_the_same_start_was_never_in_force():
    start = cst(2026, 3, 2)
    replaced = levels("440106", (RiskLevel.HIGH, start), (RiskLevel.LOW, start))
    assert visit_reasons([stay()], replaced, True, cst(2026, 3, 5)) == []


def test_a_province_summary_keeps_the_periods_of_the_last_16_days_and_the_one_in_force_before_them():
    now = cst(2026, 3, 20)
    cutoff = now - 16 * DAY
    assert MATTERS_FOR == 16 * DAY
    old, at_cutoff, recent = (LevelPeriod(RiskLevel.HIGH, cutoff - 2), LevelPeriod(RiskLevel.MEDIUM, cutoff - 1),
                              LevelPeriod(RiskLevel.LOW, cutoff + 3 * DAY))
    assert periods_that_matter([old, at_cutoff, recent], now) == [at_cutoff, recent]
    exactly = LevelPeriod(RiskLevel.MEDIUM, cutoff)
    assert periods_that_matter([old, exactly, recent], now) == [old, exactly, recent]
    # nothing to keep once every period that can still matter is low
    assert periods_that_matter([old, LevelPeriod(RiskLevel.LOW, cutoff - 1)], now) == []
    assert periods_that_matter([LevelPeriod(RiskLevel.LOW, cutoff)], now) == []


def test_a_read_judges_the_stays_a_code_keeps_with_the_fever_it_keeps():
    now = cst(2026, 3, 5)
    high = levels("440100", (RiskLevel.HIGH, cst(2026, 2, 20)))
    facts = StayFacts(encode_stays([stay()], now), fever_until=cst(2026, 3, 6))
    assert [r.color for r in area_reasons(facts, high, cst(2026, 3, 5, 23, 59, 59))] == [Color.RED]
    assert [r.color for r in area_reasons(facts, high, cst(2026, 3, 6))] == [Color.YELLOW]
    assert area_reasons(StayFacts(), high, now) == []
    assert area_reasons(facts, levels("510100", (RiskLevel.HIGH, cst(2026, 2, 20))), now) == []


def test_a_read_applies_the_approved_corrections_of_the_area_source():
    now = cst(2026, 3, 5)
    medium = levels("440106", (RiskLevel.MEDIUM, cst(2026, 2, 20)))
    stays = encode_stays([stay()], now)
    # a lift approved on 3 March for two days: the reason stops then and comes back on the 5th
    lift = Override("cor_1", "area", "medium_risk_stay", cst(2026, 3, 3), cst(2026, 3, 5), None, ref="440106")
    pieces = area_reasons(StayFacts(stays, overrides=(lift,)), medium, now)
    assert [(r.code, r.since, r.until) for r in pieces] == [
        ("medium_risk_stay", cst(2026, 3, 1), cst(2026, 3, 3)), ("medium_risk_stay", cst(2026, 3, 5), cst(2026, 3, 16))]
    # a lift over all of the reason leaves nothing of the area source: an empty list, not the replacement color
    whole = Override("cor_2", "area", None, cst(2026, 3, 1), cst(2026, 3, 20), Color.GREEN)
    assert area_reasons(StayFacts(stays, overrides=(whole,)), medium, now) == []
    # a correction of another source leaves the area's reasons as they are
    other = Override("cor_3", "declaration", None, cst(2026, 3, 3), cst(2026, 3, 20), None)
    assert [r.code for r in area_reasons(StayFacts(stays, overrides=(other,)), medium, now)] == ["medium_risk_stay"]


# --- co-passengers: rows, carriages, the trip's window ----------------------------------------------------

def flight(seat: str | None, day: dt.date = MARCH_1) -> Trip:
    return Trip("trp_1", day, Mode.FLIGHT, "CA123", seat=seat)


def train(carriage: int | None, day: dt.date = MARCH_1) -> Trip:
    return Trip("trp_1", day, Mode.TRAIN, "G123", carriage=carriage)


PUBLISHED = cst(2026, 3, 4, 15)


def flight_case(case: CaseType = CaseType.CONFIRMED, rows: tuple[int, int] | None = (10, 12)) -> Exposure:
    return Exposure("exp_1", Mode.FLIGHT, "CA123", MARCH_1, case, False, PUBLISHED, rows=rows, province="44")


def train_case(case: CaseType = CaseType.CONFIRMED, carriages: tuple[int, ...] = (5, 7)) -> Exposure:
    return Exposure("exp_1", Mode.TRAIN, "G123", MARCH_1, case, False, PUBLISHED, carriages=carriages, province="44")


@pytest.mark.parametrize("seat, close", [
    ("7C", False), ("8A", True), ("9K", True), ("10F", True), ("12B", True), ("13C", True), ("14A", True),
    ("15A", False), ("1A", False), (None, False), ("ZZ", False),
])
def test_a_flight_passenger_within_2_rows_of_the_published_rows_sat_close(seat, close):
    [reason] = exposure_reasons([flight(seat)], [flight_case()])
    assert (reason.code, reason.color) == (("co_passenger_close", Color.RED) if close else
                                           ("co_passenger", Color.YELLOW))
    [suspected] = exposure_reasons([flight(seat)], [flight_case(CaseType.SUSPECTED)])
    assert (suspected.code, suspected.color) == ("co_passenger_close" if close else "co_passenger", Color.YELLOW)


def test_a_flight_with_no_published_rows_makes_every_passenger_a_co_passenger():
    [reason] = exposure_reasons([flight("10F")], [flight_case(rows=None)])
    assert (reason.code, reason.color) == ("co_passenger", Color.YELLOW)


@pytest.mark.parametrize("carriage, close", [(4, False), (5, True), (6, False), (7, True), (8, False), (None, False)])
def test_a_train_passenger_in_a_published_carriage_sat_close_and_one_next_to_it_did_not(carriage, close):
    [reason] = exposure_reasons([train(carriage)], [train_case()])
    assert (reason.code, reason.color) == (("co_passenger_close", Color.RED) if close else
                                           ("co_passenger", Color.YELLOW))
    [suspected] = exposure_reasons([train(carriage)], [train_case(CaseType.SUSPECTED)])
    assert suspected.color is Color.YELLOW


def test_a_train_with_no_published_carriage_makes_every_passenger_a_co_passenger():
    [reason] = exposure_reasons([train(5)], [train_case(carriages=())])
    assert reason.code == "co_passenger"


def test_an_exposure_counts_from_its_publication_until_14_days_after_the_trip():
    [reason] = exposure_reasons([flight("10F")], [flight_case()])
    assert (reason.since, reason.until, reason.ref) == (PUBLISHED, cst(2026, 3, 16), "44")
    assert not reason.is_live(PUBLISHED - 1) and reason.is_live(PUBLISHED)
    assert reason.is_live(cst(2026, 3, 15, 23, 59, 59)) and not reason.is_live(cst(2026, 3, 16))


def test_only_the_same_mode_number_and_day_match():
    assert exposure_reasons([flight("10F", dt.date(2026, 3, 2))], [flight_case()]) == []
    assert exposure_reasons([flight("10F", dt.date(2026, 2, 28))], [flight_case()]) == []
    assert exposure_reasons([Trip("trp_1", MARCH_1, Mode.FLIGHT, "CA1234", seat="10F")], [flight_case()]) == []
    assert exposure_reasons([Trip("trp_1", MARCH_1, Mode.TRAIN, "CA123", carriage=5)], [flight_case()]) == []
    # one reason per matching trip and exposure
    assert len(exposure_reasons([flight("10F"), flight("30A")], [flight_case(), flight_case(CaseType.SUSPECTED)])) == 4


def test_the_message_names_the_trip_the_case_and_where_the_passenger_sat():
    inbound = Exposure("exp_1", Mode.FLIGHT, "CA123", MARCH_1, CaseType.CONFIRMED, True, PUBLISHED, rows=(10, 12))
    [close] = exposure_reasons([flight("10F")], [inbound])
    assert close.message == "2026-03-01 乘坐的航班CA123有境外输入确诊病例（邻近座位/同车厢）"
    assert close.message_en == ("Flight CA123 on 2026-03-01 carried an inbound confirmed case; "
                                "you were near the case's seats or carriage")
    [far] = exposure_reasons([train(9)], [train_case(CaseType.SUSPECTED)])
    assert far.message == "2026-03-01 乘坐的列车G123有疑似病例（同列车）"
    assert far.message_en == "Train G123 on 2026-03-01 carried a suspected case; you were on the same train"


# --- medical statuses: validity and issuers ---------------------------------------------------------------

def test_each_medical_status_has_its_color_and_lifting_ones_have_none():
    at = cst(2026, 3, 1)
    colors = {s: [(r.code, r.color) for r in medical_reasons(s, at)] for s in MedicalStatus}
    assert colors == {
        MedicalStatus.CONFIRMED: [("medical_confirmed", Color.RED)],
        MedicalStatus.SUSPECTED: [("medical_suspected", Color.RED)],
        MedicalStatus.CLOSE_CONTACT: [("medical_close_contact", Color.RED)],
        MedicalStatus.UNDER_OBSERVATION: [("medical_under_observation", Color.YELLOW)],
        MedicalStatus.RECOVERED: [], MedicalStatus.CLEARED: []}
    assert medical_reasons(None, at) == []
    [reason] = medical_reasons(MedicalStatus.CONFIRMED, at, cst(2026, 3, 8), "44")
    assert (reason.since, reason.until, reason.ref) == (at, cst(2026, 3, 8), "44")


def test_a_status_holds_from_its_moment_until_its_validity_ends():
    at, until = cst(2026, 3, 1, 9), cst(2026, 3, 8, 9)
    entry = StatusEntry(MedicalStatus.CONFIRMED, at, until, "44")
    assert effective_status([entry], at - 1) is None
    assert effective_status([entry], at) == entry
    assert effective_status([entry], until - 1) == entry
    assert effective_status([entry], until) is None
    assert effective_status([StatusEntry(MedicalStatus.CONFIRMED, at)], at + 400 * DAY) is not None
    inputs = RiskInputs(statuses=[entry])
    assert "medical_status" in assess(inputs, until - 1) and "medical_status" not in assess(inputs, until)


def test_an_issuers_latest_status_is_its_word_and_only_a_national_lifting_lifts_the_others():
    at = cst(2026, 3, 1)
    gd_confirmed = StatusEntry(MedicalStatus.CONFIRMED, at, None, "44")
    sc_cleared = StatusEntry(MedicalStatus.CLEARED, at + HOUR, None, "51")
    assert effective_status([gd_confirmed, sc_cleared], at + 2 * HOUR) == gd_confirmed
    gd_recovered = StatusEntry(MedicalStatus.RECOVERED, at + HOUR, None, "44")
    assert effective_status([gd_confirmed, gd_recovered], at + 2 * HOUR) == gd_recovered
    national = StatusEntry(MedicalStatus.CLEARED, at + HOUR, None, NATIONAL)
    assert effective_status([gd_confirmed, national], at + 2 * HOUR) == national
    # a status set after the national lifting still holds
    later = StatusEntry(MedicalStatus.UNDER_OBSERVATION, at + 2 * HOUR, None, "44")
    assert effective_status([gd_confirmed, national, later], at + 3 * HOUR) == later
    # and one set at the same moment as the national lifting does not
    same = StatusEntry(MedicalStatus.UNDER_OBSERVATION, at + HOUR, None, "51")
    assert effective_status([national, same], at + 3 * HOUR) == national


def test_of_several_issuers_the_most_severe_status_holds_and_the_latest_among_equals():
    at = cst(2026, 3, 1)
    ladder = [MedicalStatus.UNDER_OBSERVATION, MedicalStatus.CLOSE_CONTACT, MedicalStatus.SUSPECTED,
              MedicalStatus.CONFIRMED]
    for lower, higher in itertools.pairwise(ladder):
        older_higher = StatusEntry(higher, at, None, "44")
        newer_lower = StatusEntry(lower, at + HOUR, None, "51")
        assert effective_status([older_higher, newer_lower], at + 2 * HOUR) == older_higher, (lower, higher)
    first, second = StatusEntry(MedicalStatus.SUSPECTED, at, None, "44"), StatusEntry(MedicalStatus.SUSPECTED,
                                                                                      at + 1, None, "51")
    assert effective_status([second, first], at + 2) == second
    assert effective_status([], at) is None


def test_the_national_status_given_apart_joins_the_issuers():
    at = cst(2026, 3, 1)
    inputs = RiskInputs(medical_status=MedicalStatus.UNDER_OBSERVATION, medical_since=at,
                        statuses=[StatusEntry(MedicalStatus.CONFIRMED, at + 1, None, "44")])
    [reason] = assess(inputs, at + 2)["medical_status"]
    assert (reason.code, reason.ref, reason.since) == ("medical_confirmed", "44", at + 1)
    [alone] = assess(RiskInputs(medical_status=MedicalStatus.UNDER_OBSERVATION, medical_since=at), at)[
        "medical_status"]
    assert (alone.code, alone.ref) == ("medical_under_observation", NATIONAL)


# --- provinces' local codes: while the province says they are valid ----------------------------------------

def test_a_local_code_counts_until_its_last_valid_instant():
    updated, until = cst(2026, 3, 1, 9), cst(2026, 3, 2, 9)
    red = LocalCode("44", Color.RED, updated, until)
    [reason] = local_code_reasons([red], until - 1)
    assert (reason.code, reason.color, reason.since, reason.until, reason.ref) == (
        "local_code_red", Color.RED, updated, until, "44")
    assert reason.message == "广东省健康码为红码"
    assert reason.message_en == "The 44 provincial health code is red"
    assert local_code_reasons([red], until) == []
    assert [r.code for r in local_code_reasons([LocalCode("44", Color.YELLOW, updated, None)], until + 365 * DAY)
            ] == ["local_code_yellow"]
    assert local_code_reasons([LocalCode("44", Color.YELLOW, updated, None)], 0)[0].message == "广东省健康码为黄码"
    assert local_code_reasons([LocalCode("44", Color.GREEN, updated, None)], until) == []


# --- reasons, colors and corrections ------------------------------------------------------------------------

def reason(color: Color, since: int, until: int | None, code: str = "x", source: str = "declaration",
           ref: str | None = None) -> Reason:
    return Reason(source, code, color, "理由", "reason", since, until, ref)


def test_a_reason_is_live_from_since_inclusive_to_until_exclusive():
    r = reason(Color.RED, 100, 200)
    assert [r.is_live(t) for t in (99, 100, 199, 200)] == [False, True, True, False]
    assert reason(Color.RED, 100, None).is_live(10**10)


def test_the_color_is_the_most_severe_live_reason_and_reasons_come_most_severe_then_newest_first():
    reasons = [reason(Color.YELLOW, 100, None, "a"), reason(Color.RED, 150, 200, "b"),
               reason(Color.YELLOW, 120, None, "c"), reason(Color.YELLOW, 120, None, "b")]
    assert live_color(reasons, 99) is Color.GREEN
    assert live_color(reasons, 150) is Color.RED
    assert live_color(reasons, 200) is Color.YELLOW
    assert live_at(reasons, 160) == ["b", "b", "c", "a"]
    assert next_change(reasons, 100) == 120 and next_change(reasons, 150) == 200 and next_change(reasons, 200) is None
    assert [c.severity for c in Color] == [0, 1, 2]


def test_a_reason_survives_storage():
    r = reason(Color.YELLOW, 100, 200, ref="440106")
    assert Reason.from_dict(r.to_dict()) == r
    assert r.to_dict()["color"] == "yellow"
    unrefed = reason(Color.RED, 100, None)
    assert "ref" not in unrefed.to_dict() and Reason.from_dict(unrefed.to_dict()) == unrefed


def test_a_correction_lifts_the_reasons_it_covers_for_its_period_and_they_come_back_after_it():
    approved, until = 1000, 2000
    lift = Override("cor_1", "declaration", None, approved, until, None)
    sources = {"declaration": [reason(Color.RED, 500, 3000)]}
    kept = apply_overrides(sources, [lift])["declaration"]
    assert [(r.since, r.until) for r in kept] == [(500, approved), (until, 3000)]
    # a reason that ends within the period does not come back; one that starts at the approval is covered
    assert apply_overrides({"declaration": [reason(Color.RED, 500, 2000)]}, [lift])["declaration"] == [
        reason(Color.RED, 500, approved)]
    assert apply_overrides({"declaration": [reason(Color.RED, approved, until)]}, [lift]) == {}
    # a reason that starts after the approval is not covered: the correction judged what existed then
    later = reason(Color.RED, approved + 1, None)
    assert apply_overrides({"declaration": [later]}, [lift]) == {"declaration": [later]}


def test_a_correction_that_sets_a_color_adds_it_for_its_period_and_covers_only_its_code_and_ref():
    replace = Override("cor_1", "area", "high_risk_stay", 1000, 2000, Color.YELLOW, ref="440106")
    sources = {"area": [reason(Color.RED, 500, 3000, "high_risk_stay", "area", "440106"),
                        reason(Color.RED, 500, 3000, "high_risk_stay", "area", "510104"),
                        reason(Color.YELLOW, 500, 3000, "medium_risk_stay", "area", "440106")]}
    result = apply_overrides(sources, [replace])
    assert [(r.ref, r.code, r.since, r.until) for r in result["area"]] == [
        ("440106", "high_risk_stay", 500, 1000), ("440106", "high_risk_stay", 2000, 3000),
        ("510104", "high_risk_stay", 500, 3000), ("440106", "medium_risk_stay", 500, 3000)]
    [added] = result["correction"]
    # the whole reason, its wording included (the citizen reads it on their code)
    assert added == Reason("correction", "corrected_area", Color.YELLOW, "经核实更正后的结果",
                           "The result after a verified correction", 1000, 2000)
