"""Flights and trains that carried cases: published by health authorities, queried by anyone."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.domain.exposures import CaseType, voyage
from chalicelib.domain.transport import Mode, candidates
from chalicelib.errors import ValidationFailed
from chalicelib.security.access import Principal
from chalicelib.store import events, exposures

PUBLISH_WINDOW_DAYS = 30


def public_exposure(item: dict[str, Any]) -> dict[str, Any]:
    return {"exposure_id": item["exposure_id"], "mode": item["mode"], "number": item["number"], "date": item["date"],
            "case_type": item["case_type"], "inbound": item.get("inbound", False),
            "carriages": item.get("carriages") or [], "rows": item.get("rows"), "published_at": item["published_at"]}


def publish(principal: Principal, mode: Mode, number: str, day: dt.date, case_type: CaseType, inbound: bool,
            carriages: list[int], rows: dict[str, int] | None, note: str | None) -> dict[str, Any]:
    now = clock.now()
    if day > days.today(now) or day < days.today(now) - dt.timedelta(days=PUBLISH_WINDOW_DAYS):
        raise ValidationFailed("The request has invalid fields.", [{
            "field": "date", "message": f"must be within the last {PUBLISH_WINDOW_DAYS} days", "type": "date_window"}])
    exposure_id = "exp_" + secrets.token_hex(6)
    key = voyage(number, day)
    item = {"pk": key, "sk": f"{mode.value}#{exposure_id}", "exposure_id": exposure_id, "mode": mode.value,
            "number": number, "date": day.isoformat(), "case_type": case_type.value, "inbound": inbound,
            "carriages": carriages, "rows": rows, "note": note, "published_by": principal.subject,
            "province": principal.province, "published_at": now,
            "expires_at": days.start_of(day) + 60 * days.DAY}
    exposures.publish(item, events.put_op("exposure.published", {"voyage": key, **public_exposure(item)}, now))
    return public_exposure(item)


def query(raw_number: str, day: dt.date) -> dict[str, Any]:
    found = []
    meanings = candidates(raw_number)
    for mode, number in meanings:
        found += [public_exposure(e) for e in exposures.on(voyage(number, day)) if e["mode"] == mode.value]
    return {"number": meanings[0][1] if meanings else raw_number.replace(" ", "").upper(), "date": day.isoformat(),
            "affected": bool(found), "exposures": found}
