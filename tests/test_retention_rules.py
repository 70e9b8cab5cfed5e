"""The retention schedule's moments (chalicelib/domain/retention.py, docs/retention.md): pure, no database.

The known answers are written out in seconds (30 days = 2,592,000 s, 90 days = 7,776,000 s, 180 days =
15,552,000 s), not computed from the module's constants, so a changed period fails here.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.domain import retention
from chalicelib.domain.colors import Color, Reason

pytestmark = pytest.mark.fast

T = 1_800_000_000
D30, D90, D180 = 2_592_000, 7_776_000, 15_552_000


def reason(until: int | None) -> Reason:
    return Reason("medical_status", "confirmed", Color.RED, "m", "m", T - 100, until, "51")


def test_the_periods_are_the_published_ones():
    assert (retention.DAY, retention.CODE_DAYS, retention.OPEN_ENDED_DAYS) == (86400, 30, 180)
    assert (retention.MEDICAL_DAYS, retention.LOCAL_CODE_DAYS, retention.CORRECTION_DAYS,
            retention.AUDIT_DAYS) == (180, 30, 90, 180)


# --- the code: 30 days after its last activity, or as long as a reason needs it ------------------------------

def test_a_code_without_reasons_is_held_by_none():
    assert retention.code_hold([], T) is None


def test_reasons_with_ends_hold_the_code_30_days_past_the_last_end():
    assert retention.code_hold([reason(T + 500)], T) == T + 500 + D30
    assert retention.code_hold([reason(T + 500), reason(T + 9000), reason(T + 20)], T) == T + 9000 + D30


def test_a_reason_without_an_end_holds_the_code_180_days_past_the_write():
    assert retention.code_hold([reason(None)], T) == T + D180
    # beside a reason that ends sooner, the open-ended one decides (one is enough, not all)
    assert retention.code_hold([reason(T + 500), reason(None)], T) == T + D180
    assert retention.code_hold([reason(None), reason(T + 500)], T + 7) == T + 7 + D180


def test_a_code_is_kept_30_days_after_its_later_write_or_activity():
    assert retention.code_expires(T, 0, []) == (T + D30, None)
    assert retention.code_expires(T, T + 3600, []) == (T + 3600 + D30, None)
    assert retention.code_expires(T + 3600, T, []) == (T + 3600 + D30, None)


def test_a_reason_ending_before_the_activity_rule_sets_no_hold():
    assert retention.code_expires(T, T, [reason(T - 500)]) == (T + D30, None)
    # ending exactly when the activity rule would: the activity rule, no hold written
    assert retention.code_expires(T, T + 500, [reason(T + 500)]) == (T + 500 + D30, None)


def test_a_reason_outlasting_the_activity_rule_holds_the_code():
    assert retention.code_expires(T, T, [reason(T + 501)]) == (T + 501 + D30, T + 501 + D30)
    assert retention.code_expires(T, T, [reason(None)]) == (T + D180, T + D180)


def test_a_scan_keeps_the_code_30_days():
    assert retention.scan_extends(T) == T + D30


# --- records with a validity: the longer of the write's period and the validity plus a margin ----------------

@pytest.mark.parametrize(("written", "valid_until", "expires"), [
    (T, None, T + D180),
    (T, T + 86400, T + D180),                          # a short validity: the write's 180 days
    (T, T + D180 - D30, T + D180),                     # validity + 30 days meets the write's 180 days
    (T, T + D180, T + D180 + D30),                     # a validity past them: its end + 30 days
    (T + 5, 0, T + 5 + D180),
])
def test_a_medical_record_is_kept_180_days_or_30_days_past_its_validity(written, valid_until, expires):
    assert retention.medical_expires(written, valid_until) == expires


def test_a_medical_record_without_a_validity_is_kept_180_days():
    assert retention.medical_expires(T) == T + D180


@pytest.mark.parametrize(("synced", "valid_until", "expires"), [
    (T, None, T + D30),
    (T, T - 86400, T + D30),                           # a validity already over: the sync's 30 days
    (T, T + 86400, T + 86400 + D30),                   # 30 days after the validity
    (0, None, D30),                                    # the epoch is a moment like any other
])
def test_a_local_code_is_kept_30_days_after_its_sync_or_its_validity(synced, valid_until, expires):
    assert retention.local_code_expires(synced, valid_until) == expires


@pytest.mark.parametrize(("written", "lifted_until", "expires"), [
    (T, None, T + D90),
    (T, T + 86400, T + D90),                           # a lift of a day: the request's 90 days
    (T, T + D90, T + D90 + D30),                       # a lift ending after them: its end + 30 days
])
def test_a_correction_is_kept_90_days_or_30_days_past_the_lift_it_records(written, lifted_until, expires):
    assert retention.correction_expires(written, lifted_until) == expires


def test_a_correction_without_a_lift_is_kept_90_days():
    assert retention.correction_expires(T) == T + D90


def test_the_audit_trail_is_kept_180_days():
    assert retention.audit_expires(T) == T + D180


# --- the moment a backfill starts an item's period from --------------------------------------------------------

def test_the_latest_of_the_named_moments_an_item_has():
    item = {"updated_at": Decimal(T), "at": Decimal(T + 60), "synced_at": None, "other": Decimal(T + 999)}
    assert retention.latest(item, "updated_at", "at", "synced_at") == T + 60
    assert retention.latest(item, "at", "updated_at") == T + 60
    assert retention.latest(item, "updated_at") == T
    assert retention.latest(item, "synced_at", "missing") is None
    assert retention.latest({}, "at") is None


def test_the_latest_moment_is_a_plain_int_even_from_dynamodbs_decimals():
    moment = retention.latest({"at": Decimal(T)}, "at")
    assert moment == T and type(moment) is int
    assert retention.latest({"at": 0}, "at") == 0       # the epoch is a moment, not a missing one
