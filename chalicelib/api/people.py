"""Health authorities set a person's medical status; citizens read their risk prompt and cities."""
from __future__ import annotations

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.fields import IdNumber, Note
from chalicelib.api.http import body, ok, principal, query, route
from chalicelib.domain.medical import MedicalStatus
from chalicelib.domain.remit import BasisKind
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import access_log, citizen_views, health_status, sync

bp = Blueprint(__name__)


class PageQuery(Model):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


class StatedBasis(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: BasisKind = Field(description="Why the person is your province's business when the platform knows no "
                                        "connection (docs/provinces.md#medical-statuses)")
    note: Note | None = Field(default=None, description="Required when kind is `other`")

    @model_validator(mode="after")
    def _other_says_what(self) -> StatedBasis:
        if self.kind is BasisKind.OTHER and not (self.note or "").strip():
            raise ValueError("a basis of kind `other` needs a note saying what it is")
        return self


class HealthStatusRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    id_number: IdNumber
    status: MedicalStatus
    note: Note | None = None
    basis: StatedBasis | None = None


@route(bp, "/v1/health-statuses", methods=["POST"])
def set_health_status():
    request = bp.current_request
    caller = principal(request, Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY)
    change = body(request, HealthStatusRequest)
    stated = change.basis
    return ok(health_status.set_status(caller, change.id_number, change.status, change.note,
                                       stated.kind if stated else None, stated.note if stated else None), 201)


@route(bp, "/v1/me/risk", methods=["GET"])
def my_risk():
    return ok(citizen_views.risk_prompt(principal(bp.current_request, Role.CITIZEN)))


@route(bp, "/v1/me/cities", methods=["GET"])
def my_cities():
    return ok(citizen_views.cities(principal(bp.current_request, Role.CITIZEN)))


@route(bp, "/v1/me/local-codes", methods=["GET"])
def my_local_codes():
    return ok(sync.my_local_codes(principal(bp.current_request, Role.CITIZEN).subject))


@route(bp, "/v1/me/lookups", methods=["GET"])
def my_lookups():
    """Which provinces looked me up, when and why (the audit trail of cross-province look-ups)."""
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    params = query(request, PageQuery)
    return ok(sync.my_lookups(caller.subject, params.limit, params.cursor))


@route(bp, "/v1/me/access-log", methods=["GET"])
def my_access_log():
    """Every act on my data by anyone else: who, which province, when, what, on what basis, what they got."""
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    params = query(request, PageQuery)
    return ok(access_log.of_person(caller.subject, params.limit, params.cursor))
