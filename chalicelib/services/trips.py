"""14-day trip declaration and query, and daily health check-ins."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.domain.risk import CheckIn
from chalicelib.domain.transport import Mode
from chalicelib.errors import ValidationFailed
from chalicelib.services import assessment, cursors
from chalicelib.store import checkins, trips, visits

RETENTION_DAYS = 30     # kept a little past the 14-day window so a late exposure still finds the trip


def _stay(person: str, day: dt.date, area: str, source: str, ref: str, now: int) -> visits.Stay:
    return visits.Stay(person, day, area, source, ref, now, _expires(day))


def _expires(day: dt.date) -> int:
    return days.start_of(day) + RETENTION_DAYS * days.DAY


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
    trip = trips.DeclaredTrip(person, "trp_" + secrets.token_hex(6), day, origin, destination, mode, number, seat,
                              carriage, now, _expires(day))
    stays = [_stay(person, day, origin, "trip", f"{trip.trip_id}#from", now),
             _stay(person, day, destination, "trip", f"{trip.trip_id}#to", now)]
    trips.declare(trip, stays)
    assessment.refresh(person, now, "trip", actor="citizen")
    return public_trip(trip)


def public_trip(trip: trips.DeclaredTrip) -> dict[str, Any]:
    return {"trip_id": trip.trip_id, "date": trip.day.isoformat(), "from": trip.origin, "to": trip.destination,
            "mode": trip.mode.value, "number": trip.number, "seat": trip.seat, "carriage": trip.carriage,
            "declared_at": trip.created_at}


def list_recent(person: str, limit: int, cursor: str | None) -> dict[str, Any]:
    now = clock.now()
    found, last = trips.page(person, days.window_start(now).isoformat(), now, limit,
                             cursors.decode(cursor, trips.pages(person)))
    return {"trips": [public_trip(t) for t in found], "next_cursor": cursors.encode(last)}


def check_in(person: str, area: str, temperature: float, symptoms: list[str]) -> dict[str, Any]:
    now = clock.now()
    day = days.today(now)
    # one stay per day for check-ins: a second check-in that day moves it rather than adding one
    checkins.record(person, CheckIn(day, area, temperature, tuple(symptoms), now),
                    _stay(person, day, area, "checkin", "day", now), _expires(day))
    assessment.refresh(person, now, "checkin", actor="citizen")
    return {"date": day.isoformat(), "area": area, "temperature": temperature, "symptoms": symptoms, "at": now}
