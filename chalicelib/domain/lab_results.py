"""Nucleic-acid tests and vaccinations: the red a positive result imposes, the health summary a code carries (its
type in domain/health_summary.py), and the entry rules checkpoints apply (docs/tests-and-vaccinations.md).

Pure: the service layer reads the records, these functions decide.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.health_summary import HealthSummary as HealthSummary  # the summary the rules read and make
from chalicelib.domain.medical import LIFTING, StatusEntry

SOURCE = "test"
HOUR = 3600
DAY = 86400
# retention (the records' TTL, docs/tests-and-vaccinations.md): a negative or invalid result 30 days after its
# sample (the longest bucket is 7 days, a rule's window at most 7 days); a positive 180 days, as long as it may
# keep a code red; a vaccination 3 years after its date, the emergency's duration capped
TEST_RETENTION_DAYS = 30
POSITIVE_RETENTION_DAYS = 180
VACCINATION_RETENTION_DAYS = 3 * 365
# the buckets of the latest negative test a code shows, by the age of its sample: (label, hours)
BUCKETS = (("24h", 24), ("48h", 48), ("72h", 72), ("7d", 168))
BADGES = {"24h": "24小时内阴性", "48h": "48小时内阴性", "72h": "72小时内阴性", "7d": "7天内阴性"}


class TestOutcome(str, Enum):
    __test__ = False  # not a pytest class, whatever its name
    NEGATIVE = "negative"
    POSITIVE = "positive"
    INVALID = "invalid"


class TestType(str, Enum):
    __test__ = False
    PCR = "pcr"
    ANTIGEN = "antigen"


@dataclass(frozen=True)
class LabResult:
    """What the rules need of a test result: when the sample was taken, when the result was known, the result."""
    sample_time: int
    result_time: int
    result: TestOutcome
    ref: str | None = None   # who pushed it: a province's code, or a lab's client id


def result_expires_at(result: TestOutcome, sample_time: int) -> int:
    days = POSITIVE_RETENTION_DAYS if result is TestOutcome.POSITIVE else TEST_RETENTION_DAYS
    return sample_time + days * DAY


def positive_reasons(results: Iterable[LabResult], statuses: Sequence[StatusEntry], now: int) -> list[Reason]:
    """A positive result is red from its sample time until lifted: by a negative result whose sample was taken
    after the positive's (from that result's time), or by any health authority's `recovered` or `cleared`
    status set after the positive's sample (from the status's time); unlifted, it lapses when the record's retention
    ends (POSITIVE_RETENTION_DAYS). Invalid results change nothing.

    One reason per positive not lifted by now."""
    known = [r for r in results if r.result_time <= now or r.result is TestOutcome.POSITIVE]
    lifts = [(r.sample_time, r.result_time) for r in known if r.result is TestOutcome.NEGATIVE]
    lifts += [(s.at, s.at) for s in statuses if s.status in LIFTING]
    reasons = []
    for positive in sorted((r for r in known if r.result is TestOutcome.POSITIVE), key=lambda r: r.sample_time):
        since = positive.sample_time
        # lifted, or else it lapses with the record itself (its retention), so the sweeper recomputes the code then
        lapses = result_expires_at(TestOutcome.POSITIVE, since)
        until = min((at for taken, at in lifts if taken > since), default=lapses)
        until = max(until, since + 1)   # a reason lives for at least a second: never an empty window
        if until <= now:
            continue
        reasons.append(Reason(SOURCE, "test_positive", Color.RED, "核酸检测结果阳性", "Positive nucleic-acid test",
                              since, until, positive.ref))
    return reasons


def summary(results: Iterable[LabResult], doses: Iterable[int], now: int) -> HealthSummary:
    """The latest negative sample whose result is known by now, and the number of distinct doses recorded."""
    negatives = [r.sample_time for r in results if r.result is TestOutcome.NEGATIVE and r.result_time <= now]
    return HealthSummary(max(negatives, default=None), len(set(doses)))


def negative_within(negative_at: int | None, now: int) -> str | None:
    """The smallest bucket holding the latest negative's sample age ("24h" … "7d"), None past 7 days or without
    one. A sample taken exactly 48 hours ago is within 48 hours."""
    if negative_at is None:
        return None
    age = max(0, now - negative_at)
    return next((label for label, hours in BUCKETS if age <= hours * HOUR), None)


@dataclass(frozen=True)
class EntryRule:
    """A checkpoint's entry rule: the colors it admits, and optionally a negative test within so many hours of
    its sample and a least number of doses."""
    colors: tuple[Color, ...] = (Color.GREEN,)
    negative_test_within_hours: int | None = None
    min_doses: int | None = None

    def canonical(self) -> dict[str, Any]:
        return {"colors": sorted(c.value for c in self.colors),
                "negative_test_within_hours": self.negative_test_within_hours, "min_doses": self.min_doses}

    @property
    def rule_id(self) -> str:
        """Named by its content: the same rule on two checkpoints is one rule of the published set."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return "er_" + hashlib.sha256(text.encode()).hexdigest()[:12]

    def claims(self) -> dict[str, Any]:
        """The compact form a checkpoint's access token carries."""
        compact: dict[str, Any] = {"c": sorted(c.value for c in self.colors)}
        if self.negative_test_within_hours is not None:
            compact["t"] = self.negative_test_within_hours
        if self.min_doses is not None:
            compact["d"] = self.min_doses
        return compact

    @classmethod
    def from_claims(cls, compact: dict[str, Any]) -> EntryRule:
        return cls(tuple(Color(c) for c in compact["c"]), compact.get("t"), compact.get("d"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntryRule:
        return cls(tuple(Color(c) for c in data["colors"]), data.get("negative_test_within_hours"),
                   data.get("min_doses"))


@dataclass(frozen=True)
class Unmet:
    code: str
    message: str
    message_en: str


def judge(rule: EntryRule, color: Color, health: HealthSummary, now: int) -> list[Unmet]:
    """The requirements of `rule` the holder does not meet now; empty: admit."""
    unmet = []
    if color not in rule.colors:
        allowed = "/".join(c.value for c in rule.colors)
        unmet.append(Unmet("color_not_admitted", f"健康码颜色不符合要求（需{allowed}）",
                           f"Code color {color.value} is not admitted (needs {allowed})"))
    hours = rule.negative_test_within_hours
    if hours is not None and (health.negative_at is None or max(0, now - health.negative_at) > hours * HOUR):
        unmet.append(Unmet(f"negative_test_within_{hours}h", f"无{hours}小时内核酸检测阴性结果",
                           f"No negative test within {hours} h"))
    if rule.min_doses is not None and health.doses < rule.min_doses:
        unmet.append(Unmet(f"min_doses_{rule.min_doses}", f"疫苗接种不足{rule.min_doses}剂",
                           f"Fewer than {rule.min_doses} vaccine doses"))
    return unmet
