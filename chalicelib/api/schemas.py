"""Response bodies as pydantic models, for the OpenAPI document only (chalicelib/api/openapi.py).

Views build their bodies as dicts in the services; these models describe the stable ones so the
document can give clients (and schemathesis) a schema to hold responses to. Success bodies allow
properties beyond the listed ones (adding a field is not a breaking change); the error envelope is
closed, as it is one shape everywhere (docs/errors.md).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.domain.colors import Color
from chalicelib.models import Model

Epoch = int


class ErrorBody(Model):
    model_config = ConfigDict(extra="forbid", title="ErrorBody")
    code: str = Field(description="Stable machine code, catalogued in docs/errors.md")
    message: str = Field(description="Human-readable; never carries personal data or a stack trace")
    details: list[dict[str, Any]] = Field(description="e.g. one {field, message, type} per invalid field")


class Error(Model):
    """Every refusal: `{"error": {"code", "message", "details"}}`."""
    model_config = ConfigDict(extra="forbid")
    error: ErrorBody


class CitizenSession(Model):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds")
    name_masked: str = Field(description="e.g. 王*明")
    id_last4: str


class ClientToken(Model):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds")
    scope: str = Field(description="The client's role: checkpoint, province, health_authority or ops")


class CodeReason(Model):
    source: str = Field(description="declaration, medical_status, local_code, trip, checkin, exposure, area, "
                                    "correction ...")
    code: str = Field(description="Stable machine code, e.g. declared_fever")
    color: Color
    message: str = Field(description="Plain Chinese a mini-program can show as is")
    message_en: str
    since: Epoch
    until: Epoch | None = Field(description="Exclusive; null until a source lifts it")
    ref: str | None = Field(default=None, description="What the reason is about, which also names who reviews "
                                                          "a correction of it (docs/corrections.md): the GB/T 2260 "
                                                          "area of a stay, check-in or declaration; the province "
                                                          "(or `national`) that set a status or pushed a local "
                                                          "code; the province that published an exposure")


class HealthCode(Model):
    code_id: str = Field(description="Opaque; never derived visibly from the ID number")
    color: Color
    reasons: list[CodeReason] = Field(description="Live reasons, most severe first")
    status: str = Field(description="active, or revoked")
    name_masked: str
    id_last4: str
    declared_at: Epoch | None
    updated_at: Epoch
    next_change_at: Epoch | None = Field(description="When the color may next change on its own")
    version: int


class QrToken(Model):
    token: str = Field(description="A signed token (ES256 JWS) valid for a few minutes; see /.well-known/jwks.json")
    expires_at: Epoch
    color: Color
    name_masked: str


class VerificationAccepted(Model):
    valid: Literal[True]
    color: Color
    name_masked: str | None
    id_last4: str
    fever: bool = Field(description="The measured temperature is 37.3 °C or above")
    checked_at: Epoch
    scan_id: str
    issuer: str = Field(description="`national`, or `province:NN` for a province's own token (mutual recognition)")


class VerificationRefused(Model):
    valid: Literal[False]
    reason: str = Field(description="malformed, bad_signature, unknown_key, expired, unknown_code, revoked, ... "
                                    "(docs/errors.md)")
    message: str
    checked_at: Epoch


class Trip(Model):
    model_config = ConfigDict(populate_by_name=True)
    trip_id: str
    date: dt.date
    origin: str = Field(alias="from", description="GB/T 2260 code")
    destination: str = Field(alias="to", description="GB/T 2260 code")
    mode: str
    number: str | None
    seat: str | None
    carriage: int | None
    declared_at: Epoch


class TripPage(Model):
    trips: list[Trip]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class CheckIn(Model):
    date: dt.date
    area: str
    temperature: float
    symptoms: list[str]
    at: Epoch

