"""Citizens apply for a code, read it, and fetch its QR (GB/T 38963: health declaration, code generation)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field, model_validator

from chalicelib import errors
from chalicelib.api.http import NO_STORE
from chalicelib.api.routes import route
from chalicelib.domain import limits
from chalicelib.domain.declaration import Declaration
from chalicelib.errors import ValidationFailed
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import codes

bp = Blueprint(__name__)
FORMATS = ("text", "svg", "png")


@route(bp, "/v1/codes", methods=["POST"], roles=[Role.CITIZEN], body=Declaration,
       responds={200: "HealthCode", 201: "HealthCode"}, idempotent="apply", limits=[limits.APPLIES_PER_PERSON],
       errors=[errors.CONCURRENT_UPDATE, errors.EMERGENCY_ENDED],
       tags=["health declaration", "code generation"], acting_for=True,
       example={"temperature": 36.5, "symptoms": [], "contact_with_cases": False, "stayed_in_high_risk_area": False,
                "current_area": "510104"})
def apply(caller: Principal, body: Declaration) -> tuple[int, dict[str, Any]]:
    """Apply for a health code with a health declaration (201 the first time, 200 for an update)"""
    code = codes.apply(caller, body)
    return (201 if code["version"] == 1 else 200), code


@route(bp, "/v1/codes/me", methods=["GET"], roles=[Role.CITIZEN], responds={200: "HealthCode"},
       errors=[errors.NO_CODE], tags=["health information query"], acting_for=True)
def my_code(caller: Principal) -> dict[str, Any]:
    """My health code: live color and every live reason"""
    return codes.mine(caller)


class QrQuery(Model):
    model_config = ConfigDict(extra="forbid")
    format: str = Field("text", json_schema_extra={"enum": list(FORMATS)})

    @model_validator(mode="after")
    def _known(self) -> QrQuery:
        # the refusal names the choices in its message too; an after-validator runs once the query is otherwise
        # valid, as the check in the view did, and pydantic passes an ApiError through as it is
        if self.format not in FORMATS:
            raise ValidationFailed("format must be text, svg or png.",
                                   [{"field": "format", "message": "must be text, svg or png", "type": "enum"}])
        return self


@route(bp, "/v1/codes/me/qr", methods=["GET"], roles=[Role.CITIZEN], query=QrQuery,
       responds={200: {"application/json": "QrToken", "image/svg+xml": {"type": "string"},
                       "image/png": {"type": "string", "contentMediaType": "image/png"}}},
       limits=[limits.QR_TOKENS_PER_PERSON], errors=[errors.BAD_REQUEST, errors.NO_CODE, errors.CODE_REVOKED,
               errors.EMERGENCY_ENDED],
       tags=["code generation"], acting_for=True)
def my_qr(caller: Principal, query: QrQuery) -> Any:
    """A fresh QR token for my code, valid for a few minutes; `format=svg` or `format=png` (with
    `Accept: image/png`) renders it"""
    issued = codes.qr_token(caller)
    if query.format == "text":
        return issued
    from chalicelib.services import qr_images  # rendering is never on the verify path

    image, content_type = qr_images.render(issued["token"], issued["color"], query.format)
    headers = {"Content-Type": content_type, **NO_STORE, "X-Code-Color": issued["color"],
               "X-Token-Expires-At": str(issued["expires_at"])}
    return Response(body=image, status_code=200, headers=headers)
