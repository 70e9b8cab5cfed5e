"""The small rules beside the color rules (chalicelib/domain): flight and train numbers and seats, names and
phones, the identifiers the platform issues, divisions, whose business a person is, the webhook retry
schedule, the abuse limits, and the health declaration's fields. Fast tier.
"""
from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from pydantic import ValidationError

from chalicelib.domain import divisions, identifiers, limits, names, remit, retries, transport
from chalicelib.domain.areas import LevelPeriod, RiskLevel, Visit
from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.corrections import reviewing_province
from chalicelib.domain.declaration import Declaration, Symptom
from chalicelib.domain.limits import Limit, Per
from chalicelib.domain.local_codes import province_name
from chalicelib.domain.remit import Basis, BasisKind, Connection
from chalicelib.domain.stays import StayFacts, decode_stays, encode_stays, live_reasons_of, stayed_in_any
from chalicelib.domain.transport import InvalidNumber, Mode

pytestmark = pytest.mark.fast


# --- flight and train numbers, seats ------------------------------------------------------------------------

@pytest.mark.parametrize("mode, raw, normal", [
    (Mode.FLIGHT, "CA1234", "CA1234"), (Mode.FLIGHT, "ca 0123", "CA123"), (Mode.FLIGHT, "3U8888", "3U8888"),
    (Mode.FLIGHT, "G5 12", "G512"), (Mode.FLIGHT, "CA1", "CA1"), (Mode.FLIGHT, " mu\t5101 ", "MU5101"),
    (Mode.TRAIN, "G1234", "G1234"), (Mode.TRAIN, "g 0012", "G12"), (Mode.TRAIN, "D7", "D7"),
    (Mode.TRAIN, "12345", "12345"), (Mode.TRAIN, "K1", "K1"), (Mode.TRAIN, "L9999", "L9999"),
])
def test_numbers_are_normalised_as_operators_print_them(mode, raw, normal):
    assert transport.normalise(mode, raw) == normal


@pytest.mark.parametrize("mode, raw", [
    (Mode.FLIGHT, "CA12345"), (Mode.FLIGHT, "C1"), (Mode.FLIGHT, "CAB123"), (Mode.FLIGHT, "12"),
    (Mode.FLIGHT, "CA"), (Mode.FLIGHT, ""), (Mode.TRAIN, "G12345"), (Mode.TRAIN, "123456"),
    (Mode.TRAIN, "X123"), (Mode.TRAIN, "GG12"), (Mode.TRAIN, "G"), (Mode.TRAIN, "G12A"),
])
def test_a_number_in_no_real_format_is_refused_with_its_format(mode, raw):
    # the whole message, which a trip's 422 returns: pinned here once
    with pytest.raises(InvalidNumber) as refused:
        transport.normalise(mode, raw)
    assert str(refused.value) == (
        "a flight number is a two-character airline code and 1-4 digits, e.g. CA1234, 3U8888" if mode is Mode.FLIGHT
        else "a train number is a letter such as G, D, C, Z, T, K, Y and digits, or digits alone")


def test_only_flights_and_trains_carry_numbers():
    for mode in (Mode.BUS, Mode.CAR, Mode.SHIP, Mode.OTHER):
        with pytest.raises(InvalidNumber, match=f"{mode.value} trips carry no number"):
            transport.normalise(mode, "G1234")
    assert transport.NUMBERED == (Mode.FLIGHT, Mode.TRAIN)


def test_a_free_text_number_may_be_a_flight_a_train_or_both():
    assert transport.candidates("G5123") == [(Mode.FLIGHT, "G5123"), (Mode.TRAIN, "G5123")]
    assert transport.candidates("ca 123") == [(Mode.FLIGHT, "CA123")]
    assert transport.candidates("k 1") == [(Mode.TRAIN, "K1")]
    assert transport.candidates("hello") == []


@pytest.mark.parametrize("seat, row", [("12K", 12), ("1a", 1), (" 8C ", 8), ("99A", 99), ("12L", None),
                                        ("123A", None), ("A12", None), ("12", None), ("", None)])
def test_a_flight_seat_is_a_row_and_a_letter_from_a_to_k(seat, row):
    assert transport.seat_row(seat) == row
    assert transport.is_flight_seat(seat) is (row is not None)


# --- names and phones ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, valid", [
    ("王小明", True), ("王", True), ("欧阳娜娜", True), ("阿依古丽·买买提", True), ("Li Lei", True),
    ("Jean-Luc", True), (" 王小明 ", True), ("A" * 50, True), ("A" * 51, False), ("王小明1", False),
    ("1王", False), ("", False), ("·王", False), ("王\n明", False),
])
def test_a_name_is_letters_or_han_with_a_few_separators_inside(name, valid):
    assert names.is_valid_name(name) is valid


@pytest.mark.parametrize("phone, valid", [
    ("13800000000", True), ("19912345678", True), ("12800000000", False), ("1380000000", False),
    ("138000000000", False), ("23800000000", False), ("1380000000a", False), ("+8613800000000", False),
])
def test_a_phone_is_a_mainland_mobile_number(phone, valid):
    assert names.is_valid_phone(phone) is valid


@pytest.mark.parametrize("name, masked", [
    ("张三", "*三"), ("王小明", "王*明"), ("欧阳小明", "欧**明"), ("张", "*"), ("", "*"), (" 王小明 ", "王*明"),
])
def test_a_name_is_shown_with_all_but_its_ends_masked(name, masked):
    assert names.mask_name(name) == masked


# --- identifiers the platform issues -----------------------------------------------------------------------

def test_each_identifier_has_exactly_the_shape_the_platform_mints():
    assert identifiers.is_webhook_id("wh_0123456789abcdef")
    assert not identifiers.is_webhook_id("wh_0123456789ABCDEF") and not identifiers.is_webhook_id(
        "wh_0123456789abcdef0") and not identifiers.is_webhook_id("xwh_0123456789abcdef")
    assert identifiers.is_correction_id("cor_0123456789abcdef")
    assert not identifiers.is_correction_id("cor_0123456789abcde") and not identifiers.is_correction_id(
        "wh_0123456789abcdef")
    assert identifiers.is_event_id("evt_1795841222720a86b88e860")
    assert not identifiers.is_event_id("evt_179584122272a86b88e860") and not identifiers.is_event_id(
        "evt_1795841222720a86b88e86g")
    assert identifiers.is_province("44") and not identifiers.is_province("440") and not identifiers.is_province("4")
    assert identifiers.is_local_id("gd-local_1.2:3") and identifiers.is_local_id("x" * 64)
    assert not identifiers.is_local_id("x" * 65) and not identifiers.is_local_id("") and not identifiers.is_local_id(
        "a b") and not identifiers.is_local_id("a/b")



def test_a_code_id_is_15_url_safe_base64_characters_and_a_checkpoint_id_ch_and_16_hex_digits():
    assert identifiers.is_code_id("Ab0_-zZ9aaaaaaa") and identifiers.is_code_id("x" * 15)
    assert not identifiers.is_code_id("x" * 14) and not identifiers.is_code_id("x" * 16)
    assert not identifiers.is_code_id("Ab0_-zZ9aaaaaa=") and not identifiers.is_code_id("")
    assert identifiers.is_checkpoint_id("ch_0123456789abcdef")
    assert not identifiers.is_checkpoint_id("ch_0123456789abcde") and not identifiers.is_checkpoint_id(
        "ch_0123456789abcdef0") and not identifiers.is_checkpoint_id("ch_0123456789ABCDEF")
    assert not identifiers.is_checkpoint_id("wh_0123456789abcdef")

# --- divisions ---------------------------------------------------------------------------------------------

def test_divisions_are_six_digit_codes_of_the_bundled_list_and_provinces_two():
    assert divisions.is_division("440106") and divisions.is_division("440100") and divisions.is_division("440000")
    for not_one in ("44010", "4401060", "990101", "44O106", ""):
        assert not divisions.is_division(not_one)
    assert divisions.is_province("44") and not divisions.is_province("99") and not divisions.is_province("4")
    assert not divisions.is_province("440")
    assert divisions.province_of("440106") == "44"
    counties = divisions.all_counties()
    assert "440106" in counties and "440100" not in counties and "440000" not in counties


def test_a_division_is_named_with_its_prefecture_and_province_where_they_differ():
    assert divisions.name_of("440106") == "广东省广州市天河区"
    assert divisions.name_of("440100") == "广东省广州市"
    assert divisions.name_of("440000") == "广东省"
    assert divisions.name_of("110101") == "北京市东城区"          # no "市辖区" between them
    assert divisions.name_of("999999") is None
    assert province_name("44") == "广东省" and province_name("99") == "99"


# --- whose business a person is ------------------------------------------------------------------------------

def test_the_first_tie_to_a_province_is_the_declared_area_then_a_stay_then_a_local_code():
    assert remit.connection("44", "440106", ["510104"], ["51"]) is Connection.DECLARED_AREA
    assert remit.connection("51", "440106", ["440106", "510104"], ["51"]) is Connection.STAY
    assert remit.connection("51", "440106", ["440106"], ["44", "51"]) is Connection.LOCAL_CODE
    assert remit.connection("52", "440106", ["440106"], ["44", "51"]) is None
    assert remit.connection("44", None, [], []) is None
    assert remit.connection("44", "", [], []) is None


def test_an_act_needs_a_tie_or_a_stated_basis_except_a_national_authoritys():
    assert remit.basis(None, None, None, None) == Basis(Connection.NATIONAL, None, None)
    assert remit.basis(None, None, BasisKind.OTHER, "why") == Basis(Connection.NATIONAL, BasisKind.OTHER, "why")
    assert remit.basis("44", None, None, None) is None
    assert remit.basis("44", None, None, "a note alone") is None
    assert remit.basis("44", Connection.STAY, None, None) == Basis(Connection.STAY, None, None)
    assert remit.basis("44", None, BasisKind.DIAGNOSED_HERE, "n") == Basis(None, BasisKind.DIAGNOSED_HERE, "n")
    assert remit.basis("44", Connection.STAY, BasisKind.TREATED_HERE, "n") == Basis(Connection.STAY,
                                                                                    BasisKind.TREATED_HERE, "n")
    assert Basis(Connection.STAY, BasisKind.TRACED_HERE, "n").to_dict() == {"connection": "stay",
                                                                              "stated": "traced_here", "note": "n"}
    assert Basis().to_dict() == {"connection": None, "stated": None, "note": None}


@pytest.mark.parametrize("basis", [
    Basis(), Basis(Connection.STAY), Basis(Connection.NATIONAL, BasisKind.OTHER, "seen at the border"),
    Basis(None, BasisKind.DIAGNOSED_HERE, "n"), Basis(Connection.LOCAL_CODE, BasisKind.RESIDENT_HERE, None),
])
def test_a_basis_reads_back_as_it_was_kept_in_the_access_log(basis):
    assert Basis.from_dict(basis.to_dict()) == basis


def test_a_basis_kept_with_fields_missing_reads_back_as_none():
    assert Basis.from_dict({}) == Basis()
    assert Basis.from_dict({"connection": "declared_area"}) == Basis(Connection.DECLARED_AREA, None, None)
    assert Basis.from_dict({"stated": "treated_here", "note": "ward 3"}) == Basis(None, BasisKind.TREATED_HERE,
                                                                                    "ward 3")
    assert Basis.from_dict({"connection": "", "stated": "", "note": None}) == Basis()


def test_a_correction_is_reviewed_by_the_owner_of_what_the_reason_is_about():
    def about(ref: str | None) -> Reason:
        return Reason("area", "x", Color.YELLOW, "m", "m", 0, None, ref)
    assert reviewing_province(about("national"), "440106") == "national"
    assert reviewing_province(about("510104"), "440106") == "51"
    assert reviewing_province(about("44"), "510104") == "44"
    assert reviewing_province(about(None), "510104") == "51"
    assert reviewing_province(about("gd"), "510104") == "51"
    assert reviewing_province(about(None), None) == "national"
    assert reviewing_province(about(None), "") == "national"


# --- the webhook retry schedule ---------------------------------------------------------------------------

class Fixed(random.Random):
    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_published_retry_schedule_after_each_failure():
    assert retries.SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000) and retries.MAX_ATTEMPTS == 8
    now = 1_800_000_000
    assert [retries.next_attempt(n, now, rng=Fixed(0.0)) for n in range(1, 9)] == [
        now + 5, now + 300, now + 1800, now + 7200, now + 18000, now + 36000, now + 36000, None]
    assert retries.next_attempt(9, now) is None


def test_a_retry_is_delayed_by_up_to_a_fifth_more_and_by_what_the_receiver_asks_up_to_a_day():
    now = 1_800_000_000
    assert retries.next_attempt(2, now, rng=Fixed(0.999)) == now + 300 + 59
    assert retries.next_attempt(2, now, rng=Fixed(0.5)) == now + 330
    assert retries.next_attempt(1, now, retry_after=60, rng=Fixed(0.0)) == now + 60
    assert retries.next_attempt(3, now, retry_after=60, rng=Fixed(0.0)) == now + 1800
    assert retries.next_attempt(1, now, retry_after=10 ** 9, rng=Fixed(0.0)) == now + 86400
    assert retries.MAX_RETRY_AFTER == 86400
    for _ in range(20):
        assert now + 5 <= retries.next_attempt(1, now) <= now + 6


# --- abuse limits -------------------------------------------------------------------------------------------

def test_a_limit_counts_in_fixed_windows_aligned_to_the_clock():
    minute = Limit("x", ("GET /x",), Per.CLIENT, 10, 60, "things", "why")
    assert (minute.window_start(1_800_000_020), minute.retry_after(1_800_000_020)) == (1_800_000_000, 40)
    assert minute.retry_after(1_800_000_000) == 60 and minute.retry_after(1_800_000_059) == 1
    assert minute.describe() == "at most 10 things a minute per client"
    hour = Limit("y", ("GET /y",), Per.PROVINCE, 30000, 3600, "records", "why")
    assert hour.describe() == "at most 30,000 records an hour per province"
    assert Limit("z", (), Per.ADDRESS, 5, 10, "tries", "why").describe() == "at most 5 tries in 10 s per source address"


def test_an_operation_counts_against_its_limits_in_order():
    assert limits.on("post", "/v1/sessions") == [limits.SESSIONS_PER_ADDRESS, limits.SESSIONS_PER_PERSON]
    assert limits.on("POST", "/v1/sync/health-records") == [limits.SYNC_RECORDS_PER_PROVINCE]
    assert limits.on("GET", "/v1/codes/me") == []


def test_what_a_limit_costs_is_said_in_the_table():
    assert limits.cost(limits.APPLIES_PER_PERSON) == "one UpdateItem per counted request"
    assert limits.cost(limits.LOOKUPS_PER_PROVINCE) == "one UpdateItem per counted request (adding the batch's size)"
    assert limits.cost(limits.VERIFICATIONS_PER_CHECKPOINT) == (
        "one UpdateItem per 50 verifications per container, sent alongside the request's own call: no extra round "
        "trip")
    rows = limits.table().splitlines()
    assert rows[0].startswith("| limit | operation | counted per |") and rows[1].startswith("|---|")
    assert len(rows) == 2 + len(limits.LIMITS)
    assert rows[2] == ("| `sessions_per_address` | `POST /v1/sessions` | source address | 600 log-in requests | "
                       "a minute | one UpdateItem per counted request | a family, an office or a carrier's NAT "
                       "behind one address: 10 a second |")
    assert limits.table().endswith("|\n")


def test_a_limit_flushed_every_second_request_is_still_counted_in_the_container():
    pair = Limit("pair", ("POST /x",), Per.CLIENT, 100, 60, "requests", "why", flush_every=2)
    assert limits.cost(pair) == ("one UpdateItem per 2 requests per container, sent alongside the request's own "
                                 "call: no extra round trip")


def test_the_table_gives_a_window_of_seconds_without_its_in(monkeypatch):
    burst = Limit("burst", ("POST /x",), Per.ADDRESS, 5, 10, "tries", "a double click")
    monkeypatch.setattr(limits, "LIMITS", (burst,))
    assert limits.table().splitlines()[2] == ("| `burst` | `POST /x` | source address | 5 tries | 10 s | one "
                                              "UpdateItem per counted request | a double click |")


# --- the health declaration's fields -------------------------------------------------------------------------

DECLARED = {"temperature": 36.5, "symptoms": ["fever", "cough"], "contact_with_cases": False,
            "stayed_in_high_risk_area": False, "current_area": "510104"}


def test_a_declaration_takes_the_json_a_mini_program_sends():
    made = Declaration.model_validate_json(json.dumps(DECLARED))
    assert made.symptoms == [Symptom.FEVER, Symptom.COUGH] and made.temperature == 36.5


@pytest.mark.parametrize("change", [
    {"symptoms": ["fever", "fever"]}, {"symptoms": ["sneezing"]}, {"symptoms": "fever"}, {"current_area": "999999"},
    {"current_area": "51010"}, {"temperature": 33.9}, {"temperature": 43.1}, {"contact_with_cases": "no"},
    {"extra": 1},
])
def test_a_declaration_with_a_field_out_of_its_rules_is_refused(change):
    with pytest.raises(ValidationError):
        Declaration.model_validate_json(json.dumps({**DECLARED, **change}))


def test_the_declaration_temperature_bounds_are_inclusive():
    for temperature in (34.0, 43.0):
        assert Declaration.model_validate({**DECLARED, "temperature": temperature}).temperature == temperature


# --- what a code keeps of its stays ----------------------------------------------------------------------------

def test_stays_are_kept_by_area_and_day_and_a_read_stops_early_when_no_area_is_risky():
    now = int(dt.datetime(2026, 3, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp())
    visits = [Visit(dt.date(2026, 3, 1), "440106", "trip"), Visit(dt.date(2026, 3, 2), "440106", "checkin"),
              Visit(dt.date(2026, 3, 1), "440106", "checkin"), Visit(dt.date(2026, 3, 3), "510104", "trip"),
              Visit(dt.date(2026, 2, 18), "510104", "trip")]      # before the window
    text = encode_stays(visits, now)
    assert text == "440106:20260301,20260302;510104:20260303"
    assert decode_stays(text) == [Visit(dt.date(2026, 3, 1), "440106", "area"),
                                  Visit(dt.date(2026, 3, 2), "440106", "area"),
                                  Visit(dt.date(2026, 3, 3), "510104", "area")]
    assert decode_stays("") == []
    assert stayed_in_any(text, {"440100": []}) and stayed_in_any(text, {"510104": []})
    assert not stayed_in_any(text, {"440105": [], "510100x": []}) and not stayed_in_any("", {"440106": []})
    stored = {"declaration": [Reason("declaration", "declared_fever", Color.YELLOW, "m", "m", 0, None)],
              "area": [Reason("area", "stale", Color.RED, "m", "m", 0, None)]}
    levels = {"440106": [LevelPeriod(RiskLevel.MEDIUM, now - 86400 * 10)]}
    assert [r.code for r in live_reasons_of(stored, StayFacts(text), levels, now)] == ["declared_fever",
                                                                                       "medium_risk_stay"]
    assert [r.code for r in live_reasons_of(stored, StayFacts(text), {}, now)] == ["declared_fever"]
