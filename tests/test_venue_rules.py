"""Venue codes' pure rules and tokens (issue 18), fast tier: the venue number's check digit, the 5-minute visit
bucket, the venue exposure rule with its 30-minute buffer (docs/colors.md), and the venue token (signature,
generation, typ, expiry). The same code runs end to end in tests/test_venues.py."""
from __future__ import annotations

import datetime as dt
import random

import jwt
import pytest

from chalicelib.domain import days, venues as rules
from chalicelib.domain.colors import Color
from chalicelib.domain.exposures import CaseType
from chalicelib.domain.risk import RiskInputs, assess
from chalicelib.domain.venues import VenueExposure, VenueVisit
from chalicelib.security import qr_tokens, venue_tokens
from chalicelib.security.qr_tokens import TokenRejected
from chalicelib.settings import get_settings
from tests.forged import NOW, _platform_clock_at_now, hand_made  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.fast

VENUE = "ven_0123456789ab"


def exposure(start: int, end: int, case_type: CaseType = CaseType.CONFIRMED, venue: str = VENUE) -> VenueExposure:
    return VenueExposure("vex_1", venue, "天河城", start, end, case_type, NOW, "44")


# --- the venue number ------------------------------------------------------------------------------------

def test_a_venue_number_is_eight_digits_whose_last_checks_the_others():
    assert rules.venue_number(0) == "00000000" and rules.venue_number(7992739) == "79927398"   # Luhn's example
    assert rules.is_venue_number("79927398")
    assert not rules.is_venue_number("79927397") and not rules.is_venue_number("7992739") \
        and not rules.is_venue_number("7992739a") and not rules.is_venue_number("799273980")


def test_every_single_digit_typo_and_every_swap_of_neighbours_but_09_is_caught():
    rng = random.Random(18)
    for _ in range(300):
        number = rules.venue_number(rng.randrange(10 ** 7))
        for i in range(8):
            for digit in "0123456789":
                if digit != number[i]:
                    assert not rules.is_venue_number(number[:i] + digit + number[i + 1:]), (number, i, digit)
        for i in range(7):
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
            if swapped != number and {number[i], number[i + 1]} != {"0", "9"}:
                assert not rules.is_venue_number(swapped), (number, i)


def test_scans_in_one_five_minute_bucket_share_it():
    start = NOW - NOW % 300
    assert rules.bucket(start) == rules.bucket(start + 299) == start
    assert rules.bucket(start + 300) == start + 300


# --- the rule ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset, counts", [
    (-1800 - 1, False), (-1800, True), (0, True), (3600, True), (3600 + 1800, True), (3600 + 1800 + 1, False)])
def test_a_visit_counts_from_30_minutes_before_the_case_came_to_30_minutes_after_it_left(offset, counts):
    start = NOW - 86400
    found = rules.venue_exposure_reasons([VenueVisit(VENUE, start + offset)], [exposure(start, start + 3600)])
    assert bool(found) is counts


def test_a_confirmed_or_suspected_case_makes_visitors_yellow_from_publication_for_14_days_after_the_visit():
    visit_at = NOW - 86400
    for case_type in CaseType:
        [reason] = rules.venue_exposure_reasons([VenueVisit(VENUE, visit_at)],
                                                [exposure(visit_at - 60, visit_at + 60, case_type)])
        assert (reason.source, reason.code, reason.color) == ("exposure", "venue_exposure", Color.YELLOW)
        assert reason.since == NOW and reason.until == days.lapses_at(days.today(visit_at))
        assert reason.ref == "44" and "天河城" in reason.message and "天河城" in reason.message_en


def test_another_venue_or_several_scans_around_one_exposure_make_no_second_reason():
    visit_at = NOW - 3600
    assert not rules.venue_exposure_reasons([VenueVisit("ven_ffffffffffff", visit_at)],
                                            [exposure(visit_at - 60, visit_at + 60)])
    day_before = visit_at - 86400 + 600
    found = rules.venue_exposure_reasons([VenueVisit(VENUE, day_before), VenueVisit(VENUE, visit_at)],
                                         [exposure(day_before - 60, visit_at + 60)])
    assert len(found) == 1 and found[0].until == days.lapses_at(days.today(visit_at))


def test_assess_puts_venue_exposures_beside_co_passenger_exposures():
    visit_at = NOW - 3600
    sources = assess(RiskInputs(venue_visits=[VenueVisit(VENUE, visit_at)],
                                venue_exposures=[exposure(visit_at - 60, visit_at + 60)]), NOW)
    assert [r.code for r in sources["exposure"]] == ["venue_exposure"]
    assert assess(RiskInputs(venue_visits=[VenueVisit(VENUE, visit_at)]), NOW) == {}


# --- the token -------------------------------------------------------------------------------------------

def test_a_venue_token_names_the_venue_and_its_generation_for_a_year():
    token, expires = venue_tokens.issue(VENUE, 3, NOW)
    assert expires == NOW + rules.TOKEN_TTL_SECONDS > NOW + 365 * 86400
    assert jwt.get_unverified_header(token)["typ"] == "venue"
    assert venue_tokens.verify(token, NOW) == (VENUE, 3)
    assert venue_tokens.verify(token, expires) == (VENUE, 3)
    with pytest.raises(TokenRejected) as rejected:
        venue_tokens.verify(token, expires + qr_tokens.LEEWAY_SECONDS)
    assert rejected.value.reason == "expired"
    assert len(token) < 260      # the poster's QR stays small: the URL is base + "/venue#" + this


@pytest.mark.parametrize("claims, header, reason", [
    ({"sub": VENUE, "exp": NOW + 60}, {"typ": "venue"}, "malformed"),                 # no generation
    ({"sub": VENUE, "g": "1", "exp": NOW + 60}, {"typ": "venue"}, "malformed"),
    ({"sub": "not-a-venue", "g": 1, "exp": NOW + 60}, {"typ": "venue"}, "malformed"),
    ({"sub": VENUE, "g": 1, "exp": NOW + 60}, {}, "malformed"),                      # a QR token's header
])
def test_a_token_of_our_key_that_is_not_a_venue_token_is_refused(claims, header, reason):
    ring = qr_tokens.key_ring(get_settings().qr_token_ttl)
    token = jwt.encode(claims, ring.signing_key, algorithm="ES256", headers={"kid": ring.signing_kid, **header})
    with pytest.raises(TokenRejected) as rejected:
        venue_tokens.verify(token, NOW)
    assert rejected.value.reason == reason


def test_a_citizens_qr_token_is_no_venue_token_nor_a_venue_token_a_qr_token():
    qr, _ = qr_tokens.issue("code-1", NOW, 180)
    with pytest.raises(TokenRejected):
        venue_tokens.verify(qr, NOW)
    token, _ = venue_tokens.issue(VENUE, 1, NOW)
    assert qr_tokens.verify(token, 180, NOW) == VENUE        # verifies, but names no code: unknown_code at a gate


def test_the_check_day_is_the_china_standard_time_day_of_the_visit():
    late = int(dt.datetime(2026, 11, 30, 23, 59, tzinfo=days.CST).timestamp())
    assert VenueVisit(VENUE, late).day == dt.date(2026, 11, 30)


@pytest.mark.parametrize("header, reason", [
    ({"alg": "ES256", "typ": "venue"}, "unknown_key"),                      # no kid at all
    ({"alg": "ES256", "typ": "venue", "kid": "never-ours"}, "unknown_key"),
    ({"alg": "HS256", "typ": "venue", "kid": None}, "bad_signature"),       # our kid, another algorithm
])
def test_a_venue_token_naming_no_key_of_ours_or_another_algorithm_is_refused_with_its_reason(header, reason):
    if "kid" in header and header["kid"] is None:
        header = {**header, "kid": qr_tokens.key_ring(get_settings().qr_token_ttl).signing_kid}
    with pytest.raises(TokenRejected) as rejected:
        venue_tokens.verify(hand_made(header, {"sub": VENUE, "g": 1, "exp": NOW + 60}), NOW)
    assert rejected.value.reason == reason


def test_an_expired_venue_token_says_it_is_the_venue_code_that_expired():
    token, expires = venue_tokens.issue(VENUE, 1, NOW)
    with pytest.raises(TokenRejected, match="^The venue code has expired") as rejected:
        venue_tokens.verify(token, expires + qr_tokens.LEEWAY_SECONDS)
    assert rejected.value.reason == "expired"
