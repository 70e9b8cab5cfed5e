"""Who may be added as a dependant, and by how many (docs/identity.md#family-members).

A guardian adds a child under 14 or an elderly relative of 60 or more (the age at which the Law on the
Protection of the Rights and Interests of the Elderly counts a person as elderly); a person between is
expected to hold their own code. A guardian holds at most MAX_DEPENDANTS, and a dependant has at most
MAX_GUARDIANS: Hubei withdrew proxy applications in 2020 because the identities entered were wrong, so the
numbers are small, and the stated birth date must agree with the document where the number carries one.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum

from chalicelib.domain.documents import Document, DocumentType

CHILD_UNDER = 14
ELDERLY_FROM = 60
MAX_DEPENDANTS = 5
MAX_GUARDIANS = 2

# documents whose number carries the holder's birth date as digits 7-14 (GB 11643)
BIRTH_DATE_IN_NUMBER = (DocumentType.RESIDENT_ID, DocumentType.HMT_RESIDENCE_PERMIT)


class Relationship(str, Enum):
    """What the dependant is to the guardian."""
    CHILD = "child"
    GRANDCHILD = "grandchild"
    PARENT = "parent"
    GRANDPARENT = "grandparent"
    PARENT_IN_LAW = "parent_in_law"
    OTHER_RELATIVE = "other_relative"


class Group(str, Enum):
    CHILD = "child"
    ELDERLY = "elderly"


class NotEligible(ValueError):
    """`field` is the request's field the refusal names."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def group_of(document: Document, born: dt.date, today: dt.date) -> Group:
    """The dependant's group; raises NotEligible when the birth date contradicts the document, lies in the future,
    or makes the person neither a child nor elderly."""
    if document.kind in BIRTH_DATE_IN_NUMBER and document.number[6:14] != born.strftime("%Y%m%d"):
        raise NotEligible("birth_date", "does not match the birth date in the document's number")
    if born > today:
        raise NotEligible("birth_date", "is in the future")
    age = age_on(born, today)
    if age < CHILD_UNDER:
        return Group.CHILD
    if age >= ELDERLY_FROM:
        return Group.ELDERLY
    raise NotEligible("birth_date", f"a dependant is a child under {CHILD_UNDER} or a person of {ELDERLY_FROM} or "
                                    f"more; at {age} they hold their own code")
