"""Citizens apply for a code, read it, and fetch its QR (GB/T 38963: health declaration, code generation)."""
from __future__ import annotations

from chalice import Blueprint, Response
from pydantic import ConfigDict

from chalicelib.api.http import NO_STORE, body, ok, principal, query, raw_body, route
from chalicelib.domain import limits
from chalicelib.domain.declaration import Declaration
from chalicelib.errors import ValidationFailed
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import codes, idempotency, throttle

bp = Blueprint(__name__)


@route(bp, "/v1/codes", methods=["POST"])
def apply():
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    declaration = body(request, Declaration)
    throttle.check(limits.APPLIES_PER_PERSON, caller.subject)

    def action() -> tuple[int, dict]:
        code = codes.apply(caller, declaration)
        return (201 if code["version"] == 1 else 200), code

    outcome = idempotency.run(caller.subject, "apply", request.headers.get("idempotency-key"),
                              raw_body(request), action)
    return ok(outcome.body, outcome.status, {"Idempotent-Replayed": "true"} if outcome.replayed else None)


@route(bp, "/v1/codes/me", methods=["GET"])
def my_code():
    return ok(codes.mine(principal(bp.current_request, Role.CITIZEN)))


class QrQuery(Model):
    model_config = ConfigDict(extra="forbid")
    format: str = "text"


@route(bp, "/v1/codes/me/qr", methods=["GET"])
def my_qr():
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    fmt = query(request, QrQuery).format
    if fmt not in ("text", "svg", "png"):
        raise ValidationFailed("format must be text, svg or png.",
                               [{"field": "format", "message": "must be text, svg or png", "type": "enum"}])
    throttle.check(limits.QR_TOKENS_PER_PERSON, caller.subject)
    issued = codes.qr_token(caller)
    if fmt == "text":
        return ok(issued)
    from chalicelib.services import qr_images  # rendering is never on the verify path

    image, content_type = qr_images.render(issued["token"], issued["color"], fmt)
    headers = {"Content-Type": content_type, **NO_STORE, "X-Code-Color": issued["color"],
               "X-Token-Expires-At": str(issued["expires_at"])}
    return Response(body=image, status_code=200, headers=headers)
