"""'I want to correct an error' (GB/T 38963: error correction), and the citizen's own history."""
from __future__ import annotations

from typing import Annotated, Literal

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.fields import NoIdNumber
from chalicelib.api.http import body, ok, principal, query, raw_body, route
from chalicelib.domain import limits
from chalicelib.domain.colors import Color
from chalicelib.domain.corrections import CORRECTABLE
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import corrections, idempotency, throttle

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


@route(bp, "/v1/corrections", methods=["POST"])
def file_correction():
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    asked = body(request, CorrectionRequest)
    throttle.check(limits.CORRECTIONS_PER_PERSON, caller.subject)
    outcome = idempotency.run(caller.subject, "correction", request.headers.get("idempotency-key"), raw_body(request),
                              lambda: corrections.file(caller, asked.source, asked.reason_code, asked.description,
                                                       asked.evidence, asked.ref))
    return ok(outcome.body, outcome.status, {"Idempotent-Replayed": "true"} if outcome.replayed else None)


@route(bp, "/v1/corrections", methods=["GET"])
def list_corrections():
    """Citizens: their own requests, newest first. Reviewers: their province's queue, oldest first."""
    request = bp.current_request
    caller = principal(request, Role.CITIZEN, Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY)
    params = query(request, ListQuery)
    if caller.role is Role.CITIZEN:
        return ok(corrections.mine(caller, params.limit, params.cursor))
    return ok(corrections.review_queue(caller, params.status or "pending", params.limit, params.cursor))


@route(bp, "/v1/corrections/{correction_id}", methods=["GET"])
def read_correction(correction_id: str):
    caller = principal(bp.current_request, Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY)
    return ok(corrections.public(corrections.reviewable(caller, correction_id)))


@route(bp, "/v1/corrections/{correction_id}/decision", methods=["POST"])
def decide(correction_id: str):
    request = bp.current_request
    caller = principal(request, Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY)
    decision = body(request, DecisionRequest)
    return ok(corrections.decide(caller, correction_id, decision.decision == "approve", decision.reason,
                                 decision.period_days, decision.override_color))


@route(bp, "/v1/corrections/{correction_id}/history", methods=["GET"])
def history_for_review(correction_id: str):
    """The trail of the person whose request a reviewer is deciding."""
    caller = principal(bp.current_request, Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY)
    return ok(corrections.history_for_review(caller, correction_id, limit=100))


@route(bp, "/v1/me/history", methods=["GET"])
def my_history():
    request = bp.current_request
    caller = principal(request, Role.CITIZEN)
    params = query(request, ListQuery)
    return ok(corrections.history(caller.subject, params.limit, params.cursor))
