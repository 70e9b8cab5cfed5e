"""Generated test identities: valid GB 11643 numbers over real division codes, never real people."""
from __future__ import annotations

import datetime as dt
import random

from chalicelib.domain import divisions
from chalicelib.domain.idnumber import check_character

_rng = random.Random()
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def id_number(area: str | None = None, born: dt.date | None = None) -> str:
    area = area or _rng.choice(divisions.all_counties())
    born = born or dt.date(1950, 1, 1) + dt.timedelta(days=_rng.randrange(365 * 55))
    first17 = f"{area}{born:%Y%m%d}{_rng.randrange(1000):03d}"
    return first17 + check_character(first17)


def in_province(province: str) -> str:
    return id_number(_rng.choice([c for c in divisions.all_counties() if c.startswith(province)]))


def name() -> str:
    return _rng.choice(SURNAMES) + "".join(_rng.choice(GIVEN) for _ in range(_rng.choice((1, 2))))


def phone() -> str:
    return f"1{_rng.choice('3456789')}{_rng.randrange(10**9):09d}"


def with_wrong_check_digit(valid: str) -> str:
    wrong = "0" if valid[-1] != "0" else "1"
    return valid[:-1] + wrong
