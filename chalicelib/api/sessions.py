"""Log in: citizens at /v1/sessions, system clients at /v1/oauth/token (client credentials)."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Literal
from urllib.parse import parse_qs, unquote

from chalice import Blueprint
from chalice.app import Request
from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib import errors
from chalicelib.api.fields import NamedPerson, PersonalName
from chalicelib.api.http import raw_body
from chalicelib.api.routes import Below, route
from chalicelib.domain import limits, names
from chalicelib.errors import InvalidClient, MalformedRequest, UnsupportedMediaType, ValidationFailed
from chalicelib.models import Model
from chalicelib.security import identity
from chalicelib.services import sessions

bp = Blueprint(__name__)
FORM = "application/x-www-form-urlencoded"


class SelfAsserted(NamedPerson):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: PersonalName
    phone: str = Field(min_length=1, max_length=20)

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
    def _exactly_one(self) -> SessionRequest:
        if (self.assertion is None) == (self.self_asserted is None):
            raise ValueError("send exactly one of `assertion` or `self_asserted`")
        return self


# Log-ins per address are counted by the route, before the ID token's signature is checked: that is the work a
# flood would cost. Log-ins per person are counted once the identity is verified (services/sessions.py): the person
# is not known before.
@route(bp, "/v1/sessions", methods=["POST"], body=SessionRequest, responds={201: "CitizenSession"},
       limits=[limits.SESSIONS_PER_ADDRESS, Below(limits.SESSIONS_PER_PERSON)],
       errors=[errors.INVALID_ASSERTION, errors.IDP_NOT_CONFIGURED, errors.SELF_ASSERTION_DISABLED,
               errors.INVALID_ASSERTION_PERSON], tags=["code invocation application"],
       example={"self_asserted": {"name": "王小明", "id_number": "510104199001011230", "phone": "13800000000"}})
def create_session(body: SessionRequest) -> dict[str, Any]:
    """Log in as a citizen: an ID token from the identity provider, or (dev/test) a self-asserted identity"""
    if body.assertion is not None:
        who = identity.from_id_token(body.assertion)
    else:
        assert body.self_asserted is not None
        asserted = body.self_asserted
        who = identity.from_self_assertion(asserted.name, asserted.id_number, asserted.phone,
                                           asserted.document_type, asserted.nationality)
    return sessions.citizen_session(who)


class TokenRequest(Model):
    """RFC 6749 §4.4. Send the credentials as HTTP Basic (client_secret_basic) or as client_id and client_secret
    here (client_secret_post)."""
    grant_type: Literal["client_credentials"]
    client_id: str = ""
    client_secret: str = ""


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


def read_token_request(request: Request) -> TokenRequest:
    """The grant and the client's credentials, as OAuth 2.0 sends them: a form (or JSON) body, the credentials
    in it or in an HTTP Basic header."""
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
    return TokenRequest(grant_type="client_credentials", client_id=client_id, client_secret=secret)


# Tokens per client count only tokens issued, once the secret matched (services/sessions.py), so that no one
# else can use up a client's tokens; token requests per address count before the client is looked up.
@route(bp, "/v1/oauth/token", methods=["POST"], content_types=[FORM, "application/json"], body=TokenRequest,
       read_body=read_token_request, responds={200: "ClientToken"},
       limits=[limits.TOKENS_PER_ADDRESS, Below(limits.TOKENS_PER_CLIENT)],
       errors=[errors.INVALID_CLIENT, errors.UNSUPPORTED_GRANT_TYPE], tags=["code invocation application"],
       example={"grant_type": "client_credentials", "client_id": "ch_0123456789abcdef",
                "client_secret": "hcs_the-secret-ops-printed-once"})
def client_credentials_token(body: TokenRequest) -> dict[str, Any]:
    """OAuth 2.0 client credentials: a system client's access token"""
    return sessions.client_token(body.client_id, body.client_secret)
