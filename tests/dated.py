"""Shared by scenario tests that date trips and publish events: CST days, and a clean stream after each test.

Import the fixtures into a test module to use them there (they are autouse within it).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.domain import days


@pytest.fixture(autouse=True)
def _leave_no_events_behind(pump: Any) -> Iterator[None]:
    """Hand this test's events to the stream handler before the next test, on the real clock, so that no
    later test's drain (or webhook receiver) gets them."""
    yield
    clock.reset()
    pump.drain()


@pytest.fixture(autouse=True)
def _clear_of_midnight() -> None:
    """Trips and exposures are dated in CST days: never let a test straddle midnight (start just after it)."""
    now = clock.now()
    to_midnight = days.start_of(days.today(now) + dt.timedelta(days=1)) - now
    if to_midnight < 120:
        clock.shift(to_midnight + 1)


def day(back: int = 0) -> str:
    """A CST date `back` days ago, as YYYY-MM-DD."""
    return (days.today(clock.now()) - dt.timedelta(days=back)).isoformat()
