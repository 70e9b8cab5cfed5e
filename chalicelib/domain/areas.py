"""Area risk levels over time, and what a stay in a risky area does to a code."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Mapping, Sequence

from chalicelib.domain import days, divisions
from chalicelib.domain.colors import Color, Reason


class RiskLevel(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {"low": 0, "medium": 1, "high": 2}[self.value]


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
        if period.level.rank > worst.rank:
            worst = period.level
        if period.level is not RiskLevel.LOW:
            moment = max(period.start, start)
            first_risky = moment if first_risky is None else min(first_risky, moment)
    return worst, first_risky


def level_now(periods: Sequence[LevelPeriod], now: int) -> tuple[RiskLevel, int | None]:
    """The level in force now and since when (None: never set, i.e. low)."""
    current = [p for p in periods if p.start <= now]
    if not current:
        return RiskLevel.LOW, None
    latest = max(current, key=lambda p: p.start)
    return latest.level, latest.start


def visit_reasons(visits: Iterable[Visit], levels: Mapping[str, Sequence[LevelPeriod]], has_fever: bool,
                  now: int) -> list[Reason]:
    """A stay counts if its area (or prefecture) was medium or high at any time from the stay until now,
    for 14 days after the stay: medium or high -> yellow; high with fever -> red. One reason per area."""
    latest: dict[str, Visit] = {}
    for visit in visits:
        if visit.day >= days.window_start(now) and (visit.area not in latest or visit.day > latest[visit.area].day):
            latest[visit.area] = visit
    reasons = []
    for area, visit in sorted(latest.items()):
        start = days.start_of(visit.day)
        worst, since = RiskLevel.LOW, None
        for governing in governing_areas(area):
            level, first = risky_since(levels.get(governing, ()), start, now)
            if level.rank > worst.rank:
                worst = level
            if first is not None:
                since = first if since is None else min(since, first)
        if worst is RiskLevel.LOW or since is None:
            continue
        name = divisions.name_of(area) or area
        until = days.lapses_at(visit.day)
        if worst is RiskLevel.HIGH and has_fever:
            reasons.append(Reason("area", "high_risk_stay_with_fever", Color.RED,
                                  f"14天内到过高风险地区（{name}）且有发热", f"Stay in a high-risk area ({area}) within 14 days with fever",
                                  since, until))
        else:
            label_zh, label_en = ("高", "high") if worst is RiskLevel.HIGH else ("中", "medium")
            reasons.append(Reason("area", f"{label_en}_risk_stay", Color.YELLOW,
                                  f"14天内到过{label_zh}风险地区（{name}）", f"Stay in a {label_en}-risk area ({area}) within 14 days",
                                  since, until))
    return reasons
