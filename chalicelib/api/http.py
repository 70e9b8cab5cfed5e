"""Request parsing and response shaping shared by every blueprint.

Declared routes (chalicelib/api/routes.py) authorise with `principal`, read with `body` and `query`, and answer
with `ok`. Domain errors become the one error shape here; Chalice's own refusals (405, 415, 500) are rewritten
by `error_middleware`.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib import errors
from chalicelib.errors import (
    ApiError,
    MalformedRequest,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.models import validation_details
from chalicelib.security import access
from chalicelib.security.access import Principal, Role
from chalicelib.settings import get_settings

log = logging.getLogger("healthcode.api")
M = TypeVar("M", bound=BaseModel)
JSON = "application/json"
NO_STORE = {"Cache-Control": "no-store"}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details if details is not None else []}}


RETRY_AFTER_SECONDS = "1"


def error_response(error: ApiError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": JSON, **NO_STORE}
    if error.status == 401:
        headers["WWW-Authenticate"] = getattr(error, "challenge", Unauthenticated.challenge)
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    elif error.status == 503:
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    return Response(body=error_body(error.code, error.message, error.details), status_code=error.status,
                    headers=headers)


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": JSON, **NO_STORE, **(headers or {})})


def principal(request: Request, *roles: Role) -> Principal:
    return access.require(request.headers.get("authorization"), *roles)


def source_address(request: Request) -> str:
    """The caller's address as API Gateway saw the connection (not a header the caller could set)."""
    return (request.context or {}).get("identity", {}).get("sourceIp") or "unknown"


def raw_body(request: Request, limit: int | None = None) -> bytes:
    raw = request.raw_body or b""
    if isinstance(raw, str):      # chalice types it str | bytes; API Gateway's base64 bodies arrive decoded as bytes
        raw = raw.encode()
    limit = limit or get_settings().max_body_bytes
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.", details=[{"limit_bytes": limit}])
    return raw


def parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as exc:
        kinds = {e["type"] for e in exc.errors()}
        if "json_invalid" in kinds:
            raise MalformedRequest("The body is not valid JSON.") from None
        if "model_type" in kinds and not raw.strip().startswith(b"{"):
            raise MalformedRequest("The body must be a JSON object.") from None
        raise ValidationFailed("The request has invalid fields.", validation_details(exc, model)) from None


def media_type(request: Request) -> str | None:
    """The declared media type, without parameters; None when the request declares none."""
    declared = request.headers.get("content-type")
    return declared.split(";")[0].strip().lower() if declared is not None else None


def body(request: Request, model: type[M], limit: int | None = None) -> M:
    # a body with no Content-Type is refused, not taken for JSON: the client did not say what it sent
    if media_type(request) != JSON:
        raise UnsupportedMediaType("Send the body as application/json, with Content-Type: application/json.")
    return parse(model, raw_body(request, limit))


def query(request: Request, model: type[M]) -> M:
    params: dict[str, str] = dict(request.query_params or {})
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        raise ValidationFailed("The query has invalid parameters.", validation_details(exc, model)) from None


# Chalice's own refusals (its error `Code`s), as the registered codes they are answered with
CHALICE_CODES = {"MethodNotAllowedError": errors.METHOD_NOT_ALLOWED,
                 "UnsupportedMediaType": errors.UNSUPPORTED_MEDIA_TYPE, "BadRequest": errors.BAD_REQUEST,
                 "InternalServerError": errors.INTERNAL_ERROR, "NotFoundError": errors.NOT_FOUND}
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def error_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Rewrite Chalice's own error bodies into ours and never leak a stack trace."""
    try:
        response = get_response(event)
    except Exception:  # pragma: no cover - Chalice already turns view errors into 500s
        log.exception("unhandled error")
        return Response(body=error_body(errors.INTERNAL_ERROR.code, "An internal error occurred."), status_code=500,
                        headers={"Content-Type": JSON})
    payload = response.body
    if isinstance(payload, dict) and set(payload) == {"Code", "Message"}:
        known = CHALICE_CODES.get(payload["Code"])
        code = known.code if known else _SNAKE.sub("_", payload["Code"]).lower()
        message = payload["Message"] if response.status_code < 500 else "An internal error occurred."
        response.body = error_body(code, message)
        response.headers = {**response.headers, "Content-Type": JSON}
    return response


def dump(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
