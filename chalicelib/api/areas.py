"""Area risk levels: public reads, health-authority writes inside their province."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field

from chalicelib import errors
from chalicelib.api.fields import Note
from chalicelib.api.http import ok
from chalicelib.api.routes import AREA_CODE, route
from chalicelib.domain.areas import RiskLevel
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import areas

bp = Blueprint(__name__)


# A level a health authority (PUT /v1/areas/{code}) or ops (`ops areas seed`) sets for an area: here, not in
# domain/areas.py, which every code read (and so the verify function's cold start) imports. No docstring: it
# would become the schema's description in docs/openapi.json.
class LevelRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    level: RiskLevel
    effective_from: int | None = Field(default=None, description="Epoch seconds; default now; up to 14 days back")
    note: Note | None = None


@route(bp, "/v1/areas/{code}", methods=["GET"], responds={200: "Area"}, path_parameters={"code": AREA_CODE})
def get_area(code: str) -> Response:
    """An area's risk level"""
    return ok(areas.get(code), headers={"Cache-Control": "public, max-age=60"})


@route(bp, "/v1/areas/{code}", methods=["PUT"], roles=[Role.HEALTH_AUTHORITY], body=LevelRequest,
       responds={200: "Area"}, errors=[errors.OUTSIDE_PROVINCE, errors.CONCURRENT_UPDATE],
       path_parameters={"code": AREA_CODE}, example={"level": "medium"})
def set_area_level(code: str, caller: Principal, body: LevelRequest) -> dict[str, Any]:
    """Set an area's risk level (health authority of its province)"""
    return areas.set_level(caller, code, body.level, body.effective_from, body.note)
