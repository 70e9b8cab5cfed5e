"""The medical table: each issuer's current medical status of a person, its insert-only history, and the
health records provinces push.

Items of a person (`pk = <person>`), by sort key:
- `CURRENT#<issuer>`: an issuer's current status (`Status`), the issuer a province's code or `national`.
  Statuses set before issuers were kept apart are one item `CURRENT`, read as its setter's province's;
- `H#<zero-padded time>#<random>`: one entry of the status history (`StatusChange`), never overwritten;
- `R#<province>#<record id>`: a province's health record (`HealthRecord`), replaced only by a newer version;
- `T#<issuer>#<record id>`: a nucleic-acid test result (`TestResult`), the issuer the pushing province's code or
  lab's client id, replaced only by a newer version;
- `V#<issuer>#<record id>`: a vaccination (`Vaccination`), likewise.

Every item carries its TTL `expires_at`: statuses, their history and health records
(domain/retention.medical_expires: 180 days after it was written, or 30 days after a record's validity if
later); test results and vaccinations their own retention (docs/tests-and-vaccinations.md). Reads of tests and
vaccinations skip expired ones, since TTL deletion lags.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import retention
from chalicelib.domain.lab_results import LabResult, TestOutcome, TestType
from chalicelib.domain.medical import MedicalStatus
from chalicelib.domain.remit import Basis
from chalicelib.store import dynamo
from chalicelib.store.held import Held, held

KIND = "medical"
CURRENT = "CURRENT"
RECORD_PREFIX = "R#"
TEST_PREFIX = "T#"
VACCINATION_PREFIX = "V#"
NEWER = "attribute_not_exists(pk) OR version < :v"


@dataclass(frozen=True, slots=True)
class Status:
    person: str
    issuer: str                  # a province's code, or national
    status: MedicalStatus
    since: int
    set_by: str | None
    province: str | None         # of the health authority that set it (None: a national-level one)
    basis: Basis | None
    updated_at: int
    version: int


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry of a person's status history."""
    person: str
    at: int
    status: MedicalStatus
    previous: MedicalStatus | None
    set_by: str
    province: str | None
    issuer: str
    note: str | None
    basis: Basis | None


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """A province's health record about a person (a test result, a diagnosis), as the province pushed it."""
    person: str
    province: str
    record_id: str
    status: MedicalStatus
    institution: str | None
    issued_at: int
    valid_until: int | None
    version: int                 # the province's: only a newer version replaces a stored one
    synced_at: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.person, self.province, self.record_id


def _basis(value: dict[str, Any] | None) -> Basis | None:
    return Basis.from_dict(value) if value else None


def _status_key(person: str, issuer: str) -> dict[str, str]:
    return {"pk": person, "sk": f"{CURRENT}#{issuer}"}


def _status(item: dict[str, Any]) -> Status:
    return Status(item["pk"], item["sk"].partition("#")[2] or item.get("province") or "national",
                  MedicalStatus(item["status"]), int(item["since"]), item.get("set_by"), item.get("province"),
                  _basis(item.get("basis")), int(item.get("updated_at", item["since"])), int(item.get("version", 0)))


def _current_items(person: str) -> list[dict[str, Any]]:
    return dynamo.query_all(KIND, "pk = :p AND begins_with(sk, :c)", {":p": person, ":c": CURRENT}, consistent=True)


def statuses(person: str) -> list[Status]:
    """Every issuer's current status of the person."""
    return [_status(i) for i in _current_items(person)]


def status_of(person: str, issuer: str) -> Status | None:
    """The issuer's own current status of the person, to change it (a status from before issuers were kept apart
    is not one: it is never written again)."""
    return next((_status(i) for i in _current_items(person) if i["sk"] == f"{CURRENT}#{issuer}"), None)


def set_status(status: Status, change: StatusChange, expected_version: int | None,
               other_ops: list[dict[str, Any]]) -> None:
    """The issuer's status, its history entry and the other items (the event, the access log's entry), all or
    nothing. ConditionFailed if another request of the same issuer got in first."""
    item = {**_status_key(status.person, status.issuer), "status": status.status.value, "since": status.since,
            "set_by": status.set_by, "province": status.province,
            "basis": status.basis.to_dict() if status.basis else None,
            "updated_at": status.updated_at, "version": status.version,
            "expires_at": retention.medical_expires(status.updated_at)}
    if expected_version is None:
        put = dynamo.put_op(KIND, item, condition="attribute_not_exists(pk)")
    else:
        put = dynamo.put_op(KIND, item, condition="version = :v", values={":v": expected_version})
    history = {"pk": change.person, "sk": f"H#{change.at:010d}#{secrets.token_hex(4)}", "status": change.status.value,
               "previous": change.previous.value if change.previous else None, "set_by": change.set_by,
               "province": change.province, "issuer": change.issuer, "note": change.note,
               "basis": change.basis.to_dict() if change.basis else None, "at": change.at,
               "expires_at": retention.medical_expires(change.at)}
    dynamo.transact([put, dynamo.put_op(KIND, history, condition="attribute_not_exists(pk)"), *other_ops])


def _record_sk(province: str, record_id: str) -> str:
    return f"{RECORD_PREFIX}{province}#{record_id}"


def records_of(person: str) -> list[HealthRecord]:
    """Provinces' health records about a person."""
    items = dynamo.query_all(KIND, "pk = :p AND begins_with(sk, :r)", {":p": person, ":r": RECORD_PREFIX})
    return [HealthRecord(i["pk"], i["province"], i["record_id"], MedicalStatus(i["status"]), i.get("institution"),
                         int(i["issued_at"]), i.get("valid_until"), int(i["version"]), int(i.get("synced_at", 0)))
            for i in items]


def record_versions(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    """The stored version of each record (person, province, record id) that is stored."""
    found = dynamo.batch_get(KIND, [{"pk": person, "sk": _record_sk(province, record_id)}
                                    for person, province, record_id in keys])
    return {(i["pk"], i["province"], i["record_id"]): int(i["version"]) for i in found}


def write_records(records: list[HealthRecord], event_op: dict[str, Any]) -> None:
    """Records and the event, all or nothing; ConditionFailed if one is no longer newer than what is stored."""
    ops = [dynamo.put_op(KIND, {"pk": r.person, "sk": _record_sk(r.province, r.record_id), "province": r.province,
                                "record_id": r.record_id, "status": r.status.value, "institution": r.institution,
                                "issued_at": r.issued_at, "valid_until": r.valid_until, "version": r.version,
                                "synced_at": r.synced_at,
                                "expires_at": retention.medical_expires(r.synced_at, r.valid_until)},
                          condition=NEWER, values={":v": r.version})
           for r in records]
    dynamo.transact([*ops, event_op])


@dataclass(frozen=True, slots=True)
class Institution:
    name: str
    county: str                  # GB/T 2260


@dataclass(frozen=True, slots=True)
class TestResult:
    """A nucleic-acid test result, as a province or a lab pushed it."""
    __test__ = False
    person: str
    issuer: str                  # the pushing province's code, or the lab's client id
    province: str                # the pusher's province
    record_id: str
    sample_time: int
    result_time: int
    result: TestOutcome
    test_type: TestType
    institution: Institution
    version: int
    synced_at: int
    expires_at: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.person, self.issuer, self.record_id

    @property
    def lab_result(self) -> LabResult:
        return LabResult(self.sample_time, self.result_time, self.result, self.issuer)


@dataclass(frozen=True, slots=True)
class Vaccination:
    person: str
    issuer: str
    province: str
    record_id: str
    product: str
    dose: int
    date: str                    # ISO date
    institution: Institution
    version: int
    synced_at: int
    expires_at: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.person, self.issuer, self.record_id


def _institution(value: dict[str, Any]) -> Institution:
    return Institution(value["name"], value["county"])


def _test(item: dict[str, Any]) -> TestResult:
    return TestResult(item["pk"], item["issuer"], item["province"], item["record_id"], int(item["sample_time"]),
                      int(item["result_time"]), TestOutcome(item["result"]), TestType(item["test_type"]),
                      _institution(item["institution"]), int(item["version"]), int(item["synced_at"]),
                      int(item["expires_at"]))


def _vaccination(item: dict[str, Any]) -> Vaccination:
    return Vaccination(item["pk"], item["issuer"], item["province"], item["record_id"], item["product"],
                       int(item["dose"]), item["date"], _institution(item["institution"]), int(item["version"]),
                       int(item["synced_at"]), int(item["expires_at"]))


def _of_person(person: str, prefix: str, now: int) -> list[dict[str, Any]]:
    items = dynamo.query_all(KIND, "pk = :p AND begins_with(sk, :r)", {":p": person, ":r": prefix})
    return [i for i in items if int(i["expires_at"]) > now]


def tests_of(person: str, now: int) -> list[TestResult]:
    """The person's unexpired test results."""
    return [_test(i) for i in _of_person(person, TEST_PREFIX, now)]


def vaccinations_of(person: str, now: int) -> list[Vaccination]:
    """The person's unexpired vaccinations."""
    return [_vaccination(i) for i in _of_person(person, VACCINATION_PREFIX, now)]


def _versions(prefix: str, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    found = dynamo.batch_get(KIND, [{"pk": person, "sk": f"{prefix}{issuer}#{record_id}"}
                                    for person, issuer, record_id in keys])
    return {(i["pk"], i["issuer"], i["record_id"]): int(i["version"]) for i in found}


def result_versions(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    """The stored version of each test result (person, issuer, record id) that is stored."""
    return _versions(TEST_PREFIX, keys)


def vaccination_versions(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    return _versions(VACCINATION_PREFIX, keys)


def _common(prefix: str, r: TestResult | Vaccination) -> dict[str, Any]:
    return {"pk": r.person, "sk": f"{prefix}{r.issuer}#{r.record_id}", "issuer": r.issuer, "province": r.province,
            "record_id": r.record_id, "institution": {"name": r.institution.name, "county": r.institution.county},
            "version": r.version, "synced_at": r.synced_at, "expires_at": r.expires_at}


def write_tests(results: list[TestResult], other_ops: list[dict[str, Any]]) -> None:
    """Results and the other items (events), all or nothing; ConditionFailed if one is no longer newer."""
    ops = [dynamo.put_op(KIND, {**_common(TEST_PREFIX, r), "sample_time": r.sample_time,
                                "result_time": r.result_time, "result": r.result.value,
                                "test_type": r.test_type.value}, condition=NEWER, values={":v": r.version})
           for r in results]
    dynamo.transact([*ops, *other_ops])


def write_vaccinations(doses: list[Vaccination], other_ops: list[dict[str, Any]]) -> None:
    ops = [dynamo.put_op(KIND, {**_common(VACCINATION_PREFIX, v), "product": v.product, "dose": v.dose,
                                "date": v.date}, condition=NEWER, values={":v": v.version})
           for v in doses]
    dynamo.transact([*ops, *other_ops])


def held_of(person: str) -> list[Held]:
    """Every issuer's status, the status history, provinces' health records, test results and vaccinations."""
    found = []
    for item in dynamo.query_all(KIND, "pk = :p", {":p": person}):
        if item["sk"].startswith(CURRENT):
            found.append(held("medical_statuses", item, "updated_at"))
        elif item["sk"].startswith(RECORD_PREFIX):
            found.append(held("health_records", item, "synced_at"))
        elif item["sk"].startswith(TEST_PREFIX):
            found.append(held("test_results", item, "synced_at"))
        elif item["sk"].startswith(VACCINATION_PREFIX):
            found.append(held("vaccinations", item, "synced_at"))
        else:
            found.append(held("medical_history", item, "at"))
    return found


def erase_ops(person: str) -> list[dict[str, Any]]:
    """The Deletes of every item of the person in this table (an erasure)."""
    return [dynamo.delete_op(KIND, {"pk": i["pk"], "sk": i["sk"]})
            for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]


def expires_for(item: dict[str, Any], now: int) -> int:
    """The `expires_at` this table's writes give an item, from its own times (a backfill of items written before TTL
    was set on them: ops/backfill.py): a status from its last change, an entry of the history from its moment, a
    health record from its sync or validity."""
    written = retention.latest(item, "updated_at", "at", "synced_at") or now
    return retention.medical_expires(written, retention.latest(item, "valid_until"))
