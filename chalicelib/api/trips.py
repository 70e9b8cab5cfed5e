"""14-day trip declaration and query; daily health check-ins (GB/T 38963: trip declaration)."""
from __future__ import annotations

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.fields import AreaCode, IsoDate
from chalicelib.api.http import body, ok, principal, query, raw_body, route
from chalicelib.domain import limits
from chalicelib.domain.declaration import Symptom
from chalicelib.domain.transport import NUMBERED, InvalidNumber, Mode, is_flight_seat, normalise
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import idempotency, throttle, trips

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


@route(bp, "/v1/trips", methods=["POST"])
def declare_trip():
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    trip = body(request, TripRequest)
    throttle.check(limits.TRIPS_PER_PERSON, caller.subject)
    outcome = idempotency.run(caller.subject, "trip", request.headers.get("idempotency-key"), raw_body(request),
                              lambda: (201, trips.declare(caller.subject, trip.date, trip.origin, trip.destination,
                                                          trip.mode, trip.number, trip.seat, trip.carriage)))
    return ok(outcome.body, outcome.status, {"Idempotent-Replayed": "true"} if outcome.replayed else None)


@route(bp, "/v1/trips", methods=["GET"])
def list_trips():
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    params = query(request, TripsQuery)
    return ok(trips.list_recent(caller.subject, params.limit, params.cursor))


@route(bp, "/v1/checkins", methods=["POST"])
def check_in():
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    checkin = body(request, CheckInRequest)
    throttle.check(limits.CHECKINS_PER_PERSON, caller.subject)
    return ok(trips.check_in(caller.subject, checkin.area, checkin.temperature,
                             [s.value for s in checkin.symptoms]), 201)
