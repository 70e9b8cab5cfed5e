"""What a code carries so that every read joins it with the area levels in force now.

An area level concerns everyone who stayed in the area, which in a big city is millions of people.
If a level change had to rewrite each of their codes before it counted, the color a checkpoint
reads would lag the change by the time of that fan-out. Instead each code keeps its own stays in
the window (areas and days only, a few hundred bytes), the moment its holder's fever stops
counting, and any approved correction of the area source; every read joins these with the levels
cached in its container (services/area_levels.py). A level change is then one write, seen by every
read within the cache's age, however many people stayed there.

The result is the area source of `risk.assess` for the same stays (tests/test_rules_properties.py
checks it), so the stored assessment and a read never disagree once both see the same levels.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from chalicelib.domain import days
from chalicelib.domain.areas import LevelPeriod, Visit, governing_areas, visit_reasons
from chalicelib.domain.colors import Reason
from chalicelib.domain.corrections import Override, apply_overrides

SOURCE = "area"


@dataclass(frozen=True)
class StayFacts:
    stays: str = ""                     # encode_stays(): "440106:20261129,20261130;510104:20261130"
    fever_until: int | None = None      # fever (declared or checked in) counts until this moment, exclusive
    overrides: tuple[Override, ...] = ()   # approved corrections of the area source


def encode_stays(visits: Iterable[Visit], now: int) -> str:
    """The distinct (area, day) pairs inside the window at `now`, grouped by area, in one short string.

    A person with a check-in and a trip every day of the window keeps about 45 pairs: under 400 bytes."""
    first = days.window_start(now)
    by_area: dict[str, set[dt.date]] = {}
    for visit in visits:
        if visit.day >= first:
            by_area.setdefault(visit.area, set()).add(visit.day)
    return ";".join(f"{area}:{','.join(day.strftime('%Y%m%d') for day in sorted(found))}"
                    for area, found in sorted(by_area.items()))


def decode_stays(text: str) -> list[Visit]:
    visits = []
    for group in filter(None, text.split(";")):
        area, _, dates = group.partition(":")
        for day in dates.split(","):
            visits.append(Visit(dt.date(int(day[:4]), int(day[4:6]), int(day[6:8])), area, SOURCE))
    return visits


def stayed_in_any(text: str, areas: Mapping[str, object]) -> bool:
    """Whether a stay's area or its prefecture is among `areas`: most reads stop here, as most areas are low."""
    for group in filter(None, text.split(";")):
        area = group[:6]
        if area in areas or area[:4] + "00" in areas:
            return True
    return False


def area_reasons(facts: StayFacts, levels: Mapping[str, Sequence[LevelPeriod]], now: int) -> list[Reason]:
    """The area source at `now`: the stays judged against `levels` (areas absent are low), then corrected."""
    if not facts.stays or not stayed_in_any(facts.stays, levels):
        return []
    visits = decode_stays(facts.stays)
    needed = {code for visit in visits for code in governing_areas(visit.area)}
    found = {code: levels[code] for code in needed if code in levels}
    fever = facts.fever_until is not None and now < facts.fever_until
    reasons = visit_reasons(visits, found, fever, now)
    if facts.overrides and reasons:
        return apply_overrides({SOURCE: reasons}, facts.overrides).get(SOURCE, [])
    return reasons


def live_reasons_of(stored: Mapping[str, Iterable[Reason]], facts: StayFacts,
                    levels: Mapping[str, Sequence[LevelPeriod]], now: int) -> list[Reason]:
    """Every reason of a code as of now: what its last assessment stored for each source, with the area
    source judged afresh against today's levels."""
    reasons = [r for source, items in stored.items() if source != SOURCE for r in items]
    return reasons + area_reasons(facts, levels, now)
