"""Response bodies as pydantic models, for the OpenAPI document only (chalicelib/api/openapi.py).

Views build their bodies as dicts in the services; these models describe every one of them, so that
clients can code against them and schemathesis holds real responses to them (tests/test_contract_fuzz.py).
A route names its models in its declaration (`responds={201: "Trip"}`), and only the document's generator
imports this module. Success bodies allow properties beyond the listed ones (adding a field is not a
breaking change); the error envelope is closed, as it is one shape everywhere (docs/errors.md).

A field without a default is always present (null where its type allows); a field with one may be absent.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.domain.areas import RiskLevel
from chalicelib.domain.colors import Color
from chalicelib.domain.documents import DocumentType
from chalicelib.domain.exposures import CaseType
from chalicelib.domain.medical import MedicalStatus
from chalicelib.models import Model

Epoch = int


def _cursor() -> Any:
    return Field(description="Pass as `cursor` for the next page; null on the last")


class ErrorBody(Model):
    model_config = ConfigDict(extra="forbid", title="ErrorBody")
    code: str = Field(description="Stable machine code, catalogued in docs/errors.md")
    message: str = Field(description="Human-readable; never carries personal data or a stack trace")
    details: list[dict[str, Any]] = Field(description="e.g. one {field, message, type} per invalid field")


class Error(Model):
    """Every refusal: `{"error": {"code", "message", "details"}}`."""
    model_config = ConfigDict(extra="forbid")
    error: ErrorBody


class CitizenSession(Model):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds")
    name_masked: str = Field(description="e.g. 王*明")
    id_last4: str = Field(description="The last four characters of the identity document's number (a Hong Kong "
                                      "or Macao permit's lifelong part)")
    document_type: DocumentType = Field(description="The identity document the citizen logged in with "
                                                    "([identity.md](identity.md))")


class Dependant(Model):
    dependant_id: str = Field(description="How you name the dependant: `X-Acting-For`, and the path to remove them")
    name_masked: str
    id_last4: str
    document_type: DocumentType
    relationship: str = Field(description="What the dependant is to you: child, grandchild, parent, grandparent, "
                                          "parent_in_law, other_relative")
    group: Literal["child", "elderly"] = Field(description="Under 14, or 60 and over, when added")
    added_at: Epoch


class Dependants(Model):
    dependants: list[Dependant] = Field(description="Oldest addition first (to the second)")


class Guardian(Model):
    guardian_id: str = Field(description="Names the guardian to remove: `DELETE /v1/me/guardians/{guardian_id}`")
    name_masked: str = Field(description="The guardian's")
    relationship: str = Field(description="What you are to the guardian, as they stated it")
    added_at: Epoch
    status: Literal["active", "removed"] = Field(description="`removed`: you took your code back; they cannot add "
                                                             "you again")


class Guardians(Model):
    guardians: list[Guardian] = Field(description="Oldest first, removed ones included")


class ClientToken(Model):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds")
    scope: str = Field(description="The client's role: checkpoint, province, health_authority, national_authority, "
                                   "venue_admin or ops")


class CodeReason(Model):
    source: str = Field(description="declaration, medical_status, local_code, trip, checkin, exposure, area, "
                                    "correction ...")
    code: str = Field(description="Stable machine code, e.g. declared_fever")
    color: Color
    message: str = Field(description="Plain Chinese a mini-program can show as is")
    message_en: str
    since: Epoch
    until: Epoch | None = Field(description="Exclusive; null until a source lifts it")
    ref: str | None = Field(default=None, description="What the reason is about, which also names who reviews "
                                                          "a correction of it (docs/corrections.md): the GB/T 2260 "
                                                          "area of a stay, check-in or declaration; the province "
                                                          "(or `national`) that set a status or pushed a local "
                                                          "code; the province that published an exposure")


class HealthSummary(Model):
    negative_within: Literal["24h", "48h", "72h", "7d"] | None = Field(
        description="The smallest bucket holding the age of the latest negative test's sample; null past 7 days")
    doses: int = Field(description="Vaccine doses recorded")


class HealthCode(Model):
    code_id: str = Field(description="Opaque; never derived visibly from the ID number")
    color: Color
    reasons: list[CodeReason] = Field(description="Live reasons, most severe first")
    status: str = Field(description="active, or revoked")
    name_masked: str
    id_last4: str
    declared_at: Epoch | None
    updated_at: Epoch
    next_change_at: Epoch | None = Field(description="When the color may next change on its own")
    version: int
    health: HealthSummary = Field(description="Nucleic-acid test and vaccination summary "
                                              "(docs/tests-and-vaccinations.md)")


class QrToken(Model):
    token: str = Field(description="A signed token (ES256 JWS) valid for a few minutes; see /.well-known/jwks.json")
    expires_at: Epoch
    color: Color
    name_masked: str


class UnmetRequirement(Model):
    code: str = Field(description="color_not_admitted, negative_test_within_<N>h, min_doses_<N>")
    message: str = Field(description="Plain Chinese a checkpoint can show as is")
    message_en: str


class VerificationAccepted(Model):
    valid: Literal[True]
    color: Color
    name_masked: str | None
    id_last4: str
    fever: bool = Field(description="The measured temperature is 37.3 °C or above")
    checked_at: Epoch
    scan_id: str
    issuer: str = Field(description="`national`, or `province:NN` for a province's own token (mutual recognition)")
    admit: bool | None = Field(default=None, description="Present when the checkpoint carries an entry rule: "
                                                         "whether the holder meets it (the color stays the color)")
    rule_id: str | None = Field(default=None, description="The entry rule applied (with `admit`)")
    unmet: list[UnmetRequirement] | None = Field(default=None, description="The rule's requirements not met, "
                                                                           "empty when admitted (with `admit`)")
    negative_within: Literal["24h", "48h", "72h", "7d"] | None = Field(
        default=None, description="Only when the rule requires a negative test: the bucket of the latest one")
    doses: int | None = Field(default=None, description="Only when the rule requires doses: the dose count")
    paper: PaperVerified | None = Field(default=None, description="Present for a paper code (docs/identity.md)")


class PaperVerified(Model):
    number: str = Field(description="The paper code's 12-digit number")
    valid_until: Epoch = Field(description="The paper code's expiry")
    color_at_issue: Color = Field(description="The color printed on it; `color` above is the live one")
    issued_at: Epoch


class PaperCode(Model):
    number: str = Field(description="12 digits, the last a Luhn check digit: printed for manual entry, and what a "
                                    "revocation names")
    token: str | None = Field(description="The signed token the printed QR holds (ES256, kid `pc1`); null once "
                                          "revoked")
    name_masked: str
    id_last4: str
    issued_at: Epoch
    expires_at: Epoch
    valid_until: str = Field(description="expires_at, ISO 8601 UTC")
    color_at_issue: Color
    issuer: str = Field(description="citizen, guardian, province:NN (a health authority), ops")
    status: Literal["active", "revoked"]
    revocation_sequence: int | None = Field(default=None, description="The revocation's number in the list")


class VerificationRefused(Model):
    valid: Literal[False]
    reason: str = Field(description="malformed, bad_signature, unknown_key, expired, unknown_code, revoked, ... "
                                    "(docs/errors.md)")
    message: str
    checked_at: Epoch


class Trip(Model):
    model_config = ConfigDict(populate_by_name=True)
    trip_id: str
    date: dt.date
    origin: str = Field(alias="from", description="GB/T 2260 code")
    destination: str = Field(alias="to", description="GB/T 2260 code")
    mode: str
    number: str | None
    seat: str | None
    carriage: int | None
    declared_at: Epoch


class TripPage(Model):
    trips: list[Trip]
    next_cursor: str | None = _cursor()


class CheckIn(Model):
    date: dt.date
    area: str
    temperature: float
    symptoms: list[str]
    at: Epoch



# --- discovery -------------------------------------------------------------------------------------------------------

class Jwk(Model):
    kty: str = Field(description="EC")
    crv: str = Field(description="P-256")
    x: str
    y: str
    kid: str
    alg: str = Field(description="ES256")
    use: str = Field(description="sig")


class Jwks(Model):
    """RFC 7517 key set: the public keys (ES256) that sign QR tokens, and the paper codes' key (kid `pc1`,
    docs/identity.md#paper-codes)."""
    keys: list[Jwk]


class OfflineScanResult(Model):
    scan_key: str
    status: Literal["recorded", "duplicate", "refused"] = Field(
        description="recorded now; duplicate: recorded by an earlier upload; refused: for good, see `reason`")
    reason: str | None = Field(default=None, description="A refusal's reason: a verification's reasons "
                                                         "(docs/errors.md) or scanned_in_future, scan_too_old")
    message: str | None = None
    color: Color | None = Field(default=None, description="The code's color as of `scanned_at`, as recorded")
    scan_id: str | None = None
    issuer: str | None = None


class OfflineScanResults(Model):
    """One result per uploaded scan, in the order sent."""
    results: list[OfflineScanResult]
    recorded: int
    duplicate: int
    refused: int
    uploaded_at: Epoch


class ProvinceKeySet(Model):
    keys: list[dict[str, Any]] = Field(description="Public JWKs with `status`: active, not_yet_valid or expired")
    revoked: list[dict[str, Any]] = Field(description="{kid, at}: revoked keys, which never verify again")
    version: int
    updated_at: Epoch


class ProvinceTrustList(Model):
    """Every province's registered keys (a JWKS per province), for verifying province tokens offline."""
    generated_at: Epoch
    max_age: int
    issuer_prefix: str
    provinces: dict[str, ProvinceKeySet]


class OpenApiDocument(Model):
    """This document (OpenAPI 3.1)."""
    openapi: str
    paths: dict[str, Any]


# --- the citizen's own views ---------------------------------------------------------------------------------------

class RiskReason(CodeReason):
    source_name: str = Field(description="The source in Chinese, e.g. 健康申报")
    since_iso: str = Field(description="`since` as an ISO 8601 time in China Standard Time")
    until_iso: str | None


class RiskPrompt(Model):
    color: Color
    headline: str = Field(description="What the color means and what to do, in Chinese")
    headline_en: str
    reasons: list[RiskReason] = Field(description="Live reasons, most severe first; a reason's `source`, `code` and "
                                                  "`ref` are what a correction request names")
    next_change_at: Epoch | None = Field(description="When the color may next change on its own")
    checked_at: Epoch


class City(Model):
    area: str = Field(description="GB/T 2260 code")
    name: str | None
    level: RiskLevel = Field(description="The most severe level in force now of the area and its prefecture")
    level_since: Epoch | None
    last_visited: dt.date
    sources: list[str] = Field(description="What placed me there: trip, checkin, declaration, scan ...")


class Cities(Model):
    cities: list[City] = Field(description="Most recently visited first")
    since: dt.date = Field(description="The first day of the 14-day window")


class LocalCode(Model):
    province: str
    province_name: str
    color: Color
    local_code_id: str
    issued_at: Epoch
    updated_at: Epoch
    valid_until: Epoch | None


class MyLocalCodes(Model):
    local_codes: list[LocalCode]


class Lookup(Model):
    province: str | None
    province_name: str | None
    purpose: str | None = Field(description="Why, as the province stated it")
    at: Epoch
    lookup_id: str | None


class LookupPage(Model):
    lookups: list[Lookup] = Field(description="Newest first")
    next_cursor: str | None = _cursor()


class Basis(Model):
    """Why an act on a person is within the actor's remit (docs/provinces.md)."""
    connection: str | None = Field(description="declared_area, stay, local_code or national: what the platform "
                                                  "found")
    stated: str | None = Field(description="diagnosed_here, treated_here, traced_here, resident_here or other: "
                                              "what the actor stated")
    note: str | None


class Access(Model):
    access_id: str
    at: Epoch
    action: str = Field(description="lookup, medical_status, medical_status_refused, local_code, health_record, ...")
    role: str = Field(description="The role of the client that acted")
    client_id: str
    province: str | None
    province_name: str | None
    basis: Basis | None
    returned: dict[str, Any] = Field(description="What the act gave or set, e.g. {\"color\": \"yellow\"}")
    ref: str | None = Field(description="The look-up, local code, record or correction the act was about")


class AccessPage(Model):
    accesses: list[Access] = Field(description="Newest first")
    next_cursor: str | None = _cursor()


class MyScan(Model):
    scan_id: str
    at: Epoch
    checkpoint_id: str = Field(description="The checkpoint's own id for its gate")
    area: str | None = Field(description="The checkpoint's GB/T 2260 area")
    area_name: str | None
    color: Color = Field(description="The color the checkpoint was shown")
    offline: bool = Field(description="Scanned offline and uploaded later; false for a scan verified online")
    expires_at: Epoch = Field(description="When the scan is deleted (docs/retention.md)")


class ScanPage(Model):
    scans: list[MyScan] = Field(description="Newest first")
    next_cursor: str | None = _cursor()


class KeptKind(Model):
    kind: str = Field(description="code, scans, trips, stays, venue_visits, checkins, medical_statuses, "
                                  "medical_history, health_records, test_results, vaccinations, local_codes, "
                                  "paper_codes, dependants, guardians, corrections, code_history, access_log, "
                                  "correction_decisions")
    purpose: str = Field(description="What it is kept for")
    count: int
    oldest: Epoch | None = Field(description="When the oldest item was written or happened; null if none")
    next_expires_at: Epoch | None = Field(description="When the next item of the kind is deleted")
    expires_at: Epoch | None = Field(description="When the last item of the kind, as kept now, is deleted")


class MyData(Model):
    kinds: list[KeptKind] = Field(description="Every kind, also those with nothing kept (count 0)")
    as_of: Epoch
    retention: str = Field(description="Where the schedule is written down")


class MyDataExport(Model):
    exported_at: Epoch
    kinds: dict[str, list[dict[str, Any]]] = Field(
        description="Per kind, every item kept, oldest first, as stored (without the tables' keys), each with "
                    "its `expires_at`")


class ErasedKind(Model):
    kind: str = Field(description="paper_codes, dependants, guardians, scans, trips, venue_visits, stays, checkins, "
                                  "local_codes, audit, medical, corrections, code")
    count: int = Field(description="Items erased")


class KeptBack(Model):
    kind: str = Field(description="medical, corrections, code, paper_code_revocations or dependants_data")
    why: str = Field(description="active_medical_status, open_correction, revocation_list (the revoked numbers, "
                                 "no personal data) or not_yours (a dependant's data is the dependant's)")
    detail: str
    until: Epoch | None = Field(description="When it expires, unless lifted or decided earlier")


class Erasure(Model):
    erased: list[ErasedKind]
    kept: list[KeptBack] = Field(description="Empty when everything was erased")
    erased_at: Epoch
    reference: str = Field(description="The erasure's pseudonymous reference, as recorded (no personal data)")
    provinces_told: list[str] = Field(description="Provinces with a basis, sent `person.erased` if subscribed")


class HistoryEntry(Model):
    at: Epoch
    version: int
    cause: str = Field(description="What made the new version: declaration, trip, checkin, medical_status, area, "
                                   "correction ...")
    actor: str | None = Field(description="citizen, a client id, or system")
    color_before: Color | None
    color_after: Color | None
    sources_changed: list[str] | None
    reasons_added: list[str] | None = Field(description="`source:code` of each reason added")
    reasons_removed: list[str] | None


class History(Model):
    history: list[HistoryEntry] = Field(description="Newest first")
    next_cursor: str | None = _cursor()


# --- areas, exposures, medical statuses -----------------------------------------------------------------------------

class LevelSet(Model):
    level: RiskLevel
    start: Epoch = Field(alias="from")


class Area(Model):
    code: str
    name: str | None
    level: RiskLevel = Field(description="In force now")
    since: Epoch | None = Field(description="Since when; null for an area never raised")
    history: list[LevelSet] = Field(description="Every level set, oldest first, each from its effective time")


class SeatRows(Model):
    first: int = Field(alias="from")
    last: int = Field(alias="to")


class Exposure(Model):
    exposure_id: str
    mode: Literal["flight", "train"]
    number: str
    date: dt.date
    case_type: CaseType
    inbound: bool
    carriages: list[int]
    rows: SeatRows | None
    published_at: Epoch


class CoPassengerAnswer(Model):
    number: str = Field(description="The flight or train number as the platform reads it")
    date: dt.date
    affected: bool = Field(description="A case was published on it")
    exposures: list[Exposure]


class HealthStatusSet(Model):
    status: MedicalStatus
    since: Epoch
    id_last4: str
    issuer: str = Field(description="The province that set it, or `national`")
    basis: Basis


# --- provinces -----------------------------------------------------------------------------------------------------

class LocalCodeResult(Model):
    index: int
    id_last4: str
    subject_id: str = Field(description="The person's pseudonym for your province: stable, and different for each "
                                        "province")
    has_national_code: bool
    color: Color = Field(description="The consolidated color: the national code's, or an assessment of the sources")
    reasons_by_category: dict[str, Color] = Field(description="Source -> its most severe live color")
    reasons: list[str] = Field(description="The live reasons' codes")
    local_codes: list[LocalCode]


class LookupResult(Model):
    lookup_id: str
    purpose: str
    at: Epoch
    results: list[LocalCodeResult] = Field(description="One per ID number asked, in order")


class Stale(Model):
    index: int
    reason: str


class SyncResult(Model):
    received: int
    written: int
    stale: list[Stale] = Field(description="Records not written, by their index in the batch")


class ProvinceKey(Model):
    kid: str
    kty: str
    crv: str
    alg: str = Field(description="ES256 or EdDSA")
    nbf: Epoch | None = None
    exp: Epoch | None = None


class RevokedKey(Model):
    kid: str
    at: Epoch


class ProvinceKeys(Model):
    province: str
    keys: list[ProvinceKey]
    revoked: list[RevokedKey] = Field(description="Never verify again")
    version: int
    updated_at: Epoch


# --- webhooks ------------------------------------------------------------------------------------------------------

class WebhookSecret(Model):
    created_at: Epoch
    retire_at: Epoch | None = Field(description="When a rotated-out secret stops signing; null for the newest")


class Webhook(Model):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    created_at: Epoch
    updated_at: Epoch
    secrets: list[WebhookSecret] = Field(description="The secrets signing deliveries now (never their values)")


class NewWebhook(Webhook):
    secret: str = Field(description="The new signing secret (`whsec_...`): shown in this answer only")


class Webhooks(Model):
    webhooks: list[Webhook]


class Attempt(Model):
    at: Epoch
    attempt: int
    status_code: int | None = Field(description="The endpoint's answer; null when none came")
    latency_ms: float
    retry_after: int | None = Field(description="Seconds, from the endpoint's Retry-After")
    error: str | None


class DeliveryAttempt(Model):
    """The attempt made now; only `delivery_id` when another sender holds the delivery."""
    delivery_id: str
    at: Epoch | None = None
    attempt: int | None = None
    status_code: int | None = None
    latency_ms: float | None = None
    retry_after: int | None = None
    error: str | None = None
    status: Literal["pending", "delivered", "dead"] | None = None
    next_attempt_at: Epoch | None = None


class Delivery(Model):
    id: str
    event_type: str
    status: Literal["pending", "delivered", "dead"]
    attempts: list[Attempt]
    next_attempt_at: Epoch | None = Field(description="While pending")
    created_at: Epoch
    replays: int


class DeliveryPage(Model):
    deliveries: list[Delivery] = Field(description="Newest first")
    next_cursor: str | None = _cursor()


# --- corrections ---------------------------------------------------------------------------------------------------

class Correction(Model):
    id: str
    status: Literal["pending", "approved", "rejected"]
    source: str
    reason_code: str
    ref: str | None
    description: str
    evidence: str | None
    province: str = Field(description="Whose queue: the province that owns the reason's source, or `national`")
    created_at: Epoch
    decided_at: Epoch | None
    decision_reason: str | None
    lifted_until: Epoch | None = Field(description="An approval lifts the source until then")
    override_color: Color | None
    name_masked: str | None
    due_by: Epoch = Field(description="A reviewer decides within three days (docs/corrections.md)")
    id_last4: str | None


class DecidedCorrection(Correction):
    color: Color | None = Field(description="The person's color after an approval; null after a rejection")


class CorrectionPage(Model):
    corrections: list[Correction]
    next_cursor: str | None = _cursor()


class Institution(Model):
    name: str
    county: str = Field(description="GB/T 2260")


class TestResult(Model):
    __test__ = False
    record_id: str
    province: str = Field(description="The province that pushed it (itself or through one of its labs)")
    sample_time: Epoch
    result_time: Epoch
    result: Literal["negative", "positive", "invalid"]
    test_type: Literal["pcr", "antigen"]
    institution: Institution


class MyTests(Model):
    tests: list[TestResult] = Field(description="Newest sample first; kept 30 days after the sample (positive: 180)")


class Vaccination(Model):
    record_id: str
    province: str
    product: str
    dose: int
    date: dt.date
    institution: Institution


class MyVaccinations(Model):
    vaccinations: list[Vaccination] = Field(description="By date")


class EntryRule(Model):
    colors: list[Color]
    negative_test_within_hours: int | None
    min_doses: int | None


class CheckpointRule(Model):
    client_id: str
    rule_id: str | None = Field(description="Named by the rule's content; null: no rule")
    rule: EntryRule | None
    updated_at: Epoch | None


class Venue(Model):
    venue_id: str = Field(description="`ven_` and 12 hex digits")
    number: str = Field(description="The 8-digit venue number printed on the poster (the last is a check digit)")
    name: str
    county: str = Field(description="GB/T 2260 county-level code")
    county_name: str | None
    province: str
    address: str
    type: Literal["shop", "transport", "office", "school", "hospital", "other"]
    capacity: int | None
    active: bool = Field(description="false: deactivated, every scan is refused")
    token: str = Field(description="The venue token (ES256 JWS, `typ: venue`) of the current generation")
    token_generation: int = Field(description="Rotating the token increments it; older tokens are refused")
    token_expires_at: Epoch
    scan_path: str = Field(description="What the poster's QR opens, relative to the app's base: `venue#<token>`")
    created_by: str = Field(description="The client that registered it")
    created_at: Epoch
    updated_at: Epoch


class VenuePage(Model):
    venues: list[Venue]
    next_cursor: str | None = _cursor()


class VisitedVenue(Model):
    venue_id: str
    name: str
    number: str
    county: str
    county_name: str | None
    type: str


class VenueMember(Model):
    dependant_id: str
    relationship: str = Field(description="What the member is to me, as `GET /v1/me/dependants` says")
    recorded: bool = Field(description="false: refused (`refused` says why), or recorded already in the same 5 "
                                       "minutes (`visited_at` says when)")
    visited_at: Epoch | None = Field(description="When the member's visit was recorded; null when refused")
    color: Color | None = Field(description="The member's own live color; null when they have no code")
    reasons: list[CodeReason]
    name_masked: str
    id_last4: str
    status: str | None
    refused: Literal["no_code", "concurrent_update"] | None = Field(
        description="Why this member's visit was not recorded: `no_code` (apply for them first, X-Acting-For), or "
                    "`concurrent_update` (scan again); null when recorded now or in the same 5 minutes")


class VenuePass(Model):
    recorded: bool = Field(description="false: a visit of this venue in the same 5 minutes was recorded already")
    visited_at: Epoch = Field(description="When the visit was recorded (the first scan of the 5 minutes)")
    checked_at: Epoch = Field(description="Now: the pass screen's clock starts here")
    venue: VisitedVenue
    color: Color = Field(description="My live color, as GET /v1/codes/me")
    reasons: list[CodeReason]
    name_masked: str
    id_last4: str
    status: str
    members: list[VenueMember] = Field(description="One card per family member listed in the request, in its order")


class VenueExposure(Model):
    model_config = ConfigDict(populate_by_name=True)
    exposure_id: str
    venue_id: str
    venue_name: str
    venue_number: str
    county: str
    start: Epoch = Field(alias="from")
    end: Epoch = Field(alias="to")
    buffer_seconds: int = Field(description="Visits this long before `from` or after `to` count too")
    case_type: CaseType
    province: str | None
    published_at: Epoch


class VenueVisit(Model):
    visited_at: Epoch
    name_masked: str
    id_last4: str


class VenueVisits(Model):
    model_config = ConfigDict(populate_by_name=True)
    venue_id: str
    start: Epoch = Field(alias="from")
    end: Epoch = Field(alias="to")
    visits_list: list[VenueVisit] = Field(
        alias="list", description="This page's visits in the window (one per person per 5 minutes), masked; ordered "
        "by shard, then 5-minute bucket, not by time across the page. How many: the venue's stats")
    next_cursor: str | None = _cursor()


class VenueHour(Model):
    hour: int = Field(description="0-23, China Standard Time")
    visits: int


class VenueStats(Model):
    venue_id: str
    date: dt.date
    total: int
    hours: list[VenueHour]
