"""Log in: citizens at /v1/sessions, system clients at /v1/oauth/token (client credentials)."""
from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qs, unquote

from chalice import Blueprint
from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib import errors
from chalicelib.api.http import body, ok, raw_body, route, source_address
from chalicelib.domain import idnumber, limits, names
from chalicelib.errors import InvalidClient, MalformedRequest, UnsupportedMediaType, ValidationFailed
from chalicelib.models import Model
from chalicelib.security import identity
from chalicelib.services import sessions, throttle

bp = Blueprint(__name__)
FORM = "application/x-www-form-urlencoded"


class SelfAsserted(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=1, max_length=20)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not names.is_valid_name(value):
            raise ValueError("must be a personal name in Chinese characters or Latin letters")
        return value.strip()

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str) -> str:
        try:
            return idnumber.normalise(value)
        except idnumber.InvalidIdNumber as exc:
            raise ValueError(f"not a valid resident ID number: {exc}") from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if not names.is_valid_phone(value):
            raise ValueError("must be an 11-digit mainland mobile number")
        return value


class SessionRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    assertion: str | None = Field(default=None, min_length=10, max_length=8192,
                                  description="ID token from the identity provider (prod)")
    self_asserted: SelfAsserted | None = Field(default=None, description="dev/test stages only")

    @model_validator(mode="after")
    def _exactly_one(self) -> "SessionRequest":
        if (self.assertion is None) == (self.self_asserted is None):
            raise ValueError("send exactly one of `assertion` or `self_asserted`")
        return self


@route(bp, "/v1/sessions", methods=["POST"])
def create_session():
    request = body(bp.current_request, SessionRequest)
    # before the ID token's signature is checked: that is the work a flood would cost
    throttle.check(limits.SESSIONS_PER_ADDRESS, source_address(bp.current_request))
    if request.assertion is not None:
        who = identity.from_id_token(request.assertion)
    else:
        assert request.self_asserted is not None
        who = identity.from_self_assertion(request.self_asserted.name, request.self_asserted.id_number,
                                           request.self_asserted.phone)
    return ok(sessions.citizen_session(who), 201)


def _credentials_from_basic(header: str) -> tuple[str, str] | None:
    """(client id, secret) of an HTTP Basic header; None for no header or another scheme. A Basic header
    that cannot be read is a client that failed to authenticate: 401 invalid_client (RFC 6749 §5.2)."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidClient("The Basic credentials are not valid base64.") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("Basic credentials must be client_id:client_secret.")
    return unquote(client_id), unquote(secret)


@route(bp, "/v1/oauth/token", methods=["POST"], content_types=[FORM, "application/json"])
def client_credentials_token():
    request = bp.current_request
    raw = raw_body(request)
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == FORM:
        params = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    elif content_type == "application/json":
        try:
            params = json.loads(raw or b"{}")
        except (ValueError, RecursionError):  # RecursionError: deeply nested JSON well under the size limit
            raise MalformedRequest("The body is not valid JSON.") from None
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            raise MalformedRequest("The body must be a JSON object of strings.")
    else:
        raise UnsupportedMediaType(f"Send {FORM} as OAuth 2.0 asks.")
    if params.get("grant_type") != "client_credentials":
        raise ValidationFailed("Only grant_type=client_credentials is supported.", code=errors.UNSUPPORTED_GRANT_TYPE,
                               details=[{"field": "grant_type", "message": "must be client_credentials",
                                         "type": "value"}])
    credentials = _credentials_from_basic(request.headers.get("authorization", ""))
    client_id, secret = credentials or (params.get("client_id", ""), params.get("client_secret", ""))
    throttle.check(limits.TOKENS_PER_ADDRESS, source_address(request))
    return ok(sessions.client_token(client_id, secret))
