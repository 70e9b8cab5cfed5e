"""Trips: transport modes and flight and train numbers in their real formats."""
from __future__ import annotations

import contextlib
import re
from enum import Enum


class Mode(str, Enum):
    FLIGHT = "flight"
    TRAIN = "train"
    BUS = "bus"
    CAR = "car"
    SHIP = "ship"
    OTHER = "other"


NUMBERED = (Mode.FLIGHT, Mode.TRAIN)
# IATA airline designator: two letters, or a letter and a digit either way round (3U, G5), then 1-4 digits
_FLIGHT = re.compile(r"^(?P<airline>[A-Z]{2}|[A-Z][0-9]|[0-9][A-Z])(?P<number>[0-9]{1,4})$")
# China Railway: a class letter (G, D, C, Z, T, K, Y, S, L) and digits, or digits alone
_TRAIN = re.compile(r"^(?P<prefix>[GDCZTKYSL]?)(?P<number>[0-9]{1,5})$")
_FLIGHT_SEAT = re.compile(r"^(?P<row>[0-9]{1,2})(?P<letter>[A-K])$")


class InvalidNumber(ValueError):
    pass


def normalise(mode: Mode, raw: str) -> str:
    """CA 0123, ca123 -> CA123; g 1234 -> G1234. Raises InvalidNumber."""
    value = re.sub(r"\s+", "", raw).upper()
    if mode is Mode.FLIGHT:
        match = _FLIGHT.match(value)
        if not match:
            raise InvalidNumber("a flight number is a two-character airline code and 1-4 digits, e.g. CA1234, 3U8888")
        return match["airline"] + str(int(match["number"]))
    if mode is Mode.TRAIN:
        match = _TRAIN.match(value)
        if not match or len(match["number"]) > (4 if match["prefix"] else 5):
            raise InvalidNumber("a train number is a letter such as G, D, C, Z, T, K, Y and digits, or digits alone")
        return match["prefix"] + str(int(match["number"]))
    raise InvalidNumber(f"{mode.value} trips carry no number")


def candidates(raw: str) -> list[tuple[Mode, str]]:
    """Every (mode, normalised number) a free-text number can mean: G5123 is a flight or a train."""
    found = []
    for mode in NUMBERED:
        with contextlib.suppress(InvalidNumber):
            found.append((mode, normalise(mode, raw)))
    return found


def seat_row(seat: str) -> int | None:
    match = _FLIGHT_SEAT.match(seat.strip().upper())
    return int(match["row"]) if match else None


def is_flight_seat(seat: str) -> bool:
    return seat_row(seat) is not None
