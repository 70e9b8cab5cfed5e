"""Checkpoints' entry rules: a health authority sets them for its own province's checkpoints
(docs/tests-and-vaccinations.md); ops sets any with `ops clients rule`."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ConfigDict, Field

from chalicelib import errors
from chalicelib.api.routes import PathParameter, route
from chalicelib.domain import identifiers
from chalicelib.domain.colors import Color
from chalicelib.domain.lab_results import EntryRule
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import entry_rules

bp = Blueprint(__name__)
CHECKPOINT_ID = PathParameter(identifiers.CHECKPOINT_ID.pattern, "A checkpoint client's id, as ops issued it; any "
                                                               "other value is `404 unknown_checkpoint`",
                              errors.UNKNOWN_CHECKPOINT, "ch_0123456789abcdef")


class RuleRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    colors: list[Color] = Field(min_length=1, max_length=3, description="The colors admitted")
    negative_test_within_hours: int | None = Field(default=None, ge=1, le=168,
                                                   description="A negative test whose sample is at most this old")
    min_doses: int | None = Field(default=None, ge=1, le=10, description="At least this many vaccine doses")


@route(bp, "/v1/checkpoints/{client_id}/rule", methods=["PUT"], roles=[Role.HEALTH_AUTHORITY], body=RuleRequest,
       responds={200: "CheckpointRule"}, path_parameters={"client_id": CHECKPOINT_ID},
       errors=[errors.OUTSIDE_PROVINCE, errors.UNKNOWN_CHECKPOINT, errors.CONCURRENT_UPDATE],
       example={"colors": ["green"], "negative_test_within_hours": 48, "min_doses": None})
def set_rule(caller: Principal, client_id: str, body: RuleRequest) -> dict[str, Any]:
    """Set the entry rule of one of my province's checkpoints; its next access token carries it"""
    rule = EntryRule(tuple(dict.fromkeys(body.colors)), body.negative_test_within_hours, body.min_doses)
    return entry_rules.set_rule(caller, client_id, rule)
