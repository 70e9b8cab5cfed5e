"""Provinces' back-end data sharing (docs/provinces.md): batches in, audited look-ups out."""
from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint
from pydantic import ConfigDict, Field, model_validator

from chalicelib import clock, errors
from chalicelib.api.fields import AreaCode, IdNumber, IsoDate, LocalIdentifier, NamedPerson, NoIdNumber
from chalicelib.api.routes import Batch, route
from chalicelib.domain import documents, limits
from chalicelib.domain.colors import Color
from chalicelib.domain.lab_results import TestOutcome, TestType
from chalicelib.domain.medical import MedicalStatus
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import sync

bp = Blueprint(__name__)
MAX_BATCH = 500
MAX_LOOKUP = 100
SYNC_BODY_BYTES = 512 * 1024
# every sync batch counts its records against the province's one budget (docs/limits.md)
SYNC_RECORDS = Batch(limits.SYNC_RECORDS_PER_PROVINCE, lambda batch: len(batch.records))
CLOCK_SKEW = 300  # seconds a province's or lab's clock may run ahead of ours
Province = Field(pattern=r"^\d{2}$", description="Two-digit GB/T 2260 province code of the pushing province")
Epoch = Field(ge=946684800, le=4102444800, description="Epoch seconds")


class LocalCodeRecord(NamedPerson):
    model_config = ConfigDict(extra="forbid", strict=True)
    color: Color
    local_code_id: LocalIdentifier
    issued_at: int = Epoch
    updated_at: int = Epoch
    valid_until: int | None = Field(default=None, ge=946684800, le=4102444800)
    version: int = Field(ge=1, le=2**53)

    @model_validator(mode="after")
    def _ordered(self) -> LocalCodeRecord:
        if self.updated_at < self.issued_at:
            raise ValueError("updated_at must not be before issued_at")
        return self


class LocalCodeBatch(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    province: str = Province
    records: list[LocalCodeRecord] = Field(min_length=1, max_length=MAX_BATCH)


class HealthRecord(NamedPerson):
    model_config = ConfigDict(extra="forbid", strict=True)
    record_id: LocalIdentifier
    status: MedicalStatus
    institution: Annotated[str, Field(min_length=1, max_length=100), NoIdNumber]
    issued_at: int = Epoch
    valid_until: int | None = Field(default=None, ge=946684800, le=4102444800)
    version: int = Field(ge=1, le=2**53)


class HealthRecordBatch(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    province: str = Province
    records: list[HealthRecord] = Field(min_length=1, max_length=MAX_BATCH)


class Institution(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Annotated[str, Field(min_length=1, max_length=100), NoIdNumber]
    county: Annotated[AreaCode, Field(description="GB/T 2260 code of the institution's county")]


class TestResultRecord(NamedPerson):
    __test__ = False
    model_config = ConfigDict(extra="forbid", strict=True)
    record_id: LocalIdentifier
    sample_time: int = Field(ge=946684800, le=4102444800, description="When the sample was taken, epoch seconds")
    result_time: int = Field(ge=946684800, le=4102444800, description="When the result was known, epoch seconds")
    result: TestOutcome
    test_type: TestType
    institution: Institution
    version: int = Field(ge=1, le=2**53)

    @model_validator(mode="after")
    def _ordered(self) -> TestResultRecord:
        if self.result_time < self.sample_time:
            raise ValueError("result_time must not be before sample_time")
        if self.result_time > clock.now() + CLOCK_SKEW:
            # a result counts from when it is known: one from the future would wait for no recompute
            raise ValueError("result_time must not be in the future")
        return self


class TestResultBatch(Model):
    __test__ = False
    model_config = ConfigDict(extra="forbid", strict=True)
    province: str = Province
    records: list[TestResultRecord] = Field(min_length=1, max_length=MAX_BATCH)


class VaccinationRecord(NamedPerson):
    model_config = ConfigDict(extra="forbid", strict=True)
    record_id: LocalIdentifier
    product: Annotated[str, Field(min_length=1, max_length=100), NoIdNumber]
    dose: int = Field(ge=1, le=10, description="Dose number, from 1")
    date: IsoDate
    institution: Institution
    version: int = Field(ge=1, le=2**53)


class VaccinationBatch(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    province: str = Province
    records: list[VaccinationRecord] = Field(min_length=1, max_length=MAX_BATCH)


class LookupRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    id_numbers: list[IdNumber] | None = Field(None, min_length=1, max_length=MAX_LOOKUP,
                                              description="Resident ID numbers; or `people`, not both")
    people: list[NamedPerson] | None = Field(None, min_length=1, max_length=MAX_LOOKUP,
                                             description="People named by any identity document; or `id_numbers`")
    purpose: Annotated[str, Field(min_length=4, max_length=200, description="Why: recorded and shown to the person"),
                       NoIdNumber]

    @model_validator(mode="after")
    def _one_list(self) -> LookupRequest:
        if (self.id_numbers is None) == (self.people is None):
            raise ValueError("people: send either id_numbers or people, not both and not neither")
        return self

    def named(self) -> list[documents.Document]:
        if self.people is not None:
            return [person.document() for person in self.people]
        return [documents.Document(documents.DocumentType.RESIDENT_ID, n) for n in self.id_numbers or []]


@route(bp, "/v1/sync/local-codes", methods=["POST"], roles=[Role.PROVINCE], body=LocalCodeBatch,
       max_body=SYNC_BODY_BYTES, responds={200: "SyncResult"},
       limits=[SYNC_RECORDS],
       errors=[errors.OUTSIDE_PROVINCE])
def push_local_codes(caller: Principal, body: LocalCodeBatch) -> dict[str, Any]:
    """Push a batch of the province's local codes (all or nothing)"""
    return sync.push_local_codes(caller, body.province, body.records)


@route(bp, "/v1/sync/health-records", methods=["POST"], roles=[Role.PROVINCE], body=HealthRecordBatch,
       max_body=SYNC_BODY_BYTES, responds={200: "SyncResult"},
       limits=[SYNC_RECORDS],
       errors=[errors.OUTSIDE_PROVINCE])
def push_health_records(caller: Principal, body: HealthRecordBatch) -> dict[str, Any]:
    """Push a batch of the province's health records (all or nothing)"""
    return sync.push_health_records(caller, body.province, body.records)


@route(bp, "/v1/sync/test-results", methods=["POST"], roles=[Role.PROVINCE, Role.LAB], body=TestResultBatch,
       max_body=SYNC_BODY_BYTES, responds={200: "SyncResult"},
       limits=[SYNC_RECORDS],
       errors=[errors.OUTSIDE_PROVINCE])
def push_test_results(caller: Principal, body: TestResultBatch) -> dict[str, Any]:
    """Push a batch of nucleic-acid test results (all or nothing): a province, or a lab of the province"""
    return sync.push_test_results(caller, body.province, body.records)


@route(bp, "/v1/sync/vaccinations", methods=["POST"], roles=[Role.PROVINCE, Role.LAB], body=VaccinationBatch,
       max_body=SYNC_BODY_BYTES, responds={200: "SyncResult"},
       limits=[SYNC_RECORDS],
       errors=[errors.OUTSIDE_PROVINCE])
def push_vaccinations(caller: Principal, body: VaccinationBatch) -> dict[str, Any]:
    """Push a batch of vaccinations (all or nothing): a province, or a lab of the province"""
    return sync.push_vaccinations(caller, body.province, body.records)


@route(bp, "/v1/sync/lookups", methods=["POST"], roles=[Role.PROVINCE], body=LookupRequest,
       responds={200: "LookupResult"},
       limits=[Batch(limits.LOOKUPS_PER_PROVINCE, lambda asked: len(asked.named()))],
       tags=["health information query"],
       example={"id_numbers": ["510104199001011230"], "purpose": "Arrival screening at Guangzhou South"})
def lookup(caller: Principal, body: LookupRequest) -> dict[str, Any]:
    """A province looks people up (audited, shown to each person)"""
    return sync.lookup(caller, body.named(), body.purpose)
