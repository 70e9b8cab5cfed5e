"""Flights and trains with cases: health authorities publish, anyone asks (co-passenger query)."""
from __future__ import annotations

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.fields import IsoDate, Note
from chalicelib.api.http import body, ok, principal, query, route, source_address
from chalicelib.domain import limits
from chalicelib.domain.exposures import CaseType
from chalicelib.domain.transport import InvalidNumber, Mode, candidates, normalise
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import exposures, throttle

bp = Blueprint(__name__)


class SeatRows(Model):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    first: int = Field(alias="from", ge=1, le=99)
    last: int = Field(alias="to", ge=1, le=99)

    @model_validator(mode="after")
    def _ordered(self) -> SeatRows:
        if self.first > self.last:
            raise ValueError("from must not be after to")
        return self


class ExposureRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    mode: Mode
    number: str = Field(min_length=2, max_length=12)
    date: IsoDate
    case_type: CaseType
    inbound: bool = False
    carriages: list[int] = Field(default_factory=list, max_length=30)
    rows: SeatRows | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _shape(self) -> ExposureRequest:
        if self.mode not in (Mode.FLIGHT, Mode.TRAIN):
            raise ValueError("mode: exposures are published for flights and trains")
        try:
            self.number = normalise(self.mode, self.number)
        except InvalidNumber as exc:
            raise ValueError(f"number: {exc}") from None
        if self.mode is Mode.FLIGHT and self.carriages:
            raise ValueError("carriages: only trains have carriages")
        if self.mode is Mode.TRAIN and self.rows:
            raise ValueError("rows: only flights have seat rows")
        if any(not 1 <= c <= 30 for c in self.carriages):
            raise ValueError("carriages: numbered 1-30")
        return self


class CoPassengerQuery(Model):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=2, max_length=16)
    date: IsoDate

    @model_validator(mode="after")
    def _known_shape(self) -> CoPassengerQuery:
        if not candidates(self.number):
            raise ValueError("number: not a flight number (e.g. CA1234) or train number (e.g. G1234)")
        return self


@route(bp, "/v1/exposures", methods=["POST"])
def publish():
    request = bp.current_request
    caller = principal(request, Role.HEALTH_AUTHORITY)
    e = body(request, ExposureRequest)
    rows = {"from": e.rows.first, "to": e.rows.last} if e.rows else None
    return ok(exposures.publish(caller, e.mode, e.number, e.date, e.case_type, e.inbound, e.carriages, rows, e.note),
              201)


@route(bp, "/v1/exposures", methods=["GET"])
def co_passenger_query():
    request = bp.current_request
    params = query(request, CoPassengerQuery)
    throttle.check(limits.EXPOSURE_QUERIES_PER_ADDRESS, source_address(request))
    return ok(exposures.query(params.number, params.date))
