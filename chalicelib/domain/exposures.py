"""Flights and trains that carried confirmed or suspected cases, and which passengers they affect.

The rule table (docs/colors.md):

| trip on the same number and date | confirmed case | suspected case |
|---|---|---|
| flight, published rows, passenger within 2 rows of them | red | yellow |
| train, published carriages, passenger in one of them | red | yellow |
| any other passenger of that flight or train | yellow | yellow |
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from chalicelib.domain import days
from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.transport import Mode, seat_row

NEARBY_ROWS = 2


class CaseType(str, Enum):
    CONFIRMED = "confirmed"
    SUSPECTED = "suspected"


@dataclass(frozen=True)
class Trip:
    trip_id: str
    day: dt.date
    mode: Mode
    number: str | None
    seat: str | None = None
    carriage: int | None = None


@dataclass(frozen=True)
class Exposure:
    exposure_id: str
    mode: Mode
    number: str
    day: dt.date
    case_type: CaseType
    inbound: bool
    published_at: int
    carriages: tuple[int, ...] = ()
    rows: tuple[int, int] | None = None
    province: str | None = None     # the publishing health authority's


def voyage(number: str, day: dt.date) -> str:
    """The key that joins trips and exposures: normalised number and date."""
    return f"{number}#{day.isoformat()}"


def is_close(trip: Trip, exposure: Exposure) -> bool:
    if exposure.mode is Mode.FLIGHT and exposure.rows and trip.seat:
        row = seat_row(trip.seat)
        low, high = exposure.rows
        return row is not None and low - NEARBY_ROWS <= row <= high + NEARBY_ROWS
    if exposure.mode is Mode.TRAIN and exposure.carriages and trip.carriage is not None:
        return trip.carriage in exposure.carriages
    return False


def matches(trip: Trip, exposure: Exposure) -> bool:
    return trip.mode is exposure.mode and trip.number == exposure.number and trip.day == exposure.day


def exposure_reasons(trips: Iterable[Trip], exposures: Iterable[Exposure]) -> list[Reason]:
    """One reason per (trip, exposure) match, for 14 days after the trip, from the moment of publication."""
    reasons = []
    exposures = list(exposures)
    for trip in trips:
        for exposure in exposures:
            if not matches(trip, exposure):
                continue
            close = is_close(trip, exposure)
            color = Color.RED if close and exposure.case_type is CaseType.CONFIRMED else Color.YELLOW
            kind_zh = "确诊" if exposure.case_type is CaseType.CONFIRMED else "疑似"
            kind_zh = ("境外输入" + kind_zh) if exposure.inbound else kind_zh
            vehicle_zh = "航班" if trip.mode is Mode.FLIGHT else "列车"
            where_zh = "邻近座位/同车厢" if close else "同" + vehicle_zh
            where_en = "near the case's seats or carriage" if close else f"on the same {trip.mode.value}"
            reasons.append(Reason(
                "exposure", "co_passenger_close" if close else "co_passenger", color,
                f"{trip.day.isoformat()} 乘坐的{vehicle_zh}{trip.number}有{kind_zh}病例（{where_zh}）",
                f"{trip.mode.value.title()} {trip.number} on {trip.day.isoformat()} carried "
                f"{'an inbound ' if exposure.inbound else 'a '}{exposure.case_type.value} case; you were {where_en}",
                exposure.published_at, days.lapses_at(trip.day), exposure.province))
    return reasons
