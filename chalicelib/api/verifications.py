"""Checkpoints verify scanned codes (GB/T 38963: code verification)."""
from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint
from pydantic import ConfigDict, Field

from chalicelib.api.fields import LocalIdentifier, ScanKey
from chalicelib.api.routes import Below, route
from chalicelib.domain import limits
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import verifications

bp = Blueprint(__name__)


class VerificationRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    token: str = Field(min_length=1, max_length=4096, description="The scanned QR token")
    checkpoint_id: Annotated[LocalIdentifier, Field(description="Which gate or lane scanned it")]
    temperature: float | None = Field(default=None, ge=30.0, le=45.0, description="Measured temperature, °C")
    scan_key: Annotated[ScanKey | None, Field(description=(
        "A UUID the device made for this scan. Send the same one if the scan also goes to its offline queue "
        "(the answer came too late): the scan is then one row whichever path records it first"))] = None


# The checkpoint's limit is counted in the service, in the container, so that the verify path stays one DynamoDB
# round trip (services/verifications.py, docs/limits.md).
@route(bp, "/v1/verifications", methods=["POST"], roles=[Role.CHECKPOINT], body=VerificationRequest,
       responds={200: {"oneOf": ["VerificationAccepted", "VerificationRefused"]}},
       limits=[Below(limits.VERIFICATIONS_PER_CHECKPOINT)], tags=["code verification"],
       example={"token": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln", "checkpoint_id": "gate-3",
                "temperature": 36.6})
def verify(caller: Principal, body: VerificationRequest) -> dict[str, Any]:
    """Verify a scanned QR token; a refusal is `valid: false` with a reason, not an error"""
    return verifications.verify(caller, body.token, body.checkpoint_id, body.temperature,
                                body.scan_key)
