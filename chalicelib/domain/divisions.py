"""GB/T 2260 administrative division codes (data: divisions.json, see infra/local/divisions.py)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

# The province-level divisions, spelled out so that reading every province's area levels (store/areas.py)
# does not load the whole table of divisions on a verify's cold start; tests check it against divisions.json.
PROVINCES = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
             "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65")


@lru_cache(maxsize=1)
def _codes() -> dict[str, str]:
    codes: dict[str, str] = json.loads((Path(__file__).with_name("divisions.json")).read_text("utf-8"))
    return codes


def is_division(code: str) -> bool:
    """True for a six-digit province, prefecture or county-level code."""
    return len(code) == 6 and code.isdigit() and code in _codes()


def is_province(code: str) -> bool:
    return len(code) == 2 and code.isdigit() and code + "0000" in _codes()


def province_of(code: str) -> str:
    return code[:2]


def name_of(code: str) -> str | None:
    """A readable name: the county with its prefecture and province where they differ."""
    codes = _codes()
    if code not in codes:
        return None
    parts = [codes.get(code[:2] + "0000"), codes.get(code[:4] + "00"), codes.get(code)]
    names: list[str] = []
    for part in parts:
        if part and part not in names and part not in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            names.append(part)
    return "".join(names)


def all_counties() -> list[str]:
    return [code for code in _codes() if not code.endswith("00")]
