"""The OpenAPI 3.1 document of the API, generated from the Chalice route table and the pydantic models.

`GET /openapi.json` serves it (chalicelib/api/docs.py, which imports this module only when asked);
docs/openapi.json is the committed copy and tests/test_openapi.py fails
when that copy is stale. Regenerate it with `make openapi`, i.e.
`.venv/bin/python -m chalicelib.api.openapi > docs/openapi.json`.

Where each part comes from, so that a new route documents itself without an edit here:
- paths, methods, path parameters and request content types: the route table (`app.routes`); each path
  parameter's shape: PATH_PARAMETERS (the ids the platform issues, chalicelib/domain/identifiers.py), or
  the operation's `path` in the OPERATIONS table (division and province codes);
- request body and query models: read from the view's code, the model it passes to `body(request, M)`,
  `parse(M, raw)` or `query(request, M)` (names resolved in the view's module, aliases included);
- who may call it: the roles the view passes to `principal(request, Role.X, ...)`, directly or through a
  helper function of its own module; no call means a public operation;
- success statuses: the constant status passed to `ok(...)` or `Response(status_code=...)`;
- error statuses: those the parsing, authorisation and idempotency helpers it calls can raise;
- rate limits (a 429 with Retry-After, and `x-rate-limits`): the named limits of chalicelib/domain/limits.py
  that list the operation;
- what code cannot tell (response bodies, GB/T 38963 names, headers, errors raised deep in a
  service): the OPERATIONS table below, by (method, path). A route missing from it gets a permissive
  object as its success body.
Only the JSON API is documented: paths under API_PREFIXES (the static web client is not part of it).
"""
from __future__ import annotations

import ast
import functools
import inspect
import json
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from chalice import Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api import http, schemas
from chalicelib.domain import identifiers, limits
from chalicelib.security.access import SYSTEM_ROLES, Role
from chalicelib.services import idempotency

API_PREFIXES = ("/v1/", "/.well-known/", "/openapi.json")
BEARER, CLIENT = "citizenBearer", "systemClient"
TOKEN_URL = "/v1/oauth/token"
REF = "#/components/schemas/{model}"

# GB/T 38963-2020 "Personal health information code — Application interface", clause 6: tag -> (clause, 中文名)
GBT_38963 = {
    "health declaration": ("6.2", "用户健康信息申报"),
    "trip declaration": ("6.3", "用户行程申报"),
    "health information query": ("6.4", "用户健康信息查询"),
    "code invocation application": ("6.5", "健康码调用申请"),
    "code generation": ("6.6", "健康码制码请求"),
    "code verification": ("6.7", "健康码验码请求"),
    "error correction": ("6.8", "用户健康信息纠错"),
}
# a path prefix whose every operation maps to one GB/T 38963 operation (new routes under it included)
GBT_PREFIXES = {"/v1/corrections": "error correction"}

ERRORS = {  # status -> (component name, when)
    400: ("BadRequest", "The body is not JSON or not a JSON object (`malformed_json`), or another malformed request"),
    401: ("Unauthenticated", "No, an invalid or an expired access token (`unauthenticated`, `token_expired`); "
                             "unknown client, wrong secret or unreadable HTTP Basic credentials (`invalid_client`)"),
    403: ("Forbidden", "The caller's role may not do this, or not for this province or area"),
    404: ("NotFound", "No such resource (or not one the caller may see)"),
    409: ("Conflict", "The record changed under us, a request with this Idempotency-Key is in progress, or the "
                      "state does not allow it"),
    413: ("PayloadTooLarge", "The body is larger than the limit (64 KiB; 512 KiB for province batches)"),
    415: ("UnsupportedMediaType", "A `Content-Type` other than `application/json` (or form data at "
                                  "/v1/oauth/token), or none with a body, on any method"),
    422: ("ValidationFailed", "Invalid fields or query parameters; `details` names each"),
    429: ("TooManyRequests", "A rate limit of the operation is spent (`too_many_requests`; docs/limits.md); retry "
                             "after `Retry-After` seconds, when its window resets"),
    503: ("Overloaded", "The database stayed throttled or unreachable (`overloaded`); retry after `Retry-After` "
                        "seconds. Checkpoints verify QR tokens offline with /.well-known/jwks.json meanwhile"),
}
BODY_ERRORS = {400, 413, 415, 422}
RETRY_AFTER = {"description": "Seconds to wait before retrying", "required": True,
               "schema": {"type": "string", "pattern": "^[0-9]+$"}}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A retry with the same key and body gets the first answer back (`Idempotent-Replayed: true`) "
                   "and writes nothing twice; the same key with another body is refused (422 "
                   "`idempotency_key_reused`).",
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_\-:.]{1,128}$"},
}
OAUTH_FORM = {
    "type": "object", "required": ["grant_type"],
    "description": "RFC 6749 §4.4. Send the credentials as HTTP Basic (client_secret_basic) or as "
                   "client_id and client_secret here (client_secret_post).",
    "properties": {"grant_type": {"const": "client_credentials"}, "client_id": {"type": "string"},
                   "client_secret": {"type": "string"}},
}
JWKS = {
    "type": "object", "required": ["keys"],
    "description": "RFC 7517 key set: the public keys (ES256) that sign QR tokens, with their validity.",
    "properties": {"keys": {"type": "array", "items": {"type": "object", "required": ["kty", "kid"],
                                                       "properties": {"kty": {"type": "string"},
                                                                      "kid": {"type": "string"}}}}},
}
PERMISSIVE = {"type": "object", "description": "Not yet specified in this document: a JSON object."}


def _issued(shape: Any, what: str, code: str) -> dict[str, Any]:
    return {"description": f"{what}, as the platform issued it; any other value is `404 {code}`",
            "schema": {"type": "string", "pattern": f"^{shape.pattern}$"}}


# Path parameters by name: the shapes of the ids the platform issues (chalicelib/domain/identifiers.py)
PATH_PARAMETERS = {
    "webhook_id": _issued(identifiers.WEBHOOK_ID, "The subscription's `id`", "unknown_webhook"),
    "delivery_id": _issued(identifiers.EVENT_ID, "The delivery's `id`", "unknown_delivery"),
    "correction_id": _issued(identifiers.CORRECTION_ID, "The request's `id`", "unknown_correction"),
}
PROVINCE_CODE = {"description": "A two-digit GB/T 2260 province code; a province that registered no keys (or "
                                 "no province) is `404 unknown_province`",
                  "schema": {"type": "string", "pattern": f"^{identifiers.PROVINCE.pattern}$"}}
AREA_CODE = {"description": "A six-digit GB/T 2260 division code; any other is `404 unknown_area`",
             "schema": {"type": "string", "pattern": "^[0-9]{6}$"}}
WWW_AUTHENTICATE = {"description": "How to authenticate: `Bearer` with an access token; `Basic` at "
                                   "/v1/oauth/token, with the client's id and secret (RFC 6749 §5.2)",
                    "required": True, "schema": {"type": "string", "pattern": "^(Bearer|Basic) "}}


@dataclass(frozen=True)
class Op:
    """What the code of a view cannot tell about its operation."""
    summary: str = ""
    gbt: tuple[str, ...] = ()                                   # GB/T 38963 tags
    ok: dict[int, Any] = field(default_factory=dict)            # status -> model, schema dict, or {media: schema}
    errors: frozenset[int] = frozenset()                        # raised deeper than the view's own code
    query: dict[str, dict[str, Any]] = field(default_factory=dict)  # parameter schema overrides
    body: dict[str, Any] | None = None                          # request body schema by media type (override)
    example: dict[str, Any] | None = None                       # a request body example
    params: dict[str, Any] = field(default_factory=dict)        # parameter examples by name
    path: dict[str, dict[str, Any]] = field(default_factory=dict)   # path parameters, where not PATH_PARAMETERS


OPERATIONS: dict[tuple[str, str], Op] = {
    ("POST", "/v1/sessions"): Op(
        "Log in as a citizen: an ID token from the identity provider, or (dev/test) a self-asserted identity",
        ("code invocation application",), {201: schemas.CitizenSession}, frozenset({401, 403}),
        example={"self_asserted": {"name": "王小明", "id_number": "510104199001011230", "phone": "13800000000"}}),
    ("POST", TOKEN_URL): Op(
        "OAuth 2.0 client credentials: a system client's access token", ("code invocation application",),
        {200: schemas.ClientToken}, frozenset({401}),
        body={"application/x-www-form-urlencoded": OAUTH_FORM, "application/json": OAUTH_FORM},
        example={"grant_type": "client_credentials", "client_id": "ch_0123456789abcdef",
                 "client_secret": "hcs_the-secret-ops-printed-once"}),
    ("POST", "/v1/codes"): Op(
        "Apply for a health code with a health declaration (201 the first time, 200 for an update)",
        ("health declaration", "code generation"), {200: schemas.HealthCode, 201: schemas.HealthCode},
        frozenset({409}), example={"temperature": 36.5, "symptoms": [], "contact_with_cases": False,
                                   "stayed_in_high_risk_area": False, "current_area": "510104"}),
    ("GET", "/v1/codes/me"): Op("My health code: live color and every live reason", ("health information query",),
                                {200: schemas.HealthCode}, frozenset({404})),
    ("GET", "/v1/codes/me/qr"): Op(
        "A fresh QR token for my code, valid for a few minutes; `format=svg` or `format=png` (with "
        "`Accept: image/png`) renders it", ("code generation",),
        {200: {"application/json": schemas.QrToken, "image/svg+xml": {"type": "string"},
               "image/png": {"type": "string", "contentMediaType": "image/png"}}},
        frozenset({400, 404, 409}), query={"format": {"type": "string", "enum": ["text", "svg", "png"],
                                                      "default": "text"}}),
    ("POST", "/v1/verifications"): Op(
        "Verify a scanned QR token; a refusal is `valid: false` with a reason, not an error",
        ("code verification",), {200: {"oneOf": [schemas.VerificationAccepted, schemas.VerificationRefused]}},
        example={"token": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln", "checkpoint_id": "gate-3",
                 "temperature": 36.6}),
    ("GET", "/.well-known/jwks.json"): Op("Public keys for offline verification of our QR tokens",
                                          ("code verification",), {200: JWKS}),
    ("GET", "/v1/provinces/{code}/keys"): Op("A province's registered public keys (trust list)",
                                             ("code verification",), params={"code": "44"},
                                             path={"code": PROVINCE_CODE}),
    ("PUT", "/v1/provinces/{code}/keys"): Op("Register my province's public keys (trust list)",
                                             path={"code": PROVINCE_CODE}),
    ("POST", "/v1/trips"): Op("Declare a trip of the last 14 days", ("trip declaration",),
                              {201: schemas.Trip}, frozenset({409}),
                              example={"date": "2026-01-15", "from": "440106", "to": "510104", "mode": "train",
                                       "number": "G1234", "carriage": 5, "seat": "12F"}),
    ("GET", "/v1/trips"): Op("My trips of the last 14 days, newest first", ("trip declaration",),
                             {200: schemas.TripPage}),
    ("POST", "/v1/checkins"): Op("Daily health check-in", ("health declaration",), {201: schemas.CheckIn},
                                 example={"area": "440106", "temperature": 36.6, "symptoms": []}),
    ("GET", "/v1/me/risk"): Op("My risk prompt: color, reasons and what to do", ("health information query",)),
    ("GET", "/v1/me/cities"): Op("Cities I stayed in over the last 14 days", ("health information query",)),
    ("GET", "/v1/me/local-codes"): Op("Provinces' local codes held for me", ("health information query",)),
    ("GET", "/v1/me/lookups"): Op("Which provinces looked me up, when and why", ("health information query",)),
    ("GET", "/v1/me/history"): Op("The history of my code's color and reasons", ("health information query",)),
    ("POST", "/v1/sync/lookups"): Op("A province looks people up (audited, shown to each person)",
                                     ("health information query",),
                                     example={"id_numbers": ["510104199001011230"],
                                              "purpose": "Arrival screening at Guangzhou South"}),
    ("GET", "/v1/exposures"): Op("Co-passenger query: was a case on this flight or train?"),
    ("POST", "/v1/exposures"): Op("Publish a flight or train with cases"),
    ("PUT", "/v1/areas/{code}"): Op("Set an area's risk level (health authority of its province)",
                                    params={"code": "510104"}, example={"level": "medium"}, path={"code": AREA_CODE}),
    ("GET", "/v1/areas/{code}"): Op("An area's risk level", params={"code": "510104"}, path={"code": AREA_CODE}),
    ("POST", "/v1/health-statuses"): Op("Set a person's medical status (health authority)",
                                        example={"id_number": "510104199001011230", "status": "recovered"}),
    ("POST", "/v1/webhooks"): Op("Subscribe a webhook; its signing secret is shown once", (), {}, frozenset({409}),
                                 example={"url": "https://hooks.example.gov.cn/healthcode",
                                          "event_types": ["area.level_changed", "person.color_changed"]}),
    ("PATCH", "/v1/webhooks/{webhook_id}"): Op("Change a webhook", (), {}, frozenset({409})),
    ("GET", "/openapi.json"): Op("This document", (), {200: {"type": "object", "required": ["openapi", "paths"]}}),
}


# ---------------------------------------------------------------------------------------------------
# What a view's code says


@dataclass
class ViewFacts:
    bodies: list[type[BaseModel]] = field(default_factory=list)
    queries: list[type[BaseModel]] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    unknown_status: bool = False
    idempotent: bool = False
    authorises: bool = False


def _target(view: Callable[..., Any]) -> Callable[..., Any]:
    return inspect.unwrap(view)


def read_view(view: Callable[..., Any], depth: int = 0) -> ViewFacts:
    """What the view's source says; follows calls to helper functions of its own module (two levels)."""
    view = _target(view)
    facts = ViewFacts()
    names = view.__globals__
    tree = ast.parse(textwrap.dedent(inspect.getsource(view)))

    def resolve(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = resolve(node.value)
            return getattr(owner, node.attr, None) if owner is not None else None
        return None

    def model(node: ast.AST) -> type[BaseModel] | None:
        found = resolve(node)
        return found if isinstance(found, type) and issubclass(found, BaseModel) else None

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = resolve(node.func)
        args = node.args
        if (func is http.body and len(args) >= 2 and (m := model(args[1]))
                or func is http.parse and args and (m := model(args[0]))):
            facts.bodies.append(m)
        elif func is http.query and len(args) >= 2 and (m := model(args[1])):
            facts.queries.append(m)
        elif func is http.principal:
            facts.authorises = True
            facts.roles += [role for arg in args[1:] if isinstance(role := resolve(arg), Role)]
        elif func is http.ok:
            status = args[1] if len(args) >= 2 else next((k.value for k in node.keywords if k.arg == "status"), None)
            if status is None:
                facts.statuses.add(200)
            elif isinstance(status, ast.Constant) and isinstance(status.value, int):
                facts.statuses.add(status.value)
            else:
                facts.unknown_status = True
        elif func is Response:
            status = next((k.value for k in node.keywords if k.arg == "status_code"), None)
            if isinstance(status, ast.Constant) and isinstance(status.value, int):
                facts.statuses.add(status.value)
        elif func is idempotency.run:
            facts.idempotent = True
        elif (inspect.isfunction(func) and func.__module__ == view.__module__ and func is not view
              and depth < 2):
            helper = read_view(func, depth + 1)
            facts.bodies += helper.bodies
            facts.queries += helper.queries
            facts.roles += helper.roles
            facts.authorises |= helper.authorises
    facts.roles = sorted(set(facts.roles), key=list(Role).index)
    return facts


# ---------------------------------------------------------------------------------------------------
# The document


def _schema_ref(value: Any, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    if isinstance(value, type) and issubclass(value, BaseModel):
        return refs[value]
    if isinstance(value, dict):
        return {k: ([_schema_ref(v, refs) for v in vs] if k in ("oneOf", "anyOf") else vs)
                for k, vs in value.items()}
    raise TypeError(f"not a schema: {value!r}")


def _models_in(value: Any) -> Iterable[type[BaseModel]]:
    if isinstance(value, type) and issubclass(value, BaseModel):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _models_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _models_in(item)


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is a string or absent, never JSON null."""
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        kept = [o for o in options if o.get("type") != "null"]
        return {**(kept[0] if len(kept) == 1 else {"anyOf": kept}), **rest}
    return {k: v for k, v in schema.items() if not (k == "default" and v is None)}


def _media(ok: Any) -> dict[str, Any]:
    if isinstance(ok, dict) and ok and all("/" in k for k in ok):
        return ok
    return {http.JSON: ok}


def _operations(app: Any) -> list[tuple[str, str, Any]]:
    found = []
    for path, methods in app.routes.items():
        if not path.startswith(API_PREFIXES):
            continue
        for method, entry in methods.items():
            found.append((path, method.upper(), entry))
    return sorted(found, key=lambda f: (f[0], ["GET", "PUT", "POST", "PATCH", "DELETE"].index(f[1])
                                        if f[1] in ("GET", "PUT", "POST", "PATCH", "DELETE") else 9))


def build(app: Any) -> dict[str, Any]:
    operations = [(path, method, entry, read_view(entry.view_function), OPERATIONS.get((method, path), Op()))
                  for path, method, entry in _operations(app)]
    models: list[type[BaseModel]] = [schemas.Error]
    for _, _, _, facts, op in operations:
        models += facts.bodies + facts.queries
        for ok in op.ok.values():
            models += list(_models_in(ok))
    models = list(dict.fromkeys(models))
    keys, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    refs = {m: keys[(m, "validation")] for m in models}
    components_schemas = top.get("$defs", {})

    paths: dict[str, dict[str, Any]] = {}
    used_tags: set[str] = set()
    for path, method, entry, facts, op in operations:
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, entry, facts, op, refs,
                                                                components_schemas, used_tags)

    tags = [{"name": name, "description": f"GB/T 38963-2020 {clause} {zh}"}
            for name, (clause, zh) in GBT_38963.items() if name in used_tags]
    tags += [{"name": name} for name in sorted(used_tags - set(GBT_38963))]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "healthcode",
            "version": "1",
            "summary": "The national epidemic-prevention health code platform",
            "description": "Every refusal is `{\"error\": {\"code\", \"message\", \"details\"}}` (docs/errors.md). "
                           "Citizens log in at POST /v1/sessions and send the token as `Authorization: Bearer`; "
                           "system clients (checkpoints, provinces, health authorities, ops) use OAuth 2.0 "
                           "client credentials at POST /v1/oauth/token; the token's scope is the client's role. "
                           "Operations are tagged with the GB/T 38963-2020 interface they implement. "
                           "Every response carries `X-Request-Id`, the id on every log line of the request.",
        },
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": components_schemas,
            "responses": error_responses(refs[schemas.Error]),
            "headers": {"RequestId": {"description": "The request id: on every log line of this request",
                                      "required": True, "schema": {"type": "string", "minLength": 1}}},
            "securitySchemes": {
                BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                         "description": "A citizen's access token from POST /v1/sessions"},
                CLIENT: {"type": "oauth2", "description": "System clients: OAuth 2.0 client credentials; the "
                                                          "token's scope is the client's role",
                         "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": {
                             r.value: f"a {r.value.replace('_', ' ')} client" for r in SYSTEM_ROLES}}}},
            },
        },
    }


def _operation(path: str, method: str, entry: Any, facts: ViewFacts, op: Op, refs: dict[type[BaseModel], Any],
               components: dict[str, Any], used_tags: set[str]) -> dict[str, Any]:
    view = _target(entry.view_function)
    module = view.__module__.rsplit(".", 1)[-1]
    doc = inspect.getdoc(view) or ""
    gbt = op.gbt or tuple(t for prefix, t in GBT_PREFIXES.items() if path.startswith(prefix))
    tags = list(gbt) or [path.split("/")[2] if path.startswith("/v1/") else "discovery"]
    used_tags.update(tags)
    result: dict[str, Any] = {"operationId": f"{module}_{entry.view_name}", "tags": tags}
    summary = op.summary or doc.split("\n")[0]
    if summary:
        result["summary"] = summary
    if gbt:
        result["x-gbt-38963"] = [f"{GBT_38963[t][0]} {GBT_38963[t][1]}" for t in gbt]

    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         **(op.path.get(name) or PATH_PARAMETERS.get(name) or {"schema": {"type": "string", "minLength": 1}}),
         **({"example": op.params[name]} if name in op.params else {})}
        for name in entry.view_args]
    for query_model in facts.queries:
        properties = components_schema_of(query_model, refs, components).get("properties", {})
        for name, info in query_model.model_fields.items():
            key = info.alias or name
            schema = op.query.get(key) or _without_null({k: v for k, v in properties.get(key, {}).items()
                                                        if k not in ("title", "description")})
            parameter = {"name": key, "in": "query", "required": info.is_required(), "schema": schema}
            if info.description:
                parameter["description"] = info.description
            parameters.append(parameter)
    if facts.idempotent:
        parameters.append(IDEMPOTENCY_KEY)
    if parameters:
        result["parameters"] = parameters

    errors = set(op.errors)
    example = {"example": op.example} if op.example is not None else {}
    if op.body is not None:
        result["requestBody"] = {"required": True,
                                 "content": {k: {"schema": v, **example} for k, v in op.body.items()}}
        errors |= BODY_ERRORS
    elif facts.bodies:
        body_schema = refs[facts.bodies[0]]
        result["requestBody"] = {"required": True,
                                 "content": {ct: {"schema": body_schema, **example} for ct in entry.content_types}}
        errors |= BODY_ERRORS
    errors.add(415)  # Chalice refuses a Content-Type other than the route's on every method, GET included
    if facts.queries:
        errors.add(422)
    if entry.view_args:
        errors.add(404)
    if facts.idempotent:
        errors |= {409, 422}
    if getattr(entry.view_function, "answers_overload", False):  # chalicelib/api/http.py route()
        errors.add(503)
    rate_limits = limits.on(method, path)
    if rate_limits:
        errors.add(429)
        result["x-rate-limits"] = [{"name": limit.name, "per": limit.per.name.lower(), "count": limit.count,
                                    "window_seconds": limit.window, "counts": limit.what} for limit in rate_limits]

    security = []
    for role in facts.roles:
        security.append({BEARER: []} if role is Role.CITIZEN else {CLIENT: [role.value]})
    result["security"] = security
    if security:
        errors |= {401, 403}

    responses: dict[str, Any] = {}
    statuses = set(op.ok) or set(facts.statuses) or {200}
    if facts.unknown_status and not op.ok:
        statuses |= {200, 201}
    for status in sorted(statuses):
        if status == 204:
            responses["204"] = {"description": "Done; no content",
                                "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}}
            continue
        ok = op.ok.get(status, PERMISSIVE)
        headers = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}
        if facts.idempotent:
            headers["Idempotent-Replayed"] = {"description": "`true` when this is the stored answer of an earlier "
                                                             "request with the same Idempotency-Key",
                                              "schema": {"type": "string", "enum": ["true"]}}
        responses[str(status)] = {"description": "OK" if status < 300 else "See description",
                                  "headers": headers,
                                  "content": {media: {"schema": _schema_ref(s, refs)}
                                              for media, s in _media(ok).items()}}
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    result["responses"] = responses
    return result


def error_responses(error_schema: dict[str, Any]) -> dict[str, Any]:
    """The shared error responses, each in the one error shape; a 429 and a 503 also say when to come back."""
    responses = {name: {"description": when, "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}},
                        "content": {http.JSON: {"schema": error_schema}}}
                 for name, when in ERRORS.values()}
    for status in (429, 503):
        responses[ERRORS[status][0]]["headers"]["Retry-After"] = RETRY_AFTER
    responses[ERRORS[401][0]]["headers"]["WWW-Authenticate"] = WWW_AUTHENTICATE
    return responses


def components_schema_of(model: type[BaseModel], refs: dict[type[BaseModel], Any],
                         components: dict[str, Any]) -> dict[str, Any]:
    return components[refs[model]["$ref"].rsplit("/", 1)[-1]]


def render(document: dict[str, Any]) -> str:
    """The committed form: stable, indented, UTF-8."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@functools.lru_cache(maxsize=4)
def cached(app: Any) -> dict[str, Any]:
    """The document GET /openapi.json serves (chalicelib/api/docs.py), built once per app."""
    return build(app)


def main() -> int:
    import app as application

    sys.stdout.write(render(build(application.app)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
