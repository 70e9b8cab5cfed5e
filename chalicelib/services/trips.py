"""14-day trip declaration and query, and daily health check-ins."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.domain.exposures import voyage
from chalicelib.domain.transport import NUMBERED, Mode
from chalicelib.errors import ValidationFailed
from chalicelib.services import assessment, cursors
from chalicelib.store import checkins, trips

RETENTION_DAYS = 30     # kept a little past the 14-day window so a late exposure still finds the trip


def _stay(person: str, day: dt.date, area: str, source: str, ref: str, now: int) -> dict[str, Any]:
    return {"pk": person, "sk": f"{day.isoformat()}#{source}#{ref}", "day": day.isoformat(), "area": area,
            "city": area[:4] + "00", "day_person": f"{day.isoformat()}#{person}", "source": source,
            "expires_at": days.start_of(day) + RETENTION_DAYS * days.DAY, "created_at": now}


def check_window(day: dt.date, now: int, field: str) -> None:
    if day > days.today(now):
        raise ValidationFailed("The request has invalid fields.",
                               [{"field": field, "message": "must not be in the future", "type": "date_window"}])
    if day < days.window_start(now):
        raise ValidationFailed("The request has invalid fields.",
                               [{"field": field, "message": "must be within the last 14 days", "type": "date_window"}])


def declare(person: str, day: dt.date, origin: str, destination: str, mode: Mode, number: str | None,
            seat: str | None, carriage: int | None) -> dict[str, Any]:
    now = clock.now()
    check_window(day, now, "date")
    trip_id = "trp_" + secrets.token_hex(6)
    trip = {"pk": person, "sk": f"{day.isoformat()}#{trip_id}", "trip_id": trip_id, "date": day.isoformat(),
            "from": origin, "to": destination, "mode": mode.value, "number": number, "seat": seat,
            "carriage": carriage, "created_at": now, "expires_at": days.start_of(day) + RETENTION_DAYS * days.DAY}
    if mode in NUMBERED and number:
        trip["voyage"] = voyage(number, day)
    stays = [_stay(person, day, origin, "trip", f"{trip_id}#from", now),
             _stay(person, day, destination, "trip", f"{trip_id}#to", now)]
    trips.declare(trip, stays)
    assessment.refresh(person, now, "trip", actor="citizen")
    return public_trip(trip)


def public_trip(item: dict[str, Any]) -> dict[str, Any]:
    return {"trip_id": item["trip_id"], "date": item["date"], "from": item["from"], "to": item["to"],
            "mode": item["mode"], "number": item.get("number"), "seat": item.get("seat"),
            "carriage": item.get("carriage"), "declared_at": item["created_at"]}


def list_recent(person: str, limit: int, cursor: str | None) -> dict[str, Any]:
    now = clock.now()
    start = cursors.decode(cursor, person, trips.SORT_KEY)
    since = days.window_start(now).isoformat()
    if start is not None and start["sk"] < since:
        # the window moved past the cursor since it was given: the rest of the list has aged out (and
        # DynamoDB refuses a start key outside the key condition)
        return {"trips": [], "next_cursor": None}
    items, last = trips.page(person, since, now, limit, start)
    return {"trips": [public_trip(i) for i in items], "next_cursor": cursors.encode(last)}


def check_in(person: str, area: str, temperature: float, symptoms: list[str]) -> dict[str, Any]:
    now = clock.now()
    day = days.today(now)
    checkin = {"pk": person, "sk": day.isoformat(), "area": area, "temperature": temperature,
               "symptoms": symptoms, "at": now, "expires_at": days.start_of(day) + RETENTION_DAYS * days.DAY}
    # one stay per day for check-ins: a second check-in that day moves it rather than adding one
    checkins.record(checkin, _stay(person, day, area, "checkin", "day", now))
    assessment.refresh(person, now, "checkin", actor="citizen")
    return {"date": day.isoformat(), "area": area, "temperature": temperature, "symptoms": symptoms, "at": now}
