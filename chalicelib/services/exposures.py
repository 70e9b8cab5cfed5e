"""Flights and trains that carried cases: published by health authorities, queried by anyone."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.domain.exposures import CaseType, Exposure, voyage
from chalicelib.domain.transport import Mode, candidates
from chalicelib.errors import ValidationFailed
from chalicelib.security.access import Principal
from chalicelib.store import events, exposures

PUBLISH_WINDOW_DAYS = 30


def public_exposure(exposure: Exposure) -> dict[str, Any]:
    return {"exposure_id": exposure.exposure_id, "mode": exposure.mode.value, "number": exposure.number,
            "date": exposure.day.isoformat(), "case_type": exposure.case_type.value, "inbound": exposure.inbound,
            "carriages": list(exposure.carriages),
            "rows": {"from": exposure.rows[0], "to": exposure.rows[1]} if exposure.rows else None,
            "published_at": exposure.published_at}


def publish(principal: Principal, mode: Mode, number: str, day: dt.date, case_type: CaseType, inbound: bool,
            carriages: list[int], rows: dict[str, int] | None, note: str | None) -> dict[str, Any]:
    now = clock.now()
    if day > days.today(now) or day < days.today(now) - dt.timedelta(days=PUBLISH_WINDOW_DAYS):
        raise ValidationFailed("The request has invalid fields.", [{
            "field": "date", "message": f"must be within the last {PUBLISH_WINDOW_DAYS} days", "type": "date_window"}])
    exposure = Exposure("exp_" + secrets.token_hex(6), mode, number, day, case_type, inbound, now, tuple(carriages),
                        (rows["from"], rows["to"]) if rows else None, principal.province)
    published = public_exposure(exposure)
    exposures.publish(exposure, note, principal.subject, days.start_of(day) + 60 * days.DAY,
                      events.put_op("exposure.published", {"voyage": voyage(number, day), **published}, now))
    return published


def query(raw_number: str, day: dt.date) -> dict[str, Any]:
    found = []
    meanings = candidates(raw_number)
    for mode, number in meanings:
        found += [public_exposure(e) for e in exposures.on(voyage(number, day)) if e.mode is mode]
    return {"number": meanings[0][1] if meanings else raw_number.replace(" ", "").upper(), "date": day.isoformat(),
            "affected": bool(found), "exposures": found}
