"""Field types shared by request models: division codes, ID numbers, dates, identifiers and stored text."""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from chalicelib.domain import divisions, idnumber
from chalicelib.models import NoIdNumber, Note  # noqa: F401  (Note: the routes' models take it from here)


def _division(value: str) -> str:
    if not divisions.is_division(value):
        raise ValueError("not a GB/T 2260 administrative division code")
    return value


def _id_number(value: str) -> str:
    try:
        return idnumber.normalise(value)
    except idnumber.InvalidIdNumber as exc:
        raise ValueError(f"not a valid resident ID number: {exc}") from None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    # pydantic reads a string of digits as epoch seconds ("0" -> 1970-01-01); the API takes YYYY-MM-DD only
    if not isinstance(value, str):
        return value
    if not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)  # a date, which strict models take from here on
    except ValueError:
        raise ValueError("must be a real date") from None


AreaCode = Annotated[str, Field(min_length=6, max_length=6), AfterValidator(_division)]
IdNumber = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_id_number)]
# a province's own ids (local code ids, record ids, key ids) and a checkpoint's gate id
LocalIdentifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-.:]{1,64}$"), NoIdNumber]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
