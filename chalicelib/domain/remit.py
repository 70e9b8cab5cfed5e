"""Whose business a person is: a health authority acts on people connected to its province, or says why.

A province's health authority may set a medical status on someone who, in the 14-day window, declared
an area in the province, stayed, checked in or travelled there, or holds one of its local codes. For
anyone else it must state a basis (it diagnosed them, say); the basis is kept in the person's access
log, which they can read. A national-level authority acts nationwide.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Connection(str, Enum):
    """What the platform itself knows that ties a person to a province."""
    DECLARED_AREA = "declared_area"      # the current area of their latest declaration
    STAY = "stay"                        # a trip's origin or destination, or a check-in, in the window
    LOCAL_CODE = "local_code"            # they hold the province's local code
    NATIONAL = "national"                # a national-level authority: every person is its business


class BasisKind(str, Enum):
    """What an authority states when the platform knows no connection (docs/provinces.md)."""
    DIAGNOSED_HERE = "diagnosed_here"            # tested or diagnosed by an institution of the province
    TREATED_HERE = "treated_here"                # in care or isolation in the province
    TRACED_HERE = "traced_here"                  # found by the province's contact tracing
    RESIDENT_HERE = "resident_here"              # lives or works in the province
    OTHER = "other"                              # anything else; the note must say what


@dataclass(frozen=True)
class Basis:
    """Why an act on a person is within the actor's remit: a connection the platform found, or what the actor
    stated (kind and note), or both."""
    connection: Connection | None = None
    stated: BasisKind | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"connection": self.connection.value if self.connection else None,
                "stated": self.stated.value if self.stated else None, "note": self.note}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Basis:
        connection, stated = data.get("connection"), data.get("stated")
        return cls(Connection(connection) if connection else None, BasisKind(stated) if stated else None,
                   data.get("note"))


def connection(province: str, declared_area: str | None, stay_areas: Iterable[str],
               local_code_provinces: Iterable[str]) -> Connection | None:
    """The first thing that ties the person to the province, or None."""
    if declared_area and declared_area[:2] == province:
        return Connection.DECLARED_AREA
    if any(area[:2] == province for area in stay_areas):
        return Connection.STAY
    if province in set(local_code_provinces):
        return Connection.LOCAL_CODE
    return None


def basis(province: str | None, found: Connection | None, stated: BasisKind | None,
          note: str | None) -> Basis | None:
    """The basis for acting on a person, or None when there is none: `province` None is a national-level
    authority. A stated basis is kept beside a connection the platform found."""
    if province is None:
        return Basis(Connection.NATIONAL, stated, note)
    if found is None and stated is None:
        return None
    return Basis(found, stated, note)
