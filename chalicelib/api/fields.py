"""Field types shared by request models: division codes, ID numbers."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from chalicelib.domain import divisions, idnumber


def _division(value: str) -> str:
    if not divisions.is_division(value):
        raise ValueError("not a GB/T 2260 administrative division code")
    return value


def _id_number(value: str) -> str:
    try:
        return idnumber.normalise(value)
    except idnumber.InvalidIdNumber as exc:
        raise ValueError(f"not a valid resident ID number: {exc}") from None


AreaCode = Annotated[str, Field(min_length=6, max_length=6), AfterValidator(_division)]
IdNumber = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_id_number)]
Note = Annotated[str, Field(max_length=500)]
