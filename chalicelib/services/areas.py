"""Area risk levels: health authorities set them in their own province; anyone reads them."""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.domain import divisions
from chalicelib.domain.areas import RiskLevel, check_start, level_now, periods_that_matter
from chalicelib.errors import Forbidden, NotFound, ValidationFailed
from chalicelib.security.access import Principal
from chalicelib.services import area_levels
from chalicelib.services.versioned import versioned_update
from chalicelib.store import areas, events

MAX_HISTORY = 500


def check_code(code: str) -> None:
    if not divisions.is_division(code):
        raise NotFound(f"{code} is not a GB/T 2260 administrative division code.", code="unknown_area")


def describe(code: str, area: areas.Area | None, now: int) -> dict[str, Any]:
    periods = area.periods if area else ()
    level, since = level_now(periods, now)
    return {"code": code, "name": divisions.name_of(code), "level": level.value, "since": since,
            "history": [{"level": p.level.value, "from": p.start} for p in sorted(periods, key=lambda p: p.start)]}


def get(code: str) -> dict[str, Any]:
    check_code(code)
    return describe(code, areas.get(code), clock.now())


def start_of_change(effective_from: int | None, now: int) -> int:
    """When a level set now takes effect; a start outside the 14 days before now is refused (422) as PUT
    /v1/areas answers it. `ops areas seed` checks every row of a file with it before it writes any."""
    start = now if effective_from is None else effective_from
    try:
        check_start(start, now)
    except ValueError as exc:
        raise ValidationFailed("The request has invalid fields.", [{
            "field": "effective_from", "message": str(exc), "type": "date_window"}]) from None
    return start


def set_level(principal: Principal, code: str, level: RiskLevel, effective_from: int | None,
              note: str | None) -> dict[str, Any]:
    check_code(code)
    if principal.province != divisions.province_of(code):
        raise Forbidden("A health authority sets levels only inside its own province.", code="outside_province")
    now = clock.now()
    start = start_of_change(effective_from, now)
    setting = areas.Setting(level, start, principal.subject, now, note)

    def change(current: areas.Area | None) -> areas.Area:
        settings = sorted([*(current.settings if current else ()), setting], key=lambda s: (s.start, s.set_at))
        return areas.Area(code, tuple(settings[-MAX_HISTORY:]), (current.version + 1) if current else 1, now)

    def save(current: areas.Area | None, area: areas.Area) -> areas.Area:
        previous, _since = level_now(current.periods if current else (), now)
        event = events.put_op("area.level_changed", {"area": code, "level": level.value, "previous": previous.value,
                                                      "effective_from": start, "set_by": principal.subject}, now)
        areas.save(area, current.version if current else None, periods_that_matter(area.periods, now), event)
        return area

    area = versioned_update(lambda: areas.get(code), change, save, "The area")
    area_levels.forget()
    return describe(code, area, now)


def rebuild_summaries() -> int:
    """Write each area's entry in its province's summary from its own periods; returns how many areas.

    Ops, once, for tables written before the summaries existed (docs/deploy.md); safe to repeat."""
    now = clock.now()
    found = areas.every_area()
    for area in found:
        areas.rewrite_summary(area.code, periods_that_matter(area.periods, now), now)
    area_levels.forget()
    return len(found)
