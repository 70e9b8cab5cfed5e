"""14-day trip declaration and query; daily health check-ins (GB/T 38963: trip declaration)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib import errors
from chalicelib.api.fields import AreaCode, IsoDate
from chalicelib.api.routes import route
from chalicelib.domain import limits
from chalicelib.domain.declaration import Symptom
from chalicelib.domain.transport import NUMBERED, InvalidNumber, Mode, is_flight_seat, normalise
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import trips

bp = Blueprint(__name__)


class TripRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    date: IsoDate
    origin: AreaCode = Field(alias="from")
    destination: AreaCode = Field(alias="to")
    mode: Mode
    number: str | None = Field(default=None, max_length=12, description="Flight or train number, e.g. CA1234, G1234")
    seat: str | None = Field(default=None, max_length=8, description="Flight seat such as 32A, or a train seat")
    carriage: int | None = Field(default=None, ge=1, le=30, description="Train carriage")

    @model_validator(mode="after")
    def _numbers(self) -> TripRequest:
        if self.mode in NUMBERED:
            if not self.number:
                raise ValueError(f"number: required for a {self.mode.value}")
            try:
                self.number = normalise(self.mode, self.number)
            except InvalidNumber as exc:
                raise ValueError(f"number: {exc}") from None
        else:
            for name in ("number", "seat", "carriage"):
                if getattr(self, name):
                    raise ValueError(f"{name}: only flights and trains have one")
        if self.mode is Mode.FLIGHT and self.carriage is not None:
            raise ValueError("carriage: only trains have carriages")
        if self.mode is Mode.FLIGHT and self.seat and not is_flight_seat(self.seat):
            raise ValueError("seat: a flight seat is a row and a letter, e.g. 32A")
        return self


class TripsQuery(Model):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


class CheckInRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    area: AreaCode
    temperature: float = Field(ge=34.0, le=43.0)
    symptoms: list[Symptom] = Field(default_factory=list, max_length=7)


@route(bp, "/v1/trips", methods=["POST"], roles=[Role.CITIZEN], body=TripRequest, responds={201: "Trip"},
       idempotent="trip", limits=[limits.TRIPS_PER_PERSON], errors=[errors.CONCURRENT_UPDATE],
       tags=["trip declaration"], acting_for=True,
       example={"date": "2026-01-15", "from": "440106", "to": "510104", "mode": "train", "number": "G1234",
                "carriage": 5, "seat": "12F"})
def declare_trip(caller: Principal, body: TripRequest) -> dict[str, Any]:
    """Declare a trip of the last 14 days"""
    return trips.declare(caller.subject, body.date, body.origin, body.destination, body.mode, body.number, body.seat,
                         body.carriage)


@route(bp, "/v1/trips", methods=["GET"], roles=[Role.CITIZEN], query=TripsQuery, responds={200: "TripPage"},
       tags=["trip declaration"], acting_for=True)
def list_trips(caller: Principal, query: TripsQuery) -> dict[str, Any]:
    """My trips of the last 14 days, newest first"""
    return trips.list_recent(caller.subject, query.limit, query.cursor)


@route(bp, "/v1/checkins", methods=["POST"], roles=[Role.CITIZEN], body=CheckInRequest, responds={201: "CheckIn"},
       limits=[limits.CHECKINS_PER_PERSON], errors=[errors.CONCURRENT_UPDATE], tags=["health declaration"],
       acting_for=True, example={"area": "440106", "temperature": 36.6, "symptoms": []})
def check_in(caller: Principal, body: CheckInRequest) -> dict[str, Any]:
    """Daily health check-in"""
    return trips.check_in(caller.subject, body.area, body.temperature, [s.value for s in body.symptoms])
