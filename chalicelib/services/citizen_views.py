"""The citizen's own views: the comprehensive risk prompt and the cities they have been to."""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.domain import days, divisions
from chalicelib.domain.areas import RiskLevel, governing_areas, level_now
from chalicelib.security import pseudonyms
from chalicelib.security.access import Principal
from chalicelib.services import codes
from chalicelib.store import areas, scans, visits

HEADLINES = {
    "green": ("绿码：未发现风险，凭码通行。", "Green: no risk found; show this code to pass."),
    "yellow": ("黄码：存在风险，请配合核酸检测和健康监测。",
               "Yellow: a risk was found; follow testing and monitoring advice."),
    "red": ("红码：请立即联系当地防疫部门并配合隔离。",
            "Red: contact local epidemic prevention staff now and follow isolation advice."),
}
SOURCE_NAMES = {"declaration": "健康申报", "medical_status": "卫生健康部门", "area": "行程/打卡地风险",
                "exposure": "同乘人员", "checkin": "健康打卡", "local_code": "省级健康码", "correction": "纠错"}


def risk_prompt(principal: Principal) -> dict[str, Any]:
    code = codes.mine(principal)
    headline, headline_en = HEADLINES[code["color"]]
    reasons = [{**r, "source_name": SOURCE_NAMES.get(r["source"], r["source"]),
                "since_iso": days.iso(r["since"]), "until_iso": days.iso(r["until"]) if r["until"] else None}
               for r in code["reasons"]]
    return {"color": code["color"], "headline": headline, "headline_en": headline_en, "reasons": reasons,
            "next_change_at": code["next_change_at"], "checked_at": clock.now()}


def cities(principal: Principal) -> dict[str, Any]:
    now = clock.now()
    person = principal.subject
    since = days.window_start(now)
    seen: dict[str, dict[str, Any]] = {}

    def note(area: str, day: str, source: str) -> None:
        entry = seen.setdefault(area, {"last_day": day, "sources": set()})
        entry["last_day"] = max(entry["last_day"], day)
        entry["sources"].add(source)

    for stay in visits.recent(person, since.isoformat(), now):
        note(stay.area, stay.day.isoformat(), stay.source)
    for row in scans.since(pseudonyms.code_id(person), days.start_of(since), now):
        if row.scan.area:
            note(row.scan.area, days.today(row.scan.at).isoformat(), "scan")
    found = areas.periods_of([g for area in seen for g in governing_areas(area)]) if seen else {}
    result = []
    for area, entry in sorted(seen.items(), key=lambda kv: kv[1]["last_day"], reverse=True):
        level, level_since = RiskLevel.LOW, None
        for governing in governing_areas(area):
            here, here_since = level_now(found.get(governing, ()), now)
            if here.rank > level.rank or (here is level and here_since and not level_since):
                level, level_since = here, here_since
        result.append({"area": area, "name": divisions.name_of(area), "level": level.value, "level_since": level_since,
                       "last_visited": entry["last_day"], "sources": sorted(entry["sources"])})
    return {"cities": result, "since": since.isoformat()}
