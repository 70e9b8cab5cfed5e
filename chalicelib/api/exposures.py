"""Flights and trains with cases: health authorities publish, anyone asks (co-passenger query)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.fields import IsoDate, Note
from chalicelib.api.routes import route
from chalicelib.domain import limits
from chalicelib.domain.exposures import CaseType
from chalicelib.domain.transport import InvalidNumber, Mode, candidates, normalise
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import exposures

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


@route(bp, "/v1/exposures", methods=["POST"], roles=[Role.HEALTH_AUTHORITY], body=ExposureRequest,
       responds={201: "Exposure"})
def publish(caller: Principal, body: ExposureRequest) -> dict[str, Any]:
    """Publish a flight or train with cases"""
    rows = {"from": body.rows.first, "to": body.rows.last} if body.rows else None
    return exposures.publish(caller, body.mode, body.number, body.date, body.case_type, body.inbound, body.carriages,
                             rows, body.note)


@route(bp, "/v1/exposures", methods=["GET"], query=CoPassengerQuery, responds={200: "CoPassengerAnswer"},
       limits=[limits.EXPOSURE_QUERIES_PER_ADDRESS])
def co_passenger_query(query: CoPassengerQuery) -> dict[str, Any]:
    """Co-passenger query: was a case on this flight or train?"""
    return exposures.query(query.number, query.date)
