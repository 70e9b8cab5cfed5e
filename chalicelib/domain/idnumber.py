"""Resident identity numbers (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character."""
from __future__ import annotations

import datetime as dt
import re
import time

from chalicelib.domain import days, divisions

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    pass


def china_today() -> dt.date:
    """The latest birth date a document may carry: today in China, whatever the host's zone (Lambda's is UTC,
    eight hours behind), so a child registered on the day of birth is valid from China's midnight."""
    return days.today(int(time.time()))


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=False)) % 11]


def area_is_known(area: str) -> bool:
    """The six-digit prefix names a division, current or historical.

    An ID number keeps the county code of where it was issued, and counties have
    since been merged and renumbered (Beijing's 110103 Chongwen, Chongqing's codes
    under 51 before 1997), so a prefix that is not in today's list is accepted when
    its province is; the bundled list holds current divisions only.
    """
    return divisions.is_division(area) or divisions.is_province(area[:2])


def normalise(raw: str) -> str:
    """Validate and return the canonical form (upper-case X); raises InvalidIdNumber with a reason."""
    value = raw.strip().upper()
    if not _SHAPE.match(value):
        raise InvalidIdNumber("must be 18 characters: 17 digits and a digit or X")
    if not area_is_known(value[:6]):
        raise InvalidIdNumber("the first six digits are not a GB/T 2260 administrative division code "
                              "of any province")
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber("the birth date (digits 7-14) is not a real date") from None
    if born.year < 1900 or born > china_today():
        raise InvalidIdNumber("the birth date (digits 7-14) is out of range")
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber("the check character does not match (GB 11643)")
    return value


def last_four(id_number: str) -> str:
    return id_number[-4:]


_CANDIDATE = re.compile(r"(?=([0-9]{17}[0-9Xx]))")   # every 18-character window, overlapping


def contains_id_number(text: str) -> bool:
    """Whether any 18 characters of `text` in a row make a valid ID number (area, birth date and check
    character all hold). Identifiers and text a client sends are stored and some are shown to others
    (docs/provinces.md), and the platform promises never to store an ID number: such text is refused.
    A run of digits that is not a valid number (a wrong check character, no such birth date) passes, so a
    province's long numeric ids are not refused one time in eleven."""
    for match in _CANDIDATE.finditer(text):
        candidate = match.group(1).upper()
        if candidate[:6] in _RESIDENCE_PERMITS and _is_residence_permit(candidate):
            return True
        try:
            normalise(candidate)
        except InvalidIdNumber:
            continue
        return True
    return False


# Hong Kong, Macao and Taiwan residents' residence permits (domain/documents.py) are numbered as ID numbers are,
# under these prefixes: as specific as an ID number (a prefix, a real birth date, the check character), so they
# are refused outside `id_number` fields too. A foreign permanent resident's 2023 number ("9" and 17 more) is
# not: only its check character could be checked, and one long numeric id in eleven would be refused.
_RESIDENCE_PERMITS = ("810000", "820000", "830000")


def _is_residence_permit(value: str) -> bool:
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return born.year >= 1900 and check_character(value[:17]) == value[17]
