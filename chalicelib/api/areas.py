"""Area risk levels: public reads, health-authority writes inside their province."""
from __future__ import annotations

from chalice import Blueprint
from pydantic import ConfigDict, Field

from chalicelib.api.fields import Note
from chalicelib.api.http import body, ok, principal, route
from chalicelib.domain.areas import RiskLevel
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import areas

bp = Blueprint(__name__)


class LevelRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    level: RiskLevel
    effective_from: int | None = Field(default=None, description="Epoch seconds; default now; up to 14 days back")
    note: Note | None = None


@route(bp, "/v1/areas/{code}", methods=["GET"])
def get_area(code: str):
    return ok(areas.get(code), headers={"Cache-Control": "public, max-age=60"})


@route(bp, "/v1/areas/{code}", methods=["PUT"])
def set_area_level(code: str):
    request = bp.current_request
    caller = principal(request, Role.HEALTH_AUTHORITY)
    change = body(request, LevelRequest)
    return ok(areas.set_level(caller, code, change.level, change.effective_from, change.note))
