"""Area risk levels over time, and what a stay in a risky area does to a code."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from chalicelib.domain import days, divisions
from chalicelib.domain.colors import Color, Reason


class RiskLevel(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {"low": 0, "medium": 1, "high": 2}[self.value]


# A level takes effect from now, or from up to 14 days back (as far back as a stay can still count), never later
BACKDATE_SECONDS = days.WINDOW_DAYS * days.DAY


def check_start(start: int, now: int) -> None:
    """Raises ValueError unless a level set `now` may take effect from `start`."""
    if start > now or start < now - BACKDATE_SECONDS:
        raise ValueError("must be between 14 days ago and now")


@dataclass(frozen=True)
class LevelPeriod:
    level: RiskLevel
    start: int          # in force from here until the next period starts


@dataclass(frozen=True)
class Visit:
    day: dt.date
    area: str
    source: str         # trip or checkin


def governing_areas(area: str) -> list[str]:
    """A county's level and its prefecture's level both apply to a stay in the county."""
    city = area[:4] + "00"
    return [area] if area == city else [area, city]


def risky_since(periods: Sequence[LevelPeriod], start: int, end: int) -> tuple[RiskLevel, int | None]:
    """The highest level in force at any time in [start, end], and the first moment it was medium or high."""
    ordered = sorted(periods, key=lambda p: p.start)
    worst, first_risky = RiskLevel.LOW, None
    for i, period in enumerate(ordered):
        period_end = ordered[i + 1].start if i + 1 < len(ordered) else None
        if period.start > end or (period_end is not None and period_end <= start):
            continue
        if period_end is not None and period_end <= period.start:
            continue  # replaced by a later setting with the same start: never in force
        if period.level.rank > worst.rank:
            worst = period.level
        if period.level is not RiskLevel.LOW:
            moment = max(period.start, start)
            first_risky = moment if first_risky is None else min(first_risky, moment)
    return worst, first_risky


# A stay counts for 14 days after its day, so the oldest stay a read can judge began at most 15 days
# before it; a period that ended before then can no longer decide anything. One more day is a margin
# (tests/test_rules_properties.py fails at 11 days, and passes from 15).
MATTERS_FOR = (days.WINDOW_DAYS + 2) * days.DAY


def periods_that_matter(periods: Sequence[LevelPeriod], now: int) -> list[LevelPeriod]:
    """The periods that can still decide a stay's reason at `now` or later: those that started within
    MATTERS_FOR, and the one in force before them. None at all when every one of them is low."""
    cutoff = now - MATTERS_FOR
    ordered = sorted(periods, key=lambda p: p.start)   # stable: settings with the same start keep their order
    earlier = [p for p in ordered if p.start < cutoff]
    kept = earlier[-1:] + [p for p in ordered if p.start >= cutoff]
    return kept if any(p.level is not RiskLevel.LOW for p in kept) else []


def level_now(periods: Sequence[LevelPeriod], now: int) -> tuple[RiskLevel, int | None]:
    """The level in force now and since when (None: never set, i.e. low)."""
    current = [p for p in periods if p.start <= now]
    if not current:
        return RiskLevel.LOW, None
    # of settings with the same start the last one made counts (periods are kept in the order set)
    latest = max(enumerate(current), key=lambda ip: (ip[1].start, ip[0]))[1]
    return latest.level, latest.start


def visit_reasons(visits: Iterable[Visit], levels: Mapping[str, Sequence[LevelPeriod]], has_fever: bool,
                  now: int) -> list[Reason]:
    """A stay counts if its area (or prefecture) was medium or high at any time from the stay until now,
    for 14 days after the stay: medium or high -> yellow; high with fever -> red.

    Every stay in the window counts on its own (a later stay in the same area, after its level fell, does not
    undo an earlier one). Per area the reason of the worst stay is kept, and beside it the reason of a milder
    stay that lasts longer, so the color stays right when the worse one lapses."""
    found: dict[str, list[tuple[RiskLevel, int, int]]] = {}
    for visit in visits:
        if visit.day < days.window_start(now):
            continue
        start = days.start_of(visit.day)
        worst, since = RiskLevel.LOW, None
        for governing in governing_areas(visit.area):
            level, first = risky_since(levels.get(governing, ()), start, now)
            if level.rank > worst.rank:
                worst = level
            if first is not None:
                since = first if since is None else min(since, first)
        if worst is RiskLevel.LOW or since is None:
            continue
        found.setdefault(visit.area, []).append((worst, since, days.lapses_at(visit.day)))
    reasons = []
    for area, stays in sorted(found.items()):
        worst_stay = max(stays, key=lambda s: (s[0].rank, s[2], -s[1]))
        kept = [worst_stay]
        longer = [s for s in stays if s[2] > worst_stay[2]]
        if longer:
            kept.append(max(longer, key=lambda s: (s[2], s[0].rank, -s[1])))
        name = divisions.name_of(area) or area
        for stay_level, stay_since, until in kept:
            if stay_level is RiskLevel.HIGH and has_fever:
                reasons.append(Reason("area", "high_risk_stay_with_fever", Color.RED,
                                      f"14天内到过高风险地区（{name}）且有发热",
                                      f"Stay in a high-risk area ({area}) within 14 days with fever", stay_since,
                                      until, area))
            else:
                label_zh, label_en = ("高", "high") if stay_level is RiskLevel.HIGH else ("中", "medium")
                reasons.append(Reason("area", f"{label_en}_risk_stay", Color.YELLOW,
                                      f"14天内到过{label_zh}风险地区（{name}）",
                                      f"Stay in a {label_en}-risk area ({area}) within 14 days", stay_since,
                                      until, area))
    return reasons
