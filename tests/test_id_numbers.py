"""Resident ID numbers (GB 11643-1999) checked against answers the project did not compute.

tests/people.py makes its numbers with the project's own `check_character`, so a suite that only uses them
cannot notice a wrong weight or a wrong table: two swapped weights once survived a mutation pass. Here the
answers come from the standard itself (its appendix A examples and appendix B's worked sum), from worked
examples published with the algorithm, and from ISO 7064 MOD 11-2 computed its own way (the recursive
"pure system" method, which uses no weight table at all).
"""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings, strategies as st

from chalicelib.domain import idnumber
from chalicelib.domain.idnumber import InvalidIdNumber, check_character, contains_id_number, last_four, normalise
from tests.examples import examples

pytestmark = pytest.mark.fast

# GB 11643-1999 appendix A: a resident of Chaoyang, Beijing, and one of Shantou, Guangdong
STANDARD_EXAMPLES = ("11010519491231002X", "440524188001010014")
# worked examples published with the algorithm (34052419800101001: remainder 2, so X; 51310119820113001: the sum is
# 184, remainder 8, so 4; 37010119010203997: remainder 9, so 3)
PUBLISHED_EXAMPLES = ("34052419800101001X", "513101198201130014", "370101190102039973")
# computed here with ISO 7064's recursive method, chosen so that together with the above every remainder 0-10
# occurs and every two weights that differ are told apart (see the last tests of this module)
COMPUTED_ELSEWHERE = ("440106198512032711", "510104200002293589", "650102197706159461", "110101190001011236",
                      "460200201010100871", "310115199207140005", "420102196811300028", "530102199510080032",
                      "210102197305210017", "610113198808080080")
KNOWN = STANDARD_EXAMPLES + PUBLISHED_EXAMPLES + COMPUTED_ELSEWHERE
VALID_HERE = tuple(n for n in KNOWN if n != "440524188001010014")    # born in 1880: see below

# the standard's own table, written out here rather than imported
GB_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB_CHECK = "10X98765432"


def iso_7064_mod_11_2(body: str) -> str:
    """ISO 7064 MOD 11-2, pure system, recursive method: no weights, only doubling modulo 11."""
    p = 0
    for digit in body:
        p = (p + int(digit)) * 2 % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


def satisfies_mod_11_2(number: str) -> bool:
    """The whole number, check character included (X = 10), weighted 2^(i-1) from the right, is 1 modulo 11."""
    values = [10 if c == "X" else int(c) for c in number]
    return sum(v * pow(2, i, 11) for i, v in enumerate(reversed(values))) % 11 == 1


def test_appendix_b_the_weighted_sum_of_the_chaoyang_example_is_167_remainder_2_check_x():
    body = STANDARD_EXAMPLES[0][:17]
    assert sum(int(d) * w for d, w in zip(body, GB_WEIGHTS, strict=True)) == 167
    assert 167 % 11 == 2 and GB_CHECK[2] == "X"
    assert check_character(body) == "X"


@pytest.mark.parametrize("number", KNOWN)
def test_the_check_character_of_every_known_answer(number):
    assert check_character(number[:17]) == number[17]
    assert iso_7064_mod_11_2(number[:17]) == number[17]
    assert satisfies_mod_11_2(number)


@pytest.mark.parametrize("number", VALID_HERE)
def test_any_other_check_character_is_refused(number):
    for wrong in "0123456789X":
        if wrong != number[17]:
            with pytest.raises(InvalidIdNumber, match="check character"):
                normalise(number[:17] + wrong)


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_check_character_is_iso_7064_mod_11_2_for_any_17_digits(body):
    assert check_character(body) == iso_7064_mod_11_2(body)


@pytest.mark.parametrize("number", VALID_HERE)
def test_known_numbers_are_valid_and_keep_their_form(number):
    assert normalise(number) == number
    assert normalise(f"  {number.lower()}\n") == number       # a lower-case x is the same character
    assert last_four(number) == number[-4:]


def test_a_number_of_someone_born_before_1900_is_refused_even_the_standards_own_example():
    # the standard's Shantou example was born in 1880; the platform takes birth dates from 1900
    with pytest.raises(InvalidIdNumber, match="out of range"):
        normalise("440524188001010014")
    with pytest.raises(InvalidIdNumber, match="out of range"):
        normalise(with_check("44052418991231001"))
    assert normalise(with_check("44052419000101001")).startswith("440524190001010")


def with_check(body: str) -> str:
    return body + iso_7064_mod_11_2(body)


# 00:30 on 1 March 2026 in China: still 28 February on a UTC host (Lambda's zone)
CHINA_JUST_AFTER_MIDNIGHT = int(dt.datetime(2026, 2, 28, 16, 30, tzinfo=dt.UTC).timestamp())


def test_a_birth_date_must_be_a_real_day_up_to_today_in_china(monkeypatch):
    monkeypatch.setattr(idnumber.time, "time", lambda: CHINA_JUST_AFTER_MIDNIGHT)
    assert idnumber.china_today() == dt.date(2026, 3, 1)
    assert normalise(with_check("11010120260301001"))          # born today, China's day: valid from its midnight
    with pytest.raises(InvalidIdNumber, match="out of range"):
        normalise(with_check("11010120260302001"))
    for impossible in ("19900230", "19901301", "19900100", "19000229"):
        with pytest.raises(InvalidIdNumber, match="not a real date"):
            normalise(with_check(f"110101{impossible}001"))
    assert normalise(with_check("11010120000229001"))          # 2000 was a leap year


def test_the_shape_is_17_digits_and_a_digit_or_x():
    valid = COMPUTED_ELSEWHERE[0]
    for wrong in (valid[:-1], valid + "1", valid[:16] + "X" + valid[17], valid[:17] + "Y", "",
                  valid[:5] + "A" + valid[6:], "1" * 18 + "\n1"):
        with pytest.raises(InvalidIdNumber, match="18 characters"):
            normalise(wrong)


def test_the_area_is_a_division_current_or_of_a_known_province():
    assert normalise(with_check("11010319800101001"))          # Chongwen, merged into Dongcheng in 2010
    with pytest.raises(InvalidIdNumber, match="GB/T 2260"):
        normalise(with_check("99010119800101001"))
    with pytest.raises(InvalidIdNumber, match="GB/T 2260"):
        normalise(with_check("00000019800101001"))
    assert idnumber.area_is_known("440106") and idnumber.area_is_known("110103")
    assert not idnumber.area_is_known("990101")


def test_a_valid_number_inside_any_text_is_found_and_a_run_of_digits_that_is_not_one_is_not():
    valid = "510104200002293589"
    assert contains_id_number(valid)
    assert contains_id_number(f"gate-{valid}-3") and contains_id_number(f"note: {valid.lower()[:-1]}9")
    assert contains_id_number(f"7{valid}")           # the windows overlap: the number may start anywhere
    assert contains_id_number("11010519491231002x")
    assert not contains_id_number(valid[:17] + "0")   # a wrong check character: a province's long numeric id
    assert not contains_id_number(valid[:17])
    assert not contains_id_number("")
    assert not contains_id_number("1" * 40)



# each refusal's whole message: the API returns it as the `id_number` field's error, so it is pinned here once
@pytest.mark.parametrize(("raw", "says"), [
    ("51010420000229358", "must be 18 characters: 17 digits and a digit or X"),
    (with_check("99010119800101001"), "the first six digits are not a GB/T 2260 administrative division code of "
                                      "any province"),
    (with_check("11010119900230001"), "the birth date (digits 7-14) is not a real date"),
    (with_check("11010118991231001"), "the birth date (digits 7-14) is out of range"),
    ("510104200002293580", "the check character does not match (GB 11643)"),
])
def test_a_refused_number_says_what_is_wrong(raw, says):
    with pytest.raises(InvalidIdNumber) as refused:
        normalise(raw)
    assert str(refused.value) == says


# Hong Kong, Macao and Taiwan residence permits are numbered under 810000, 820000 and 830000, which are no
# province of the division list: only their own check finds them. Check characters by ISO 7064's recursion.
@pytest.mark.parametrize("permit", [
    "810000190001010018",           # born 1 January 1900, the first day taken
    "810000199010200017",           # born 20 October 1990: month and day each need both their digits
    "81000019901020005X",           # a check character X, written in lower case in the text below
])
def test_a_residence_permit_inside_text_is_found_from_1900_and_whatever_the_case_of_its_x(permit):
    assert iso_7064_mod_11_2(permit[:17]) == permit[17]
    assert contains_id_number(f"note {permit.lower()} end")


def test_a_residence_permit_born_before_1900_or_with_a_wrong_check_character_is_not_one():
    assert iso_7064_mod_11_2("81000018991231001") == "3"
    assert not contains_id_number("gate-810000189912310013")
    assert not contains_id_number("gate-810000199010200010")   # its check character is 7

# --- the known answers are strong enough to catch a wrong table ---------------------------------------------

def check_with(weights: tuple[int, ...], table: str, body: str) -> str:
    return table[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def test_the_known_answers_tell_apart_every_swap_of_two_different_weights():
    for i, j in itertools.combinations(range(17), 2):
        if GB_WEIGHTS[i] == GB_WEIGHTS[j]:
            continue
        swapped = list(GB_WEIGHTS)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        assert any(check_with(tuple(swapped), GB_CHECK, n[:17]) != n[17] for n in KNOWN), (i, j)


def test_the_known_answers_reach_every_entry_of_the_check_table():
    assert {sum(int(d) * w for d, w in zip(n[:17], GB_WEIGHTS, strict=True)) % 11 for n in KNOWN} == set(range(11))
