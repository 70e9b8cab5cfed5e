"""Identity documents other than the resident ID (docs/identity.md): each format's check, with answers the project
did not compute where a published one exists, and the references they are known by."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.domain import documents, idnumber
from chalicelib.domain.documents import DocumentType as T, InvalidDocument, parse
from tests import people
from tests.test_id_numbers import CHINA_JUST_AFTER_MIDNIGHT, iso_7064_mod_11_2

pytestmark = pytest.mark.fast


# the check characters of the 18-character numbers below are computed by the ISO 7064 MOD 11-2 recursion
# (tests/test_id_numbers.py), not by the project's weight table


def with_check(first17: str) -> str:
    return first17 + iso_7064_mod_11_2(first17)


VALID = [
    (T.HK_MACAO_TRAVEL_PERMIT, "H1234567801", None, "H1234567801"),
    (T.HK_MACAO_TRAVEL_PERMIT, "m 12345678 00", None, "M1234567800"),
    (T.HK_MACAO_TRAVEL_PERMIT, "H12345678", None, "H12345678"),               # the lifelong part alone
    (T.TAIWAN_TRAVEL_PERMIT, "01234567", None, "01234567"),
    (T.HMT_RESIDENCE_PERMIT, with_check("81000019900101001"), None, with_check("81000019900101001")),
    (T.HMT_RESIDENCE_PERMIT, with_check("83000019880808123"), None, with_check("83000019880808123")),
    (T.FOREIGN_PERMANENT_RESIDENT, "usa310076050117", None, "USA310076050117"),
    (T.FOREIGN_PERMANENT_RESIDENT, with_check("93184019800101001"), None, with_check("93184019800101001")),
    (T.PASSPORT, "e12345678", "gbr", "E12345678"),
    (T.PASSPORT, "123456789", "XXA", "123456789"),                             # ICAO: a stateless person
]


@pytest.mark.parametrize("kind, number, nationality, canonical", VALID)
def test_each_document_format_is_accepted_in_its_canonical_form(kind, number, nationality, canonical):
    document = parse(kind, number, nationality)
    assert document.number == canonical
    assert document.nationality == (nationality.upper() if nationality else None)


HK_MACAO = ("H (Hong Kong) or M (Macao), the 8-digit lifelong number and, as printed on the card, the 2-digit issue "
            "count: H1234567801")
PERMIT_PREFIX = "a residence permit number starts with 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan)"
PASSPORT = "a passport number is 5-12 letters and digits, at least one a digit (ICAO 9303)"
NOT_A_COUNTRY = "not an ISO 3166-1 alpha-3 country code (e.g. GBR, USA, KOR)"

# each refusal's whole message: the API returns it as the field's error (docs/identity.md), so it is pinned here once
INVALID = [
    (T.HK_MACAO_TRAVEL_PERMIT, "K1234567801", None, HK_MACAO),
    (T.HK_MACAO_TRAVEL_PERMIT, "H123456780", None, HK_MACAO),                  # 9 digits: neither form
    (T.TAIWAN_TRAVEL_PERMIT, "1234567", None, "the card's number is 8 digits"),
    (T.TAIWAN_TRAVEL_PERMIT, "T1234567", None, "the card's number is 8 digits"),
    (T.HMT_RESIDENCE_PERMIT, "8100001990010100", None,
     "residence permit number must be 18 characters: 17 digits and a digit or X"),
    (T.HMT_RESIDENCE_PERMIT, with_check("81000119900101001"), None, PERMIT_PREFIX),
    (T.HMT_RESIDENCE_PERMIT, with_check("51010419900101001"), None, PERMIT_PREFIX),   # a resident ID
    (T.HMT_RESIDENCE_PERMIT, with_check("81000019900230001"), None,
     "the birth date in the residence permit number (digits 7-14) is not a real date"),
    (T.HMT_RESIDENCE_PERMIT, with_check("81000018991231001"), None,
     "the birth date in the residence permit number (digits 7-14) is out of range"),
    (T.HMT_RESIDENCE_PERMIT, people.with_wrong_check_digit(with_check("82000019900101001")), None,
     "the check character of the residence permit number does not match (GB 11643, ISO 7064 MOD 11-2)"),
    (T.FOREIGN_PERMANENT_RESIDENT, "ZZZ310076050117", None,
     "the first three letters are not an ISO 3166-1 alpha-3 country code"),
    (T.FOREIGN_PERMANENT_RESIDENT, "US3100760501170", None,
     "a 15-character permanent residence number is 3 letters and 12 digits"),
    (T.FOREIGN_PERMANENT_RESIDENT, "9318401980010100", None,
     "permanent residence number must be 18 characters: 17 digits and a digit or X"),
    (T.FOREIGN_PERMANENT_RESIDENT, with_check("83184019800101001"), None,
     "an 18-character permanent residence number (2023) starts with 9"),
    (T.FOREIGN_PERMANENT_RESIDENT, people.with_wrong_check_digit(with_check("93184019800101001")), None,
     "the check character of the permanent residence number does not match (GB 11643, ISO 7064 MOD 11-2)"),
    (T.PASSPORT, "E123", "GBR", PASSPORT),
    (T.PASSPORT, "ABCDEFGHI", "GBR", PASSPORT),
    (T.PASSPORT, "E12345678", None, "a passport needs its holder's nationality, as ISO 3166-1 alpha-3 (e.g. GBR)"),
    (T.PASSPORT, "E12345678", "  ", "a passport needs its holder's nationality, as ISO 3166-1 alpha-3 (e.g. GBR)"),
    (T.PASSPORT, "E12345678", "GBX", NOT_A_COUNTRY),
    (T.PASSPORT, "E12345678", "GB", NOT_A_COUNTRY),
    (T.TAIWAN_TRAVEL_PERMIT, "01234567", "TWN", "only a passport takes a nationality"),
    (T.RESIDENT_ID, "510104199001011231", None,
     "not a valid resident ID number: the check character does not match (GB 11643)"),
]


@pytest.mark.parametrize("kind, number, nationality, says", INVALID)
def test_a_bad_document_is_refused_saying_what_is_wrong(kind, number, nationality, says):
    with pytest.raises(InvalidDocument) as refused:
        parse(kind, number, nationality)
    assert str(refused.value) == says


@pytest.mark.parametrize("born", [dt.date(1900, 1, 1), dt.date(1990, 10, 20), dt.date(1999, 12, 31)])
def test_a_residence_permit_takes_every_real_birth_date_from_1_january_1900(born):
    # October, December and the 20th, 31st: a month or day read from one digit of the two would differ
    number = with_check(f"810000{born:%Y%m%d}001")
    assert parse(T.HMT_RESIDENCE_PERMIT, number).number == number


def test_a_residence_permit_holder_may_be_born_today_in_china_but_not_tomorrow(monkeypatch):
    monkeypatch.setattr(idnumber.time, "time", lambda: CHINA_JUST_AFTER_MIDNIGHT)   # 1 March in China, not in UTC
    number = with_check("82000020260301001")
    assert parse(T.HMT_RESIDENCE_PERMIT, number).number == number
    with pytest.raises(InvalidDocument, match="out of range"):
        parse(T.HMT_RESIDENCE_PERMIT, with_check("82000020260302001"))


def test_the_residence_permits_of_the_three_regions_and_the_2023_permanent_residence_card_use_gb_11643():
    born = dt.date(1985, 6, 30)
    for prefix in documents.RESIDENCE_PERMIT_PREFIXES:
        number = people.residence_permit(prefix, born)
        assert parse(T.HMT_RESIDENCE_PERMIT, number).number == number
        assert number[-1] == iso_7064_mod_11_2(number[:17])
    card = people.permanent_resident_2023()
    assert parse(T.FOREIGN_PERMANENT_RESIDENT, card).number == card


def test_the_value_a_person_is_known_by_qualifies_every_document_but_the_resident_id():
    resident = parse(T.RESIDENT_ID, "510104199001011230")
    assert resident.pseudonym_input == "510104199001011230"        # the references of existing codes stay
    assert resident.last_four == "1230"
    # the same digits on two kinds of document are two people
    assert parse(T.TAIWAN_TRAVEL_PERMIT, "01234567").pseudonym_input == "taiwan_travel_permit:01234567"
    assert parse(T.PASSPORT, "E12345678", "GBR").pseudonym_input == "passport:GBR:E12345678"
    assert parse(T.PASSPORT, "E12345678", "IRL").pseudonym_input != parse(T.PASSPORT, "E12345678", "GBR") \
        .pseudonym_input
    # a renewed Hong Kong permit (issue count 01) is the same holder, with the same last four
    first, renewed = parse(T.HK_MACAO_TRAVEL_PERMIT, "H1234567800"), parse(T.HK_MACAO_TRAVEL_PERMIT, "H1234567801")
    assert first.pseudonym_input == renewed.pseudonym_input == "hk_macao_travel_permit:H12345678"
    assert first.last_four == renewed.last_four == "5678"
    assert parse(T.HK_MACAO_TRAVEL_PERMIT, "M1234567800").pseudonym_input != first.pseudonym_input


def test_the_country_list_is_iso_3166_1_with_its_numeric_codes():
    codes = documents.countries()
    assert len(codes) == 249
    assert (codes["CHN"], codes["HKG"], codes["MAC"], codes["TWN"], codes["GBR"], codes["USA"]) == \
        ("156", "344", "446", "158", "826", "840")


def test_a_residence_permit_number_is_kept_out_of_identifiers_and_text_like_an_id_number():
    from chalicelib.domain.idnumber import contains_id_number

    permit = people.residence_permit("810000", dt.date(1990, 5, 17))
    assert contains_id_number(f"gate-{permit}") and contains_id_number(f"note {permit.lower()} end")
    assert not contains_id_number(f"gate-{people.with_wrong_check_digit(permit)}")
    assert not contains_id_number("gate-810000199002300011")          # 30 February: no such birth date
