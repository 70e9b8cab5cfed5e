"""Health authorities set a person's medical status; citizens read their risk prompt and cities."""
from __future__ import annotations

from typing import Any, Literal

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib import errors
from chalicelib.api.fields import NamedPerson, Note
from chalicelib.api.routes import route
from chalicelib.domain.medical import MedicalStatus
from chalicelib.domain.remit import BasisKind
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import access_log, citizen_views, erasure, health_status, my_data, sync

bp = Blueprint(__name__)


class PageQuery(Model):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


class StatedBasis(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: BasisKind = Field(description="Why the person is your province's business when the platform knows no "
                                        "connection (docs/provinces.md#medical-statuses)")
    note: Note | None = Field(default=None, description="Required when kind is `other`")

    @model_validator(mode="after")
    def _other_says_what(self) -> StatedBasis:
        if self.kind is BasisKind.OTHER and not (self.note or "").strip():
            raise ValueError("a basis of kind `other` needs a note saying what it is")
        return self


class HealthStatusRequest(NamedPerson):
    model_config = ConfigDict(extra="forbid", strict=True)
    status: MedicalStatus
    note: Note | None = None
    basis: StatedBasis | None = None


@route(bp, "/v1/health-statuses", methods=["POST"], roles=[Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY],
       body=HealthStatusRequest, responds={201: "HealthStatusSet"},
       errors=[errors.BASIS_REQUIRED, errors.CONCURRENT_UPDATE],
       example={"id_number": "510104199001011230", "status": "recovered"})
def set_health_status(caller: Principal, body: HealthStatusRequest) -> dict[str, Any]:
    """Set a person's medical status (health authority)"""
    stated = body.basis
    return health_status.set_status(caller, body.document(), body.status, body.note, stated.kind if stated else None,
                                    stated.note if stated else None)


@route(bp, "/v1/me/risk", methods=["GET"], roles=[Role.CITIZEN], responds={200: "RiskPrompt"},
       errors=[errors.NO_CODE], tags=["health information query"], acting_for=True)
def my_risk(caller: Principal) -> dict[str, Any]:
    """My risk prompt: color, reasons and what to do"""
    return citizen_views.risk_prompt(caller)


@route(bp, "/v1/me/cities", methods=["GET"], roles=[Role.CITIZEN], responds={200: "Cities"},
       tags=["health information query"])
def my_cities(caller: Principal) -> dict[str, Any]:
    """Cities I stayed in over the last 14 days"""
    return citizen_views.cities(caller)


@route(bp, "/v1/me/local-codes", methods=["GET"], roles=[Role.CITIZEN], responds={200: "MyLocalCodes"},
       tags=["health information query"])
def my_local_codes(caller: Principal) -> dict[str, Any]:
    """Provinces' local codes held for me"""
    return sync.my_local_codes(caller.subject)


@route(bp, "/v1/me/tests", methods=["GET"], roles=[Role.CITIZEN], responds={200: "MyTests"},
       tags=["health information query"])
def my_tests(caller: Principal) -> dict[str, Any]:
    """My nucleic-acid test results, newest sample first"""
    return sync.my_tests(caller.subject)


@route(bp, "/v1/me/vaccinations", methods=["GET"], roles=[Role.CITIZEN], responds={200: "MyVaccinations"},
       tags=["health information query"])
def my_vaccinations(caller: Principal) -> dict[str, Any]:
    """My vaccinations"""
    return sync.my_vaccinations(caller.subject)


@route(bp, "/v1/me/lookups", methods=["GET"], roles=[Role.CITIZEN], query=PageQuery, responds={200: "LookupPage"},
       tags=["health information query"])
def my_lookups(caller: Principal, query: PageQuery) -> dict[str, Any]:
    """Which provinces looked me up, when and why

    The audit trail of cross-province look-ups."""
    return sync.my_lookups(caller.subject, query.limit, query.cursor)


@route(bp, "/v1/me/access-log", methods=["GET"], roles=[Role.CITIZEN], query=PageQuery, responds={200: "AccessPage"},
       tags=["health information query"])
def my_access_log(caller: Principal, query: PageQuery) -> dict[str, Any]:
    """Every act on my data by anyone else: who, which province, when, what, on what basis, what they got."""
    return access_log.of_person(caller.subject, query.limit, query.cursor)


@route(bp, "/v1/me/scans", methods=["GET"], roles=[Role.CITIZEN], query=PageQuery, responds={200: "ScanPage"},
       tags=["health information query"])
def my_scans(caller: Principal, query: PageQuery) -> dict[str, Any]:
    """Where and when my code was scanned

    The checkpoint's area and id, the time, the color shown and whether the scan was offline, newest first;
    kept 30 days (docs/retention.md)."""
    return my_data.scans_page(caller.subject, query.limit, query.cursor)


@route(bp, "/v1/me/data", methods=["GET"], roles=[Role.CITIZEN], responds={200: "MyData"},
       tags=["health information query"])
def my_kept_data(caller: Principal) -> dict[str, Any]:
    """What is kept about me: per kind, how many items, the oldest, and when they expire"""
    return my_data.summary(caller.subject)


@route(bp, "/v1/me/data/export", methods=["GET"], roles=[Role.CITIZEN], responds={200: "MyDataExport"},
       tags=["health information query"])
def my_data_export(caller: Principal) -> dict[str, Any]:
    """Everything kept about me, as JSON"""
    return my_data.export(caller.subject)


class ErasureRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    confirm: Literal[True] = Field(description="true: I ask for my data to be erased (nothing else is accepted)")


@route(bp, "/v1/me/erasure", methods=["POST"], roles=[Role.CITIZEN], body=ErasureRequest, responds={200: "Erasure"},
       errors=[errors.CONCURRENT_UPDATE], tags=["health information query"], example={"confirm": True})
def erase_me(caller: Principal, body: ErasureRequest) -> dict[str, Any]:
    """Erase my data

    Erases what no live purpose needs; keeps what an active medical status or an open correction requires, and
    says until when (docs/retention.md#erasure). Asking again finishes an erasure that was interrupted."""
    return erasure.erase(caller.subject)
