"""Field types shared by request models: division codes, ID numbers, dates, identifiers and stored text."""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from chalicelib.domain import divisions, documents, idnumber, names
from chalicelib.models import Model, NoIdNumber, Note  # noqa: F401  (Note: the routes' models take it from here)


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
# a UUID a checkpoint's device made for one scan (any case; one scan, one row: store/scans.py keyed_id)
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ScanKey = Annotated[str, Field(pattern=_UUID), AfterValidator(str.lower)]


def _document_number(value: str, info: ValidationInfo) -> str:
    """The number of the document named by the model's `document_type` (declared before it)."""
    kind = info.data.get("document_type")
    if kind is None:   # the type itself was refused: that is the error to report
        return value
    try:
        return documents.normalise_number(kind, value)
    except documents.InvalidDocument as exc:
        raise ValueError(str(exc)) from None


def _nationality(value: str | None, info: ValidationInfo) -> str | None:
    kind = info.data.get("document_type")
    if kind is None:
        return value
    try:
        return documents.normalise_nationality(kind, value)
    except documents.InvalidDocument as exc:
        raise ValueError(str(exc)) from None


# An identity document as three fields of one model, in this order (docs/identity.md): `document_type`, then
# `id_number` (its number, which is checked as that type's), then `nationality` (a passport's, else absent).
# Each refusal names its own field.
DocumentTypeField = Annotated[documents.DocumentType, Field(description="The identity document (docs/identity.md)")]
DocumentNumber = Annotated[str, Field(min_length=1, max_length=32,
                                      description="The document's number: a resident ID number by default"),
                           AfterValidator(_document_number)]
Nationality = Annotated[str | None, Field(default=None, min_length=3, max_length=3, validate_default=True,
                                          description="A passport's issuing state, ISO 3166-1 alpha-3 (e.g. GBR); "
                                                      "only for a passport"),
                        AfterValidator(_nationality)]


def _personal_name(value: str) -> str:
    if not names.is_valid_name(value):
        raise ValueError("must be a personal name in Chinese characters or Latin letters")
    return value.strip()


# a person's name as on their document (a log-in's, a dependant's): stored masked
PersonalName = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_personal_name)]


class NamedPerson(Model):
    """A person named by an identity document, as the first three fields of a request or record: a resident ID by
    default (`id_number` alone, as before other documents were accepted), or `document_type` and, for a passport,
    `nationality` (docs/identity.md). The person reference derives from it as from a login's."""
    document_type: DocumentTypeField = documents.DocumentType.RESIDENT_ID
    id_number: DocumentNumber
    nationality: Nationality = None

    def document(self) -> documents.Document:
        return documents.Document(self.document_type, self.id_number, self.nationality)
