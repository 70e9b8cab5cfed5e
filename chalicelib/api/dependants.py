"""Family members: a guardian's dependants, and a dependant's guardians (docs/identity.md#family-members)."""
from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint
from pydantic import ConfigDict, Field

from chalicelib import errors
from chalicelib.api.fields import IsoDate, NamedPerson, PersonalName
from chalicelib.api.routes import PathParameter, route
from chalicelib.domain import identifiers, limits
from chalicelib.domain.dependants import Relationship
from chalicelib.security.access import Principal, Role
from chalicelib.services import guardians

bp = Blueprint(__name__)

DEPENDANT_ID = PathParameter(identifiers.CODE_ID.pattern, "The dependant's `dependant_id` (`GET /v1/me/dependants`); "
                                                          "any other value is `404 unknown_dependant`",
                             errors.UNKNOWN_DEPENDANT)
GUARDIAN_ID = PathParameter(identifiers.CODE_ID.pattern, "The guardian's `guardian_id` (`GET /v1/me/guardians`); any "
                                                         "other value is `404 unknown_guardian`",
                            errors.UNKNOWN_GUARDIAN)


class DependantRequest(NamedPerson):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Annotated[PersonalName, Field(description="As on the document; stored masked")]
    birth_date: IsoDate = Field(description="YYYY-MM-DD; must agree with the number where it carries one")
    relationship: Relationship = Field(description="What the dependant is to you")


@route(bp, "/v1/me/dependants", methods=["POST"], roles=[Role.CITIZEN], body=DependantRequest,
       responds={201: "Dependant"}, idempotent="dependant", limits=[limits.DEPENDANTS_PER_PERSON],
       errors=[errors.TOO_MANY_DEPENDANTS, errors.TOO_MANY_GUARDIANS, errors.ALREADY_LINKED],
       example={"name": "王小宝", "id_number": "110101201801010013", "birth_date": "2018-01-01",
                "relationship": "child"})
def add_dependant(caller: Principal, body: DependantRequest) -> dict[str, Any]:
    """Add a dependant: a child under 14 or a relative of 60 or more (at most 5; a dependant has at most 2 guardians)

    Written to the dependant's access log with the addition."""
    return guardians.add(caller, body.document(), body.name, body.relationship, body.birth_date)


@route(bp, "/v1/me/dependants", methods=["GET"], roles=[Role.CITIZEN], responds={200: "Dependants"})
def my_dependants(caller: Principal) -> dict[str, Any]:
    """The dependants I act for"""
    return guardians.of_guardian(caller)


@route(bp, "/v1/me/dependants/{dependant_id}", methods=["DELETE"], roles=[Role.CITIZEN], responds={204: None},
       path_parameters={"dependant_id": DEPENDANT_ID})
def remove_dependant(caller: Principal, dependant_id: str) -> None:
    """Stop acting for a dependant (written to their access log)"""
    guardians.remove(caller, dependant_id)


@route(bp, "/v1/me/guardians", methods=["GET"], roles=[Role.CITIZEN], responds={200: "Guardians"})
def my_guardians(caller: Principal) -> dict[str, Any]:
    """Who holds my code as a guardian, or did until I took it back; what they did is in my access log"""
    return guardians.of_dependant(caller)


@route(bp, "/v1/me/guardians/{guardian_id}", methods=["DELETE"], roles=[Role.CITIZEN], responds={200: "Guardian"},
       path_parameters={"guardian_id": GUARDIAN_ID})
def take_back(caller: Principal, guardian_id: str) -> dict[str, Any]:
    """Take my code back from a guardian: they can no longer act for me, nor add me again"""
    return guardians.take_back(caller, guardian_id)
