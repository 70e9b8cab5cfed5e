"""'I want to correct an error' (GB/T 38963: error correction), and the citizen's own history."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib import errors
from chalicelib.api.fields import NoIdNumber
from chalicelib.api.routes import route
from chalicelib.domain import limits
from chalicelib.domain.colors import Color
from chalicelib.domain.corrections import CORRECTABLE
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import corrections

bp = Blueprint(__name__)
# Reviewers: a province's health authority reviews what its province owns, a national authority what national
# statuses own (docs/corrections.md).
Source = Literal["declaration", "medical_status", "area", "exposure", "checkin", "local_code"]
assert sorted(Source.__args__) == sorted(CORRECTABLE)  # type: ignore[attr-defined]  # a Literal's members, at run time


class CorrectionRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    source: Source = Field(description="The `source` of the reason that is wrong, as GET /v1/me/risk shows it")
    reason_code: str = Field(min_length=1, max_length=64, description="The reason's `code` from GET /v1/me/risk")
    description: Annotated[str, Field(min_length=5, max_length=500, description="What is wrong"), NoIdNumber]
    evidence: Annotated[str, Field(max_length=2000), NoIdNumber] | None = Field(
        default=None, description="Optional supporting text")
    ref: str | None = Field(default=None, max_length=16,
                            description="The reason's `ref`, needed only when GET /v1/me/risk shows the same "
                                        "source and code about several things (two areas, say)")


class DecisionRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    decision: Literal["approve", "reject"]
    reason: Annotated[str, Field(min_length=2, max_length=500, description="Shown to the citizen"), NoIdNumber]
    period_days: int | None = Field(default=None, ge=1, le=30, description="How long an approval lifts the source")
    override_color: Color | None = Field(default=None, description="Replace the lifted reasons with this color")

    @model_validator(mode="after")
    def _approval_only(self) -> DecisionRequest:
        if self.decision == "reject" and (self.period_days is not None or self.override_color is not None):
            raise ValueError("period_days: only an approval has a period or an override color")
        return self


class ListQuery(Model):
    model_config = ConfigDict(extra="forbid")
    status: Literal["pending", "approved", "rejected"] | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


REVIEWERS = [Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY]


@route(bp, "/v1/corrections", methods=["POST"], roles=[Role.CITIZEN], body=CorrectionRequest,
       responds={200: "Correction", 201: "Correction"}, idempotent="correction",
       limits=[limits.CORRECTIONS_PER_PERSON],
       errors=[errors.NO_CODE, errors.TOO_MANY_OPEN_CORRECTIONS, errors.CONCURRENT_UPDATE])
def file_correction(caller: Principal, body: CorrectionRequest) -> tuple[int, dict[str, Any]]:
    """Ask for a reason of my code to be corrected (201), or find the open request about it (200)"""
    return corrections.file(caller, body.source, body.reason_code, body.description, body.evidence, body.ref)


@route(bp, "/v1/corrections", methods=["GET"], roles=[Role.CITIZEN, *REVIEWERS], query=ListQuery,
       responds={200: "CorrectionPage"})
def list_corrections(caller: Principal, query: ListQuery) -> dict[str, Any]:
    """Citizens: their own requests, newest first. Reviewers: their province's queue, oldest first."""
    if caller.role is Role.CITIZEN:
        return corrections.mine(caller, query.limit, query.cursor)
    return corrections.review_queue(caller, query.status or "pending", query.limit, query.cursor)


@route(bp, "/v1/corrections/{correction_id}", methods=["GET"], roles=REVIEWERS, responds={200: "Correction"})
def read_correction(correction_id: str, caller: Principal) -> dict[str, Any]:
    """A correction request in my queue"""
    return corrections.public(corrections.reviewable(caller, correction_id))


@route(bp, "/v1/corrections/{correction_id}/decision", methods=["POST"], roles=REVIEWERS, body=DecisionRequest,
       responds={200: "DecidedCorrection"}, errors=[errors.ALREADY_DECIDED, errors.CONCURRENT_UPDATE])
def decide(correction_id: str, caller: Principal, body: DecisionRequest) -> dict[str, Any]:
    """Approve or reject a correction request, once"""
    return corrections.decide(caller, correction_id, body.decision == "approve", body.reason, body.period_days,
                              body.override_color)


@route(bp, "/v1/corrections/{correction_id}/history", methods=["GET"], roles=REVIEWERS, responds={200: "History"})
def history_for_review(correction_id: str, caller: Principal) -> dict[str, Any]:
    """The trail of the person whose request a reviewer is deciding."""
    return corrections.history_for_review(caller, correction_id, limit=100)


@route(bp, "/v1/me/history", methods=["GET"], roles=[Role.CITIZEN], query=ListQuery, responds={200: "History"},
       tags=["health information query"])
def my_history(caller: Principal, query: ListQuery) -> dict[str, Any]:
    """The history of my code's color and reasons"""
    return corrections.history(caller.subject, query.limit, query.cursor)
