"""The pure rules of tests, vaccinations and entry rules (chalicelib/domain/lab_results.py): no database."""
from __future__ import annotations

import pytest

from chalicelib.domain.colors import Color, Reason, live_color
from chalicelib.domain.lab_results import (
    EntryRule,
    HealthSummary,
    LabResult,
    TestOutcome,
    judge,
    negative_within,
    positive_reasons,
    result_expires_at,
    summary,
)
from chalicelib.domain.medical import MedicalStatus, StatusEntry
from chalicelib.domain.risk import RiskInputs, assess

pytestmark = pytest.mark.fast
NOW = 1_800_000_000
H = 3600
NEG, POS, INV = TestOutcome.NEGATIVE, TestOutcome.POSITIVE, TestOutcome.INVALID


def lab(outcome: TestOutcome, sampled_hours_ago: float, reported_hours_later: float = 6) -> LabResult:
    sample = NOW - int(sampled_hours_ago * H)
    return LabResult(sample, sample + int(reported_hours_later * H), outcome, "51")


@pytest.mark.parametrize(("age_hours", "bucket"), [
    (0, "24h"), (24, "24h"), (24.01, "48h"), (48, "48h"), (49, "72h"), (72, "72h"), (73, "7d"), (168, "7d"),
    (168.01, None)])
def test_the_bucket_of_the_latest_negative_is_from_its_sample_time(age_hours, bucket):
    assert negative_within(NOW - int(age_hours * H), NOW) == bucket


def test_no_negative_no_bucket():
    assert negative_within(None, NOW) is None


def test_the_summary_counts_the_latest_known_negative_and_distinct_doses():
    results = [lab(NEG, 100), lab(NEG, 30), lab(POS, 20), lab(INV, 10), lab(NEG, 2, reported_hours_later=5)]
    # the 2-hour-old sample has no result yet (reported 3 hours from now): the 30-hour-old one is the latest
    assert summary(results, [1, 2, 2], NOW) == HealthSummary(NOW - 30 * H, 2)


def test_a_positive_is_red_from_its_sample_until_a_later_negative_result():
    positive = lab(POS, 48)
    reasons = positive_reasons([positive], [], NOW)
    assert [(r.code, r.color, r.since, r.until) for r in reasons] == [
        ("test_positive", Color.RED, NOW - 48 * H, NOW - 48 * H + 180 * 86400)]
    # a negative sampled before the positive lifts nothing
    assert positive_reasons([positive, lab(NEG, 60)], [], NOW) == reasons
    # a negative sampled after it lifts it once its result is known
    assert positive_reasons([positive, lab(NEG, 10)], [], NOW) == []
    pending = lab(NEG, 2, reported_hours_later=5)
    assert positive_reasons([positive, pending], [], NOW) == reasons   # its result is not known yet
    # unlifted, it lapses with the record's retention: 180 days after the sample
    assert positive_reasons([positive], [], NOW + 180 * 86400) == []


def test_a_health_authoritys_clearing_after_the_positive_lifts_it():
    positive = lab(POS, 48)
    cleared = StatusEntry(MedicalStatus.CLEARED, NOW - H, None, "51")
    assert positive_reasons([positive], [cleared], NOW) == []
    earlier = StatusEntry(MedicalStatus.RECOVERED, NOW - 50 * H, None, "national")
    assert len(positive_reasons([positive], [earlier], NOW)) == 1
    confirmed = StatusEntry(MedicalStatus.CONFIRMED, NOW - H, None, "51")   # not a lifting status
    assert len(positive_reasons([positive], [confirmed], NOW)) == 1


def test_an_invalid_result_changes_nothing():
    assert positive_reasons([lab(INV, 5)], [], NOW) == []
    assert assess(RiskInputs(lab_results=[lab(INV, 5)]), NOW) == {}


def test_assess_makes_a_positive_a_red_test_source():
    sources = assess(RiskInputs(lab_results=[lab(POS, 5)]), NOW)
    assert list(sources) == ["test"] and live_color(sources["test"], NOW) is Color.RED


def test_retention_keeps_positives_longer():
    assert result_expires_at(NEG, NOW) == NOW + 30 * 86400
    assert result_expires_at(POS, NOW) == NOW + 180 * 86400


def test_a_rule_names_each_unmet_requirement():
    rule = EntryRule((Color.GREEN,), 48, 2)
    fine = HealthSummary(NOW - 47 * H, 2)
    assert judge(rule, Color.GREEN, fine, NOW) == []
    unmet = judge(rule, Color.YELLOW, HealthSummary(NOW - 49 * H, 1), NOW)
    assert [u.code for u in unmet] == ["color_not_admitted", "negative_test_within_48h", "min_doses_2"]
    assert unmet[1].message == "无48小时内核酸检测阴性结果" and unmet[1].message_en == "No negative test within 48 h"
    assert [u.code for u in judge(rule, Color.GREEN, HealthSummary(None, 3), NOW)] == ["negative_test_within_48h"]
    # exactly 48 hours old is within 48 hours
    assert judge(rule, Color.GREEN, HealthSummary(NOW - 48 * H, 2), NOW) == []


def test_a_rule_is_named_by_its_content_and_survives_its_token_form():
    rule = EntryRule((Color.YELLOW, Color.GREEN), 24, None)
    assert rule.rule_id == EntryRule((Color.GREEN, Color.YELLOW), 24, None).rule_id
    assert rule.rule_id != EntryRule((Color.GREEN,), 24, None).rule_id
    back = EntryRule.from_claims(rule.claims())
    assert back.rule_id == rule.rule_id and back.canonical() == rule.canonical()


@pytest.mark.parametrize(("stored", "rule"), [
    ({"colors": ["green", "yellow"], "negative_test_within_hours": 48, "min_doses": 2},
     EntryRule((Color.GREEN, Color.YELLOW), 48, 2)),
    ({"colors": ["green"]}, EntryRule((Color.GREEN,), None, None)),
    ({"colors": ["yellow"], "min_doses": 3}, EntryRule((Color.YELLOW,), None, 3)),
    ({"colors": ["green"], "negative_test_within_hours": 24}, EntryRule((Color.GREEN,), 24, None)),
])
def test_a_stored_rule_reads_back_with_its_colors_test_and_doses(stored, rule):
    assert EntryRule.from_dict(stored) == rule
    assert EntryRule.from_dict(rule.canonical()).rule_id == rule.rule_id


def test_a_negative_whose_result_is_known_at_this_very_moment_counts_and_none_is_no_negative():
    sampled = NOW - 10 * H
    assert summary([LabResult(sampled, NOW, NEG)], [], NOW) == HealthSummary(sampled, 0)
    assert summary([LabResult(sampled, NOW + 1, NEG)], [], NOW) == HealthSummary(None, 0)
    assert summary([], [], NOW) == HealthSummary(None, 0)
    assert summary([lab(POS, 5), lab(INV, 4)], [7], NOW) == HealthSummary(None, 1)


# what each unmet requirement says, in both languages: a checkpoint shows it to the person at the gate, so it is
# pinned here once
@pytest.mark.parametrize(("rule", "color", "health", "unmet"), [
    (EntryRule((Color.GREEN, Color.YELLOW)), Color.RED, HealthSummary(None, 0),
     ("color_not_admitted", "健康码颜色不符合要求（需green/yellow）",
      "Code color red is not admitted (needs green/yellow)")),
    (EntryRule((Color.GREEN,)), Color.YELLOW, HealthSummary(None, 0),
     ("color_not_admitted", "健康码颜色不符合要求（需green）", "Code color yellow is not admitted (needs green)")),
    (EntryRule((Color.GREEN,), 24), Color.GREEN, HealthSummary(NOW - 24 * H - 1, 0),
     ("negative_test_within_24h", "无24小时内核酸检测阴性结果", "No negative test within 24 h")),
    (EntryRule((Color.GREEN,), None, 3), Color.GREEN, HealthSummary(None, 2),
     ("min_doses_3", "疫苗接种不足3剂", "Fewer than 3 vaccine doses")),
])
def test_each_unmet_requirement_says_what_the_rule_needs(rule, color, health, unmet):
    assert [(u.code, u.message, u.message_en) for u in judge(rule, color, health, NOW)] == [unmet]


def test_a_negative_known_at_this_very_moment_lifts_the_positive_now():
    positive = LabResult(NOW - 48 * H, NOW - 40 * H, POS)
    assert positive_reasons([positive, LabResult(NOW - 10 * H, NOW, NEG)], [], NOW) == []
    [still] = positive_reasons([positive, LabResult(NOW - 10 * H, NOW + 1, NEG)], [], NOW)
    assert still.until == NOW - 48 * H + 180 * 86400   # a result known a second from now lifts nothing yet


def test_a_negative_sampled_in_the_same_second_as_the_positive_does_not_lift_it():
    sampled = NOW - 48 * H
    [reason] = positive_reasons([LabResult(sampled, NOW - 40 * H, POS), LabResult(sampled, NOW - 40 * H, NEG)], [],
                                NOW)
    assert (reason.since, reason.until) == (sampled, sampled + 180 * 86400)


def test_a_positive_cleared_one_second_after_its_sample_is_red_for_that_second_only():
    sampled = NOW - 1
    positive = LabResult(sampled, sampled, POS)
    cleared = StatusEntry(MedicalStatus.CLEARED, NOW, None, "51")
    assert positive_reasons([positive], [cleared], NOW) == []
    [red] = positive_reasons([positive], [cleared], NOW - 1)
    assert (red.since, red.until) == (sampled, NOW)


def test_several_positives_give_one_reason_each_oldest_first():
    older, newer = LabResult(NOW - 72 * H, NOW - 70 * H, POS, "44"), LabResult(NOW - 24 * H, NOW - 20 * H, POS, "51")
    reasons = positive_reasons([newer, older], [], NOW)
    assert [(r.since, r.ref) for r in reasons] == [(NOW - 72 * H, "44"), (NOW - 24 * H, "51")]


def test_a_lifted_positive_does_not_hide_a_later_one_and_each_reason_is_the_whole_red():
    older, newer = LabResult(NOW - 72 * H, NOW - 70 * H, POS, "44"), LabResult(NOW - 24 * H, NOW - 20 * H, POS, "51")
    between = LabResult(NOW - 48 * H, NOW - 46 * H, NEG)                 # lifts the older one only
    # the whole reason, its wording included (the citizen reads it on their code): pinned here once
    assert positive_reasons([older, between, newer], [], NOW) == [
        Reason("test", "test_positive", Color.RED, "核酸检测结果阳性", "Positive nucleic-acid test", NOW - 24 * H,
               NOW - 24 * H + 180 * 86400, "51")]
