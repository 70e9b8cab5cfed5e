"""Back-end data sharing with provinces: batches of local codes and health records, and audited look-ups.

Uploads follow the all-or-nothing contract of docs/provinces.md: the whole batch
is validated before anything is written. Writing then keeps only what is newer
than what is stored (by `version`), so a replayed or reordered batch changes
nothing; records go 99 at a time into one transaction with one event naming
the people whose codes must be recomputed.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from typing import Any, Protocol, TypeVar

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.domain.documents import Document
from chalicelib.domain.lab_results import VACCINATION_RETENTION_DAYS, result_expires_at
from chalicelib.domain.local_codes import province_name
from chalicelib.domain.remit import Basis
from chalicelib.errors import Forbidden, ValidationFailed
from chalicelib.security import pseudonyms
from chalicelib.security.access import Principal, Role
from chalicelib.services import access_log, assessment, codes as code_views
from chalicelib.store import audit, dynamo, events, localcodes, medical, people

TRANSACTION_ITEMS = 100  # DynamoDB's limit; one item of each transaction is the event


def require_own_province(principal: Principal, province: str) -> None:
    if principal.province != province:
        raise Forbidden("A province pushes and registers only for its own province code.", code="outside_province")


class Pushed(Protocol):
    """A record a province pushes: whose it is, which one (`key`), and the province's version of it."""
    @property
    def person(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def key(self) -> Hashable: ...


R = TypeVar("R", bound=Pushed)


def _write_newer(items: list[R], versions: Callable[[list[Any]], dict[Any, int]],
                 write: Callable[[list[R], dict[str, Any]], None], event_type: str,
                 province: str, now: int, logged: Callable[[R], audit.AccessEntry],
                 items_per_record: int = 1) -> dict[str, Any]:
    """Write the records newer than what is stored. Each person's access log gets an entry for each record
    written (`logged` makes it), before the write: an entry for a write that then fails shows an attempt,
    and no write goes unrecorded."""
    stored = versions(sorted({i.key for i in items}))
    newest: dict[Hashable, int] = {}
    for index, item in enumerate(items):
        key = item.key
        if item.version > stored.get(key, 0) and (key not in newest or item.version > items[newest[key]].version):
            newest[key] = index
    fresh = sorted(newest.values())
    access_log.write([logged(items[i]) for i in fresh])
    chosen = set(fresh)
    stale = [{"index": i, "reason": "not newer than the stored version"} for i in range(len(items)) if i not in chosen]

    def event(indices: list[int]) -> dict[str, Any]:
        return events.put_op(event_type, {"province": province,
                                          "people": sorted({items[i].person for i in indices})}, now)

    written = 0
    chunk_size = (TRANSACTION_ITEMS - 1) // items_per_record
    for start in range(0, len(fresh), chunk_size):
        chunk = fresh[start:start + chunk_size]
        try:
            write([items[i] for i in chunk], event(chunk))
            written += len(chunk)
        except dynamo.ConditionFailed:
            # a concurrent push got in first: fall back to one record at a time
            for i in chunk:
                try:
                    write([items[i]], event([i]))
                    written += 1
                except dynamo.ConditionFailed:
                    stale.append({"index": i, "reason": "not newer than the stored version, or its local "
                                                        "code id now names another person"})
    return {"received": len(items), "written": written, "stale": sorted(stale, key=lambda s: s["index"])}


def push_local_codes(principal: Principal, province: str, records: list[Any]) -> dict[str, Any]:
    require_own_province(principal, province)
    now = clock.now()
    codes = [localcodes.ProvinceCode(pseudonyms.document_ref(r.document()), province, r.color, r.local_code_id,
                                     r.issued_at, r.updated_at, r.valid_until, r.version, r.document().last_four, now)
             for r in records]
    check_one_person_per_local_id(codes, localcodes.aliases(province, [c.local_code_id for c in codes]))

    def logged(code: localcodes.ProvinceCode) -> audit.AccessEntry:
        return access_log.entry(code.person, principal, "local_code", None, {"color": code.color.value}, now,
                                ref=code.local_code_id)

    return _write_newer(codes, localcodes.current_versions, localcodes.write_batch, "local_codes.synced",
                        province, now, logged, items_per_record=2)


def check_one_person_per_local_id(codes: list[localcodes.ProvinceCode], named: dict[str, str]) -> None:
    """A local code id names one person for good: a token naming it must never show someone else."""
    details = []
    in_batch: dict[str, str] = {}
    for index, code in enumerate(codes):
        local_id, person = code.local_code_id, code.person
        if named.get(local_id, person) != person or in_batch.setdefault(local_id, person) != person:
            details.append({"field": f"records.{index}.local_code_id", "type": "conflict",
                            "message": "this local code id already names another person"})
    if details:
        raise ValidationFailed("The batch has invalid records; nothing was written.", details)


def push_health_records(principal: Principal, province: str, records: list[Any]) -> dict[str, Any]:
    require_own_province(principal, province)
    now = clock.now()
    pushed = [medical.HealthRecord(pseudonyms.document_ref(r.document()), province, r.record_id, r.status,
                                   r.institution, r.issued_at, r.valid_until, r.version, now) for r in records]

    def logged(record: medical.HealthRecord) -> audit.AccessEntry:
        return access_log.entry(record.person, principal, "health_record", None, {"status": record.status.value},
                                now, ref=record.record_id)

    return _write_newer(pushed, medical.record_versions, medical.write_records, "health_records.synced",
                        province, now, logged)


def _issuer(principal: Principal, province: str) -> str:
    """Whose record ids a test or vaccination's record id is unique among: the province's, or one lab's."""
    return principal.subject if principal.role is Role.LAB else province


def push_test_results(principal: Principal, province: str, records: list[Any]) -> dict[str, Any]:
    """Test results (all or nothing, newer versions only); each result written writes a `test_result.synced`
    event about its person in the same transaction, for provinces with a basis (docs/webhooks.md)."""
    require_own_province(principal, province)
    now = clock.now()
    issuer = _issuer(principal, province)
    pushed = [medical.TestResult(pseudonyms.document_ref(r.document()), issuer, province, r.record_id,
                                 r.sample_time, r.result_time, r.result, r.test_type,
                                 medical.Institution(r.institution.name, r.institution.county), r.version, now,
                                 result_expires_at(r.result, r.sample_time)) for r in records]

    def logged(result: medical.TestResult) -> audit.AccessEntry:
        return access_log.entry(result.person, principal, "test_result", None,
                                {"result": result.result.value, "test_type": result.test_type.value}, now,
                                ref=result.record_id)

    def told(result: medical.TestResult) -> dict[str, Any]:
        return events.put_op("test_result.synced",
                             {"province": province, "record_id": result.record_id, "result": result.result.value,
                              "test_type": result.test_type.value, "sample_time": result.sample_time,
                              "result_time": result.result_time}, now, subject=result.person)

    def write(chunk: list[medical.TestResult], event_op: dict[str, Any]) -> None:
        medical.write_tests(chunk, [event_op, *map(told, chunk)])

    return _write_newer(pushed, medical.result_versions, write, "test_results.synced", province, now, logged,
                        items_per_record=2)


def push_vaccinations(principal: Principal, province: str, records: list[Any]) -> dict[str, Any]:
    require_own_province(principal, province)
    now = clock.now()
    issuer = _issuer(principal, province)
    pushed = [medical.Vaccination(pseudonyms.document_ref(r.document()), issuer, province, r.record_id, r.product,
                                  r.dose, r.date.isoformat(),
                                  medical.Institution(r.institution.name, r.institution.county), r.version, now,
                                  days.lapses_at(r.date, VACCINATION_RETENTION_DAYS))
              for r in records]

    def logged(dose: medical.Vaccination) -> audit.AccessEntry:
        return access_log.entry(dose.person, principal, "vaccination", None, {"dose": dose.dose}, now,
                                ref=dose.record_id)

    def write(chunk: list[medical.Vaccination], event_op: dict[str, Any]) -> None:
        medical.write_vaccinations(chunk, [event_op])

    return _write_newer(pushed, medical.vaccination_versions, write, "vaccinations.synced", province, now, logged)


def public_test(result: medical.TestResult) -> dict[str, Any]:
    return {"record_id": result.record_id, "province": result.province, "sample_time": result.sample_time,
            "result_time": result.result_time, "result": result.result.value, "test_type": result.test_type.value,
            "institution": {"name": result.institution.name, "county": result.institution.county}}


def public_vaccination(dose: medical.Vaccination) -> dict[str, Any]:
    return {"record_id": dose.record_id, "province": dose.province, "product": dose.product, "dose": dose.dose,
            "date": dose.date, "institution": {"name": dose.institution.name, "county": dose.institution.county}}


def my_tests(person: str) -> dict[str, Any]:
    """The person's test results, newest sample first."""
    found = sorted(medical.tests_of(person, clock.now()), key=lambda r: (-r.sample_time, r.record_id))
    return {"tests": [public_test(r) for r in found]}


def my_vaccinations(person: str) -> dict[str, Any]:
    found = sorted(medical.vaccinations_of(person, clock.now()), key=lambda v: (v.date, v.dose, v.record_id))
    return {"vaccinations": [public_vaccination(v) for v in found]}


def public_local_code(code: localcodes.ProvinceCode) -> dict[str, Any]:
    return {"province": code.province, "province_name": province_name(code.province), "color": code.color.value,
            "local_code_id": code.local_code_id, "issued_at": code.issued_at, "updated_at": code.updated_at,
            "valid_until": code.valid_until}


def consolidated(person: str, now: int) -> dict[str, Any]:
    """A person's live color and reasons by category: their national code, or an assessment of their sources."""
    code = people.get(pseudonyms.code_id(person))
    if code is not None:
        view = code_views.view(code, now)
        color, reasons = view["color"], view["reasons"]
    else:
        color, reasons = assessment.preview(person, now)
    by_category: dict[str, str] = {}
    for reason in reasons:
        by_category.setdefault(reason["source"], reason["color"])
    return {"has_national_code": code is not None, "color": color, "reasons_by_category": by_category,
            "reasons": [r["code"] for r in reasons]}


def lookup(principal: Principal, named: list[Document], purpose: str) -> dict[str, Any]:
    """Read, record each person's access (what was asked, why, and what the answer tells), then answer: if
    the record cannot be written, nothing is answered, so no look-up goes unrecorded."""
    now = clock.now()
    lookup_id = "lkp_" + secrets.token_hex(6)
    asked = [pseudonyms.document_ref(d) for d in named]
    province = principal.own_province
    results = []
    for index, (document, person) in enumerate(zip(named, asked, strict=True)):
        results.append({"index": index, "id_last4": document.last_four,
                        "subject_id": pseudonyms.subject_for(province, person), **consolidated(person, now),
                        "local_codes": [public_local_code(c) for c in localcodes.of_person(person)]})
    told = {person: {"color": r["color"], "reasons": r["reasons"], "has_national_code": r["has_national_code"],
                     "local_codes": [c["province"] for c in r["local_codes"]]}
            for person, r in zip(asked, results, strict=True)}
    access_log.write([access_log.entry(person, principal, "lookup", Basis(note=purpose), told[person], now,
                                       ref=lookup_id) for person in dict.fromkeys(asked)])
    return {"lookup_id": lookup_id, "purpose": purpose, "at": now, "results": results}


def my_local_codes(person: str) -> dict[str, Any]:
    return {"local_codes": [public_local_code(c) for c in localcodes.of_person(person)]}


def my_lookups(person: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The look-ups among the person's access log entries (GET /v1/me/access-log has every access)."""
    log = access_log.of_person(person, limit, cursor, action="lookup")
    return {"lookups": [{"province": a["province"], "province_name": a["province_name"],
                         "purpose": (a["basis"] or {}).get("note"), "at": a["at"], "lookup_id": a["ref"]}
                        for a in log["accesses"]],
            "next_cursor": log["next_cursor"]}
