"""Who may be a dependant (domain/dependants.py): ages at their boundaries, and the birth date in the number."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.domain import dependants
from chalicelib.domain.dependants import Group, NotEligible, group_of
from chalicelib.domain.documents import DocumentType, parse
from tests import people

pytestmark = pytest.mark.fast
TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize("born, group", [
    (dt.date(2012, 12, 1), Group.CHILD),       # 13 until tomorrow
    (dt.date(2012, 11, 30), None),             # 14 today
    (dt.date(1966, 12, 1), None),              # 59 until tomorrow
    (dt.date(1966, 11, 30), Group.ELDERLY),    # 60 today
    (dt.date(2026, 11, 30), Group.CHILD),      # born today
])
def test_a_dependant_is_under_14_or_60_and_over_on_the_day(born, group):
    document = parse(DocumentType.PASSPORT, "E12345678", "GBR")      # no birth date in the number
    if group is None:
        with pytest.raises(NotEligible) as refused:
            group_of(document, born, TODAY)
        assert refused.value.field == "birth_date"
    else:
        assert group_of(document, born, TODAY) is group


def test_the_birth_date_must_be_the_one_in_the_number_where_there_is_one():
    born = dt.date(2019, 3, 4)
    for kind, number in ((DocumentType.RESIDENT_ID, people.id_number(born=born)),
                         (DocumentType.HMT_RESIDENCE_PERMIT, people.residence_permit("820000", born))):
        document = parse(kind, number)
        assert group_of(document, born, TODAY) is Group.CHILD
        with pytest.raises(NotEligible, match="does not match"):
            group_of(document, born + dt.timedelta(days=1), TODAY)


def test_a_birth_date_in_the_future_is_refused():
    with pytest.raises(NotEligible, match="future"):
        group_of(parse(DocumentType.TAIWAN_TRAVEL_PERMIT, "01234567"), TODAY + dt.timedelta(days=1), TODAY)


# each refusal's field and whole message: the API returns them (422, the field named), so they are pinned here once
@pytest.mark.parametrize(("number", "born", "says"), [
    ("510104200002293589", dt.date(2000, 2, 28), "does not match the birth date in the document's number"),
    (None, TODAY + dt.timedelta(days=1), "is in the future"),
    (None, dt.date(1996, 11, 30), "a dependant is a child under 14 or a person of 60 or more; at 30 they hold their "
                                  "own code"),
])
def test_a_refused_dependant_names_the_birth_date_and_says_why(number, born, says):
    document = parse(DocumentType.RESIDENT_ID, number) if number else parse(DocumentType.TAIWAN_TRAVEL_PERMIT,
                                                                           "01234567")
    with pytest.raises(NotEligible) as refused:
        group_of(document, born, TODAY)
    assert (refused.value.field, str(refused.value)) == ("birth_date", says)


def test_the_limits_are_the_documented_ones():
    assert (dependants.MAX_DEPENDANTS, dependants.MAX_GUARDIANS, dependants.CHILD_UNDER, dependants.ELDERLY_FROM) \
        == (5, 2, 14, 60)
