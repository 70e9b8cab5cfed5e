"""Health authorities set a person's medical status; citizens read their risk prompt and cities."""
from __future__ import annotations

from chalice import Blueprint
from pydantic import ConfigDict, Field

from chalicelib.api.fields import IdNumber, Note
from chalicelib.api.http import body, ok, principal, query, route
from chalicelib.domain.medical import MedicalStatus
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import citizen_views, health_status, sync

bp = Blueprint(__name__)


class PageQuery(Model):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


class HealthStatusRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    id_number: IdNumber
    status: MedicalStatus
    note: Note | None = None


@route(bp, "/v1/health-statuses", methods=["POST"])
def set_health_status():
    request = bp.current_request
    caller = principal(request, Role.HEALTH_AUTHORITY)
    change = body(request, HealthStatusRequest)
    return ok(health_status.set_status(caller, change.id_number, change.status, change.note), 201)


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
