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


# Other identity documents (chalicelib/domain/documents.py, docs/identity.md): generated, never real.

def hk_macao_permit(region: str = "H", issues: int = 0) -> str:
    """A Mainland Travel Permit for Hong Kong (H) or Macao (M) residents: the lifelong 8 digits, the issue count."""
    return f"{region}{_rng.randrange(10**8):08d}{issues:02d}"


def taiwan_permit() -> str:
    return f"{_rng.randrange(10**8):08d}"


def residence_permit(prefix: str = "810000", born: dt.date | None = None) -> str:
    """A Hong Kong (810000), Macao (820000) or Taiwan (830000) residents' residence permit number."""
    return id_number(prefix, born)


def passport() -> str:
    return f"{_rng.choice('EGKP')}{_rng.randrange(10**8):08d}"


def permanent_resident_2023() -> str:
    first17 = f"9{_rng.randrange(10**16):016d}"
    return first17 + check_character(first17)


def permanent_resident_2004(nationality: str = "USA") -> str:
    return f"{nationality}{_rng.randrange(10**12):012d}"
