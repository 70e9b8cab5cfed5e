"""Area risk levels: public reads, health-authority writes inside their province."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import body, ok, principal, route
from chalicelib.domain.areas import LevelRequest
from chalicelib.security.access import Role
from chalicelib.services import areas

bp = Blueprint(__name__)


@route(bp, "/v1/areas/{code}", methods=["GET"])
def get_area(code: str):
    return ok(areas.get(code), headers={"Cache-Control": "public, max-age=60"})


@route(bp, "/v1/areas/{code}", methods=["PUT"])
def set_area_level(code: str):
    request = bp.current_request
    caller = principal(request, Role.HEALTH_AUTHORITY)
    change = body(request, LevelRequest)
    return ok(areas.set_level(caller, code, change.level, change.effective_from, change.note))
