"""Venue codes (场所码): places with a posted QR, the visits citizens record by scanning it, and the venue
exposures tracers publish (docs/venues.md).

Pure: the venue number's check digit, the visit's dedup bucket, and the rule that turns a person's venue
visits and the venues' published exposures into reasons (docs/colors.md):

| a visit to the venue at a moment inside [from - 30 min, to + 30 min] of a published venue exposure | yellow |

for confirmed and suspected cases alike, from publication until 14 days after the day of the visit. A
venue visit says that two people were in the same place within the same hour or so, not that they were
close: a tracer who finds a close contact sets that person's medical status (red) after the interview.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from chalicelib.domain import days
from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.exposures import CaseType
from chalicelib.domain.identifiers import VENUE_ID

SOURCE = "exposure"               # venue exposures are exposures: one source, reviewed by the publisher
REASON = "venue_exposure"
VISIT_BUCKET_SECONDS = 300        # repeated scans of one venue by one person within these 5 minutes are one visit
EXPOSURE_BUFFER_SECONDS = 1800    # a visit this close before or after a published window still counts
MAX_EXPOSURE_SECONDS = 24 * 3600  # one exposure covers at most a day: a longer stay is published day by day
TOKEN_TTL_SECONDS = 366 * 86400   # a poster's token lives a year (a rotation ends it earlier)
NUMBER_DIGITS = 8                 # 7 random digits and a check digit
VENUE_NUMBER = re.compile(r"[0-9]{8}")


class VenueType(str, Enum):
    SHOP = "shop"
    TRANSPORT = "transport"
    OFFICE = "office"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    OTHER = "other"


@dataclass(frozen=True)
class VenueVisit:
    venue_id: str
    at: int               # when the visit was recorded (the first scan of its 5-minute bucket)

    @property
    def day(self) -> dt.date:
        return days.today(self.at)


@dataclass(frozen=True)
class VenueExposure:
    exposure_id: str
    venue_id: str
    venue_name: str
    start: int            # the case was there from `start` to `end` (epoch seconds)
    end: int
    case_type: CaseType
    published_at: int
    province: str | None = None     # the publishing health authority's

    def covers(self, at: int) -> bool:
        return self.start - EXPOSURE_BUFFER_SECONDS <= at <= self.end + EXPOSURE_BUFFER_SECONDS


def check_digit(first7: str) -> str:
    """The Luhn check digit of the first seven digits: catches every single-digit typo and most swaps of two
    neighbours, the mistakes of someone typing a number off a poster."""
    total = 0
    for i, char in enumerate(reversed(first7)):
        digit = int(char)
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def venue_number(first7: int) -> str:
    """The human venue number of 7 digits (leading zeros kept): those digits and their check digit."""
    digits = f"{first7:07d}"
    return digits + check_digit(digits)


def is_venue_number(value: str) -> bool:
    return VENUE_NUMBER.fullmatch(value) is not None and check_digit(value[:7]) == value[7]


def is_venue_id(value: str) -> bool:
    return VENUE_ID.fullmatch(value) is not None


def bucket(at: int) -> int:
    """The start of the 5-minute bucket a scan falls in: one visit per person, venue and bucket."""
    return at - at % VISIT_BUCKET_SECONDS


def venue_exposure_reasons(visits: Iterable[VenueVisit], exposures: Iterable[VenueExposure]) -> list[Reason]:
    """One reason per (visit, exposure) match, from publication until 14 days after the day of the visit."""
    found: dict[tuple[str, str], Reason] = {}
    exposures = list(exposures)
    for visit in sorted(visits, key=lambda v: v.at):
        for exposure in exposures:
            if exposure.venue_id != visit.venue_id or not exposure.covers(visit.at):
                continue
            kind_zh = "确诊" if exposure.case_type is CaseType.CONFIRMED else "疑似"
            seen = dt.datetime.fromtimestamp(visit.at, days.CST).strftime("%Y-%m-%d %H:%M")
            reason = Reason(
                SOURCE, REASON, Color.YELLOW,
                f"{seen} 到访的场所「{exposure.venue_name}」同时段有{kind_zh}病例",
                f"You visited {exposure.venue_name} at {seen} CST, when a {exposure.case_type.value} case was there",
                exposure.published_at, days.lapses_at(visit.day), exposure.province)
            # several scans around one exposure make one reason: the one that lasts longest (the latest visit)
            found[(exposure.exposure_id, visit.venue_id)] = reason
    return list(found.values())
