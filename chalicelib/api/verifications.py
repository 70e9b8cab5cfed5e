"""Checkpoints verify scanned codes (GB/T 38963: code verification)."""
from __future__ import annotations

from typing import Annotated

from chalice import Blueprint
from pydantic import ConfigDict, Field

from chalicelib.api.fields import LocalIdentifier
from chalicelib.api.http import body, ok, principal, route
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import verifications

bp = Blueprint(__name__)


class VerificationRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    token: str = Field(min_length=1, max_length=4096, description="The scanned QR token")
    checkpoint_id: Annotated[LocalIdentifier, Field(description="Which gate or lane scanned it")]
    temperature: float | None = Field(default=None, ge=30.0, le=45.0, description="Measured temperature, °C")


@route(bp, "/v1/verifications", methods=["POST"])
def verify():
    request = bp.current_request
    caller = principal(request, Role.CHECKPOINT)
    scan = body(request, VerificationRequest)
    return ok(verifications.verify(caller, scan.token, scan.checkpoint_id, scan.temperature))
