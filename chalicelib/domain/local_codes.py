"""Provinces' local health codes and what they contribute to the national color."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.domain import divisions
from chalicelib.domain.colors import Color, Reason


@dataclass(frozen=True)
class LocalCode:
    province: str
    color: Color
    updated_at: int
    valid_until: int | None


def province_name(province: str) -> str:
    return divisions.name_of(province + "0000") or province


def local_code_reasons(codes: Iterable[LocalCode], now: int) -> list[Reason]:
    """A yellow or red provincial code counts while the province says it is valid."""
    reasons = []
    for code in codes:
        if code.color is Color.GREEN or (code.valid_until is not None and code.valid_until <= now):
            continue
        name = province_name(code.province)
        zh = "黄码" if code.color is Color.YELLOW else "红码"
        reasons.append(Reason("local_code", f"local_code_{code.color.value}", code.color,
                              f"{name}健康码为{zh}",
                              f"The {code.province} provincial health code is {code.color.value}",
                              code.updated_at, code.valid_until, code.province))
    return reasons
