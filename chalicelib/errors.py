"""Domain errors, each carrying the HTTP status and the stable code clients act on.

They are mapped to `{"error": {"code", "message", "details"}}` in one place
(chalicelib/api/http.py). The catalogue of codes is docs/errors.md.
"""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "bad_request"
    retry_after: int | None = None   # seconds, sent as Retry-After

    def __init__(self, message: str, details: Any = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else []
        if code:
            self.code = code


class MalformedRequest(ApiError):
    status, code = 400, "malformed_request"


class ValidationFailed(ApiError):
    status, code = 422, "validation_failed"


class Unauthenticated(ApiError):
    status, code = 401, "unauthenticated"
    challenge = 'Bearer realm="healthcode"'   # WWW-Authenticate: how to authenticate instead


class InvalidClient(Unauthenticated):
    """A system client that failed to authenticate at the token endpoint. RFC 6749 §5.2: 401, with the
    challenge of the scheme the client authenticates with there (HTTP Basic)."""
    code = "invalid_client"
    challenge = 'Basic realm="healthcode"'


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class TooManyRequests(ApiError):
    """An abuse limit is spent (docs/limits.md) until its window ends, `retry_after` seconds from now."""
    status, code = 429, "too_many_requests"

    def __init__(self, message: str, retry_after: int, details: Any = None):
        super().__init__(message, details)
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"


def field_error(field: str, message: str, kind: str = "invalid") -> ValidationFailed:
    return ValidationFailed("The request has invalid fields.", [{"field": field, "message": message, "type": kind}])
