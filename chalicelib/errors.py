"""Every error code a client can be answered with, in one registry, and the exceptions that carry them.

A refusal is `{"error": {"code", "message", "details"}}`, mapped from these exceptions in one place
(chalicelib/api/http.py). The tables of docs/errors.md are generated from CATALOGUE and GATEWAY:
`python -m chalicelib.errors` rewrites them in place, and tests/test_errors.py fails while the document
differs, or when any code raises a (status, code) that is not registered here.

An entry is a (status, code) pair: one code, `invalid_assertion`, is answered with two statuses, 401 for an ID
token that does not verify and 422 for one that verifies but names no valid person.
"""
# No `from __future__ import annotations`: NamedTuple would compile each field's annotation string at every cold start
from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple


class ErrorCode(NamedTuple):   # not a dataclass: every cold container defines it, and that takes ~10x longer
    status: int
    code: str
    when: str            # Markdown, as docs/errors.md shows it
    then: str = ""       # what the client does

    def __str__(self) -> str:
        return self.code


_REGISTERED: list[ErrorCode] = []


def _code(status: int, code: str, when: str, then: str = "") -> ErrorCode:
    entry = ErrorCode(status, code, when, then)
    _REGISTERED.append(entry)
    return entry


_NOT_ISSUED = "not yours, no such thing, or not an id of the shape the platform issues (`wh_` and 16 hex " \
              "digits, `evt_` and 23 characters, `cor_` and 16 hex digits: [openapi.json](openapi.json))"
_SAME_KEY = "with the same `Idempotency-Key` where the operation takes one"

# --- answered by the platform, in the order docs/errors.md lists them within a status -------------------------------
MALFORMED_JSON = _code(400, "malformed_json", "the body is not JSON, or not a JSON object", "fix the client")
BAD_REQUEST = _code(400, "bad_request", "e.g. a binary response asked for without a matching `Accept` header",
                    "send `Accept: image/png` for `format=png`")
NOT_FOR_DEPENDANTS = _code(
    400, "not_for_dependants", "`X-Acting-For` sent to an operation a guardian cannot do for a dependant "
    "([identity.md](identity.md#acting-for-a-dependant))", "leave the header out, or log in as the dependant")
UNAUTHENTICATED = _code(401, "unauthenticated", "no or invalid `Authorization: Bearer` token", "log in again")
TOKEN_EXPIRED = _code(401, "token_expired", "the access token has expired", "log in again")
INVALID_CLIENT = _code(
    401, "invalid_client", "at `/v1/oauth/token`: unknown client, wrong secret, revoked client, or an "
    "`Authorization: Basic` header that cannot be read (not base64, not UTF-8, no `:`); answered with "
    "`WWW-Authenticate: Basic` (RFC 6749 §5.2)", "check credentials with ops")
INVALID_ASSERTION = _code(401, "invalid_assertion", "the identity provider's ID token does not verify, or carries "
                                                    "no valid identity document ([identity.md](identity.md))",
                          "log in at the identity provider again")
IDP_NOT_CONFIGURED = _code(401, "idp_not_configured", "an ID token (`assertion`) sent to a stage that has no "
                                                      "identity provider configured",
                           "on dev/test log in with `self_asserted`; on prod, report it: the stage is misconfigured")
FORBIDDEN = _code(403, "forbidden", "the caller's role may not do this", "use the right client")
SELF_ASSERTION_DISABLED = _code(403, "self_assertion_disabled", "a self-asserted identity on the prod stage",
                                "send an ID token as `assertion`")
OUTSIDE_PROVINCE = _code(403, "outside_province", "a province or health authority acting outside its own province",
                         "use that province's client")
BASIS_REQUIRED = _code(
    403, "basis_required", "a health authority sets the status of a person not connected to its province, without "
    "stating a basis ([provinces.md](provinces.md#health-authorities-medical-statuses))",
    "state the `basis`, or leave it to the person's province")
VENUE_INACTIVE = _code(403, "venue_inactive", "a visit to a venue its administrators deactivated "
                                             "([venues.md](venues.md))", "the venue is closed for scanning")
NO_CODE = _code(404, "no_code", "the citizen has not applied yet", "`POST /v1/codes`")
NOT_FOUND = _code(404, "not_found", "unknown resource")
UNKNOWN_AREA = _code(404, "unknown_area", "not a GB/T 2260 division code")
UNKNOWN_PROVINCE = _code(404, "unknown_province", "the province has registered no keys, or the path's code is not a "
                                                  "two-digit province code")
UNKNOWN_WEBHOOK = _code(404, "unknown_webhook", _NOT_ISSUED)
UNKNOWN_DELIVERY = _code(404, "unknown_delivery", _NOT_ISSUED)
UNKNOWN_CORRECTION = _code(404, "unknown_correction", _NOT_ISSUED)
UNKNOWN_CHECKPOINT = _code(404, "unknown_checkpoint", "no checkpoint client has this id")
UNKNOWN_DEPENDANT = _code(404, "unknown_dependant", "`X-Acting-For`, the path or a visit's `members[i]` (details "
                                                  "name the index) names no dependant of yours (never added, "
                                                  "removed by you, or taken back by them)",
                          "`GET /v1/me/dependants`")
UNKNOWN_PAPER_CODE = _code(404, "unknown_paper_code", "no paper code has this number, or it is not yours to manage",
                            "check the 12 digits")
UNKNOWN_GUARDIAN = _code(404, "unknown_guardian", "the path names no active guardian of yours",
                         "`GET /v1/me/guardians`")
UNKNOWN_VENUE = _code(404, "unknown_venue", "no venue has this id or venue number (an id is `ven_` and 12 hex "
                                           "digits)", "check the number on the poster")
METHOD_NOT_ALLOWED = _code(405, "method_not_allowed", "wrong HTTP method for the path")
CONCURRENT_UPDATE = _code(409, "concurrent_update", "the record kept changing under us", "retry")
REQUEST_IN_PROGRESS = _code(409, "request_in_progress", "the same `Idempotency-Key` is being processed",
                            "retry after a second")
CODE_REVOKED = _code(409, "code_revoked", "a QR was asked for a revoked code", "contact a health authority")
DELIVERY_PENDING = _code(409, "delivery_pending", "replaying a delivery that is still being retried", "wait for it")
TOO_MANY_WEBHOOKS = _code(409, "too_many_webhooks", "a province holds 20 subscriptions already", "delete one")
TOO_MANY_OPEN_CORRECTIONS = _code(409, "too_many_open_corrections", "three correction requests are open already",
                                  "wait for a decision")
TOO_MANY_DEPENDANTS = _code(409, "too_many_dependants", "a guardian holds 5 dependants already", "remove one")
TOO_MANY_GUARDIANS = _code(409, "too_many_guardians", "the dependant has two guardians already",
                           "one of them removes the dependant, or the dependant removes one")
PAPER_CODE_REVOKED = _code(409, "paper_code_revoked", "the paper code was revoked already", "issue a new one")
ALREADY_LINKED = _code(409, "already_linked", "the person is your dependant already, or took their code back from "
                                              "you (then only they can change that)")
ALREADY_DECIDED = _code(409, "already_decided", "a correction request was decided (perhaps by another reviewer)",
                        "read its decision")
EMERGENCY_ENDED = _code(
    410, "emergency_ended", "the emergency has ended on this stage (ops `emergency end`, "
    "[deploy.md](deploy.md#ending-the-emergency)): no code is issued or updated and no QR token is signed any "
    "more; its personal data is purged",
    "nothing: the health code is no longer needed")
PAYLOAD_TOO_LARGE = _code(413, "payload_too_large", "the body is over 64 KiB (512 KiB for `/v1/sync/*` batches and "
                                                    "`/v1/verifications/batch`); `details` gives the limit",
                          "split the request")
UNSUPPORTED_MEDIA_TYPE = _code(
    415, "unsupported_media_type", "a body that is not declared `application/json` (or form data at "
    "`/v1/oauth/token`), including one sent with no `Content-Type` at all", "set `Content-Type`")
VALIDATION_FAILED = _code(
    422, "validation_failed", "fields are missing, extra, of the wrong type or out of range; `details` names each, "
    "with a `type` such as `missing`, `contains_id_number` ([below](#no-id-number-outside-id_number)), "
    "`unsafe_url` (a webhook URL no request may or can go to), `cursor` ([below](#cursors))", "fix the named fields")
INVALID_VENUE_TOKEN = _code(
    422, "invalid_venue_token", "the scanned venue code is not one of ours: `details[0].reason` is `malformed` (not a "
    "venue token, or not a token at all), `unknown_key`, `bad_signature` (forged or altered) or `expired` "
    "([venues.md](venues.md#refusals))", "type the venue number from the poster instead")
VENUE_TOKEN_REVOKED = _code(422, "venue_token_revoked", "the venue code was replaced by a newer one (its token was "
                                                        "rotated); `details[0].reason` is `revoked`",
                            "scan the venue's current poster")
INVALID_ASSERTION_PERSON = _code(422, "invalid_assertion", "the identity provider's ID token verifies, but the name "
                                                           "it carries is not a valid personal name",
                                 "report it to the identity provider")
UNSUPPORTED_GRANT_TYPE = _code(422, "unsupported_grant_type", "`grant_type` other than `client_credentials`")
IDEMPOTENCY_KEY_REUSED = _code(422, "idempotency_key_reused", "the key was used before with a different body",
                               "use a new key per distinct request")
TOO_MANY_REQUESTS = _code(
    429, "too_many_requests", "a rate limit is spent: per address, person, client or province, each listed in "
    "[limits.md](limits.md); `details` names it; `Retry-After` gives the seconds until its window resets",
    f"retry after `Retry-After` seconds ({_SAME_KEY})")
INTERNAL_ERROR = _code(500, "internal_error", "a fault on our side; no detail is leaked", "retry later")
OVERLOADED = _code(
    503, "overloaded", "DynamoDB stayed throttled or unreachable through three attempts; nothing was half-written "
    "(each write is one conditional call or transaction); `Retry-After: 1`",
    f"retry after the delay, {_SAME_KEY}; checkpoints verify offline with "
    "[the published keys](provinces.md#verifying-our-qr-tokens-offline) meanwhile")
CATALOGUE: tuple[ErrorCode, ...] = tuple(_REGISTERED)

# --- answered by API Gateway before any function runs (infra/package.py GATEWAY_RESPONSES) --------------------------
_REGISTERED.clear()
_code(404, "not_found", "no such path, or not with this method")
_code(403, "forbidden", "refused by the firewall or a resource policy")
_code(413, "payload_too_large", "the request is over API Gateway's 10 MB")
_code(415, "unsupported_media_type", "a content type API Gateway cannot pass on")
_code(429, "too_many_requests", "throttled by the stage's rate limits (not those of [limits.md](limits.md)); "
                                "`Retry-After: 1` (its token bucket refills every second): back off from 1 s")
_code(502, "internal_error", "the function failed to answer")
_code(504, "gateway_timeout", f"the function took longer than 29 s: retry, {_SAME_KEY}")
GATEWAY: tuple[ErrorCode, ...] = tuple(_REGISTERED)


def registered(status: int, code: str) -> bool:
    return any(e.status == status and e.code == code for e in CATALOGUE)


def of_status(status: int) -> list[ErrorCode]:
    return [e for e in CATALOGUE if e.status == status]


# --- the exceptions -------------------------------------------------------------------------------------------------

class ApiError(Exception):
    """A refusal. The class gives the status (so `except Conflict` catches every 409) and its usual code; `code=`
    names another registered code of the same status."""
    default: ClassVar[ErrorCode] = BAD_REQUEST
    status, code = default.status, default.code
    retry_after: int | None = None   # seconds, sent as Retry-After

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.status, cls.code = cls.default.status, cls.default.code

    def __init__(self, message: str, details: Any = None, code: ErrorCode | str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else []
        if code is not None:
            self.code = str(code)


class MalformedRequest(ApiError):
    default = MALFORMED_JSON


class ValidationFailed(ApiError):
    default = VALIDATION_FAILED


class Unauthenticated(ApiError):
    default = UNAUTHENTICATED
    challenge = 'Bearer realm="healthcode"'   # WWW-Authenticate: how to authenticate instead


class InvalidClient(Unauthenticated):
    """A system client that failed to authenticate at the token endpoint. RFC 6749 §5.2: 401, with the
    challenge of the scheme the client authenticates with there (HTTP Basic)."""
    default = INVALID_CLIENT
    challenge = 'Basic realm="healthcode"'


class Forbidden(ApiError):
    default = FORBIDDEN


class NotFound(ApiError):
    default = NOT_FOUND


class Conflict(ApiError):
    """A 409 always says which conflict (there is no generic one): `code=` is required."""
    default = CONCURRENT_UPDATE

    def __init__(self, message: str, details: Any = None, *, code: ErrorCode | str):
        super().__init__(message, details, code)


class Gone(ApiError):
    default = EMERGENCY_ENDED


class PayloadTooLarge(ApiError):
    default = PAYLOAD_TOO_LARGE


class UnsupportedMediaType(ApiError):
    default = UNSUPPORTED_MEDIA_TYPE


class TooManyRequests(ApiError):
    """An abuse limit is spent (docs/limits.md) until its window ends, `retry_after` seconds from now."""
    default = TOO_MANY_REQUESTS

    def __init__(self, message: str, retry_after: int, details: Any = None):
        super().__init__(message, details)
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    default = OVERLOADED


def field_error(field: str, message: str, kind: str = "invalid") -> ValidationFailed:
    return ValidationFailed("The request has invalid fields.", [{"field": field, "message": message, "type": kind}])


# --- docs/errors.md -------------------------------------------------------------------------------------------------

END = "<!-- end of generated table -->"


def _rows(entries: Iterable[ErrorCode], with_then: bool) -> list[str]:
    """One row per entry, sorted by status; entries that say the same of the same status share a row."""
    rows: list[tuple[ErrorCode, list[str]]] = []
    for entry in sorted(entries, key=lambda e: e.status):   # stable: registry order within a status
        last = rows[-1][0] if rows else None
        if last is not None and (last.status, last.when, last.then) == (entry.status, entry.when, entry.then):
            rows[-1][1].append(entry.code)
        else:
            rows.append((entry, [entry.code]))
    lines = []
    for entry, codes in rows:
        cells = [str(entry.status), ", ".join(f"`{c}`" for c in codes), entry.when]
        cells += [entry.then] if with_then else []
        lines.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    return lines


def tables() -> dict[str, str]:
    """The generated tables of docs/errors.md, by the name their start marker gives."""
    return {
        "CATALOGUE": "\n".join(["| status | code | when | what the client does |", "|---|---|---|---|",
                                *_rows(CATALOGUE, with_then=True)]) + "\n",
        "GATEWAY": "\n".join(["| status | code | when |", "|---|---|---|", *_rows(GATEWAY, with_then=False)]) + "\n",
    }


def start_marker(name: str) -> str:
    return f"<!-- generated from chalicelib/errors.py {name}: python -m chalicelib.errors -->"


def rewrite(document: str) -> str:
    """`document` with each generated table replaced by the registry's; every marker must be there."""
    for name, table in tables().items():
        start = start_marker(name)
        before, found, rest = document.partition(start + "\n")
        if not found or END not in rest:
            raise ValueError(f"docs/errors.md has no `{start}` ... `{END}` block")
        document = before + start + "\n" + table + rest[rest.index(END):]
    return document


def main() -> int:
    """Rewrite docs/errors.md's generated tables from the registry."""
    from pathlib import Path

    document = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
    text = document.read_text(encoding="utf-8")
    updated = rewrite(text)
    if updated != text:
        document.write_text(updated, encoding="utf-8")
    print(f"docs/errors.md {'rewritten' if updated != text else 'is current'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
