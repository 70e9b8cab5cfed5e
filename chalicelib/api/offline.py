"""Offline checkpoints: their queued scans uploaded in batches, and the provinces' trust list they cache.

A blueprint of its own, on the API handler, so that the verify function's cold path (POST /v1/verifications)
imports none of it (chalicelib/functions.py, tests/test_function_loads.py).
"""
from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field

from chalicelib.api.fields import LocalIdentifier, ScanKey
from chalicelib.api.http import JSON
from chalicelib.api.routes import Batch, route
from chalicelib.domain import limits
from chalicelib.domain.colors import Color
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import offline_scans, trust_list

bp = Blueprint(__name__)
BATCH_BODY_BYTES = 512 * 1024   # 200 scans of a 2,048-character token and the rest


class QueuedScan(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    scan_key: Annotated[ScanKey, Field(description="A UUID the device made when it scanned: the same scan keeps it on "
                                                   "every upload, and on its online verification if it had one")]
    token: str = Field(min_length=1, max_length=2048,
                       description="The scanned token: a QR token, a province's token, or a paper code's (kid `pc1`)")
    checkpoint_id: Annotated[LocalIdentifier, Field(description="Which gate or lane scanned it")]
    temperature: float | None = Field(default=None, ge=30.0, le=45.0, description="Measured temperature, °C")
    scanned_at: int = Field(ge=0, le=4102444800, description=(
        "When it was scanned, epoch seconds (device clock): at most 24 h old, at most 120 s ahead of the platform's "
        "clock"))
    offline_color: Color | None = Field(default=None, description="The color the device showed (the token's `c`)")

    def as_scan(self) -> offline_scans.OfflineScan:
        shown = None if self.offline_color is None else self.offline_color.value
        return offline_scans.OfflineScan(self.scan_key, self.token, self.checkpoint_id, self.temperature,
                                         self.scanned_at, shown)


class QueuedScans(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    scans: list[QueuedScan] = Field(min_length=1, max_length=offline_scans.MAX_SCANS)


@route(bp, "/v1/verifications/batch", methods=["POST"], roles=[Role.CHECKPOINT], body=QueuedScans,
       max_body=BATCH_BODY_BYTES, responds={200: "OfflineScanResults"},
       limits=[Batch(limits.VERIFICATIONS_PER_CHECKPOINT, lambda batch: len(batch.scans))],
       tags=["code verification"],
       example={"scans": [{"scan_key": "0b6f3f4e-5d1c-4a5e-9c55-2f0b8d3c1a77",
                           "token": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln", "checkpoint_id": "gate-3",
                           "temperature": 36.6, "scanned_at": 1795841222, "offline_color": "green"}]})
def upload(caller: Principal, body: QueuedScans) -> dict[str, Any]:
    """Upload scans verified offline: each verified as of its `scanned_at`, recorded once per `scan_key`"""
    return offline_scans.upload(caller, [s.as_scan() for s in body.scans])


@route(bp, "/.well-known/province-keys.json", methods=["GET"], responds={200: "ProvinceTrustList"},
       tags=["code verification"])
def province_keys() -> Response:
    """Every province's registered public keys, with each key's status and validity, for offline verification"""
    return Response(body=trust_list.build(), status_code=200,
                    headers={"Content-Type": JSON, "Cache-Control": f"public, max-age={trust_list.MAX_AGE_SECONDS}"})
