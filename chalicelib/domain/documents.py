"""Identity documents other than the resident ID card: their formats, checks and the value each is known by.

docs/identity.md gives each format with its check and its source. Every document is validated at the edge,
pseudonymised like a resident ID (security/pseudonyms.document_ref: a keyed hash, the last four characters,
the name masked) and never stored. A resident ID keeps the reference it always had (the hash of the number
alone), so codes created before other documents existed keep their ids.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path

from chalicelib.domain import idnumber


class DocumentType(str, Enum):
    RESIDENT_ID = "resident_id"                                  # 居民身份证 (GB 11643)
    PASSPORT = "passport"                                        # 护照, with its nationality
    HK_MACAO_TRAVEL_PERMIT = "hk_macao_travel_permit"            # 港澳居民来往内地通行证 ("回乡证")
    TAIWAN_TRAVEL_PERMIT = "taiwan_travel_permit"                # 台湾居民来往大陆通行证 ("台胞证")
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"                # 港澳台居民居住证 (2018)
    FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident"    # 外国人永久居留身份证 (2004 and 2023 formats)


class InvalidDocument(ValueError):
    pass


# ICAO Doc 9303 part 3 codes that are no ISO 3166-1 country but appear as a passport holder's nationality
ICAO_EXTRA_NATIONALITIES = frozenset({"XXA", "XXB", "XXC", "XXX"})   # stateless, refugees (two kinds), unspecified
RESIDENCE_PERMIT_PREFIXES = {"810000": "HKG", "820000": "MAC", "830000": "TWN"}

_PASSPORT = re.compile(r"^[A-Z0-9]{5,12}$")
_HK_MACAO = re.compile(r"^[HM][0-9]{8}([0-9]{2})?$")
_TAIWAN = re.compile(r"^[0-9]{8}$")
_EIGHTEEN = re.compile(r"^[0-9]{17}[0-9X]$")
_FPR_2004 = re.compile(r"^[A-Z]{3}[0-9]{12}$")


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1: alpha-3 code -> numeric code (data: countries.json, from the iso-codes database)."""
    codes: dict[str, str] = json.loads(Path(__file__).with_name("countries.json").read_text("utf-8"))
    return codes


def is_nationality(code: str) -> bool:
    return code in countries() or code in ICAO_EXTRA_NATIONALITIES


def _compact(raw: str) -> str:
    # people type these with spaces, hyphens or brackets as printed ("H1234567801", "H12345678 01")
    return re.sub(r"[\s\-()（）]", "", raw).upper()


def _gb11643(value: str, what: str) -> str:
    if not _EIGHTEEN.match(value):
        raise InvalidDocument(f"{what} must be 18 characters: 17 digits and a digit or X")
    if idnumber.check_character(value[:17]) != value[17]:
        raise InvalidDocument(f"the check character of the {what} does not match (GB 11643, ISO 7064 MOD 11-2)")
    return value


def _birth_date(digits: str, what: str) -> None:
    try:
        born = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidDocument(f"the birth date in the {what} is not a real date") from None
    if born.year < 1900 or born > idnumber.china_today():
        raise InvalidDocument(f"the birth date in the {what} is out of range")


def _resident_id(value: str) -> str:
    try:
        return idnumber.normalise(value)
    except idnumber.InvalidIdNumber as exc:
        raise InvalidDocument(f"not a valid resident ID number: {exc}") from None


def _passport(value: str) -> str:
    if not _PASSPORT.match(value) or not any(c.isdigit() for c in value):
        raise InvalidDocument("a passport number is 5-12 letters and digits, at least one a digit (ICAO 9303)")
    return value


def _hk_macao(value: str) -> str:
    if not _HK_MACAO.match(value):
        raise InvalidDocument("H (Hong Kong) or M (Macao), the 8-digit lifelong number and, as printed on the "
                              "card, the 2-digit issue count: H1234567801")
    return value


def _taiwan(value: str) -> str:
    if not _TAIWAN.match(value):
        raise InvalidDocument("the card's number is 8 digits")
    return value


def _residence_permit(value: str) -> str:
    value = _gb11643(value, "residence permit number")
    if value[:6] not in RESIDENCE_PERMIT_PREFIXES:
        raise InvalidDocument("a residence permit number starts with 810000 (Hong Kong), 820000 (Macao) or "
                              "830000 (Taiwan)")
    _birth_date(value[6:14], "residence permit number (digits 7-14)")
    return value


def _permanent_resident(value: str) -> str:
    if len(value) == 15:
        if not _FPR_2004.match(value):
            raise InvalidDocument("a 15-character permanent residence number is 3 letters and 12 digits")
        if value[:3] not in countries():
            raise InvalidDocument("the first three letters are not an ISO 3166-1 alpha-3 country code")
        return value
    value = _gb11643(value, "permanent residence number")
    if value[0] != "9":
        raise InvalidDocument("an 18-character permanent residence number (2023) starts with 9")
    return value


_CHECKS = {DocumentType.RESIDENT_ID: _resident_id, DocumentType.PASSPORT: _passport,
           DocumentType.HK_MACAO_TRAVEL_PERMIT: _hk_macao, DocumentType.TAIWAN_TRAVEL_PERMIT: _taiwan,
           DocumentType.HMT_RESIDENCE_PERMIT: _residence_permit,
           DocumentType.FOREIGN_PERMANENT_RESIDENT: _permanent_resident}


def normalise_number(kind: DocumentType, raw: str) -> str:
    """The document number in its canonical form; raises InvalidDocument saying what is wrong."""
    if kind is DocumentType.RESIDENT_ID:
        return _resident_id(raw)
    return _CHECKS[kind](_compact(raw))


def normalise_nationality(kind: DocumentType, raw: str | None) -> str | None:
    """A passport's nationality (ISO 3166-1 alpha-3, required); the other documents take none."""
    if kind is not DocumentType.PASSPORT:
        if raw is not None:
            raise InvalidDocument("only a passport takes a nationality")
        return None
    if raw is None or not raw.strip():
        raise InvalidDocument("a passport needs its holder's nationality, as ISO 3166-1 alpha-3 (e.g. GBR)")
    value = raw.strip().upper()
    if not is_nationality(value):
        raise InvalidDocument("not an ISO 3166-1 alpha-3 country code (e.g. GBR, USA, KOR)")
    return value


@dataclass(frozen=True)
class Document:
    """A valid document, canonical: build it with `parse`."""
    kind: DocumentType
    number: str
    nationality: str | None = None

    @property
    def lifelong_number(self) -> str:
        """The part of the number that stays the same when the document is renewed: a Hong Kong or Macao
        permit's first nine characters (the last two count the issues); the whole number otherwise."""
        if self.kind is DocumentType.HK_MACAO_TRAVEL_PERMIT:
            return self.number[:9]
        return self.number

    @property
    def pseudonym_input(self) -> str:
        """What the person reference is a keyed hash of. A resident ID: the number alone, as before other
        documents existed. Another: qualified by its type (and a passport by its issuing state), so that two
        documents of different kinds never share a reference by sharing a number."""
        if self.kind is DocumentType.RESIDENT_ID:
            return self.number
        if self.kind is DocumentType.PASSPORT:
            return f"passport:{self.nationality}:{self.number}"
        return f"{self.kind.value}:{self.lifelong_number}"

    @property
    def last_four(self) -> str:
        return self.lifelong_number[-4:]


def parse(kind: DocumentType | str, number: str, nationality: str | None = None) -> Document:
    kind = DocumentType(kind)
    return Document(kind, normalise_number(kind, number), normalise_nationality(kind, nationality))
