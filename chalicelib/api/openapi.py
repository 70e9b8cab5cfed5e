"""The OpenAPI 3.1 document of the API, built from the routes' declarations (chalicelib/api/routes.py).

`GET /openapi.json` serves it (chalicelib/api/docs.py, which imports this module only when asked);
docs/openapi.json is the committed copy and tests/test_openapi.py fails
when that copy is stale. Regenerate it with `make openapi`, i.e.
`.venv/bin/python -m chalicelib.api.openapi > docs/openapi.json`.

Where each part comes from:
- paths, methods, path parameters and request content types: the route table (`app.routes`);
- everything else, from what each route declared where it is defined: its roles (security), body and query
  models, response models by status (chalicelib/api/schemas.py), idempotency (the Idempotency-Key header and
  Idempotent-Replayed), rate limits (a 429 with Retry-After, and `x-rate-limits`), path parameters' shapes,
  GB/T 38963 tags and a request example; its summary is the view's docstring;
- error statuses, and the codes of each (`x-error-codes`): the registry (chalicelib/errors.py) entries that
  what it declared can answer (a token: 401 and 403; a body: 400, 413, 415 and 422; ...), and those it
  declares are refused below it.
Only the JSON API is documented: paths under API_PREFIXES (the static web client is not part of it).
"""
from __future__ import annotations

import functools
import inspect
import json
import re
import sys
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib import errors
from chalicelib.api import http, schemas
from chalicelib.api.routes import Declared, declaration
from chalicelib.errors import ErrorCode
from chalicelib.security.access import SYSTEM_ROLES, Role

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

# The shared error responses by status: their descriptions list the registry's codes of that status
ERRORS = {400: "BadRequest", 401: "Unauthenticated", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Gone",
          413: "PayloadTooLarge", 415: "UnsupportedMediaType", 422: "ValidationFailed", 429: "TooManyRequests",
          503: "Overloaded"}
RETRY_AFTER = {"description": "Seconds to wait before retrying", "required": True,
               "schema": {"type": "string", "pattern": "^[0-9]+$"}}

# What each part of a declaration can be refused with, before or around the view
EVERY_ROUTE = (errors.UNSUPPORTED_MEDIA_TYPE,   # Chalice refuses another Content-Type on every method, GET included
               errors.OVERLOADED)               # the route wrapper, when DynamoDB stays throttled
ROLES = (errors.UNAUTHENTICATED, errors.TOKEN_EXPIRED, errors.FORBIDDEN)
BODY = (errors.MALFORMED_JSON, errors.PAYLOAD_TOO_LARGE, errors.UNSUPPORTED_MEDIA_TYPE)
QUERY = (errors.VALIDATION_FAILED,)
IDEMPOTENT = (errors.VALIDATION_FAILED, errors.REQUEST_IN_PROGRESS, errors.IDEMPOTENCY_KEY_REUSED)
LIMITED = (errors.TOO_MANY_REQUESTS,)

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A retry with the same key and body gets the first answer back (`Idempotent-Replayed: true`) "
                   "and writes nothing twice; the same key with another body is refused (422 "
                   "`idempotency_key_reused`).",
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_\-:.]{1,128}$"},
}
ACTING_FOR = {
    "name": "X-Acting-For", "in": "header", "required": False,
    "description": "A guardian acting for one of their dependants names the dependant's `dependant_id` "
                   "(`GET /v1/me/dependants`): the operation is the dependant's, and goes into the dependant's "
                   "access log ([identity.md](identity.md#acting-for-a-dependant)).",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_\\-]{15}$"},
}
IDEMPOTENT_REPLAYED = {"description": "`true` when this is the stored answer of an earlier request with the same "
                                      "Idempotency-Key", "schema": {"type": "string", "enum": ["true"]}}
PERMISSIVE = {"type": "object", "description": "Not yet specified in this document: a JSON object."}
WWW_AUTHENTICATE = {"description": "How to authenticate: `Bearer` with an access token; `Basic` at "
                                   "/v1/oauth/token, with the client's id and secret (RFC 6749 §5.2)",
                    "required": True, "schema": {"type": "string", "pattern": "^(Bearer|Basic) "}}
REQUEST_ID = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}
METHOD_ORDER = ("GET", "PUT", "POST", "PATCH", "DELETE")


# ---------------------------------------------------------------------------------------------------
# What a declaration says


def declared(entry: Any, method: str, path: str) -> Declared:
    found = declaration(entry.view_function)
    if found is None:
        raise LookupError(f"{method} {path} declares nothing: register it with chalicelib.api.routes.route")
    return found


def _model(value: Any) -> type[BaseModel] | None:
    """A response model: named (chalicelib/api/schemas.py), or given."""
    if isinstance(value, str):
        found = getattr(schemas, value, None)
        if not (isinstance(found, type) and issubclass(found, BaseModel)):
            raise LookupError(f"chalicelib/api/schemas.py has no model {value}")
        return found
    return value if isinstance(value, type) and issubclass(value, BaseModel) else None


def _media(spec: Any) -> dict[str, Any]:
    """A response's content by media type: a spec that is not already by media type is JSON."""
    if isinstance(spec, dict) and spec and all("/" in k for k in spec):
        return spec
    return {http.JSON: spec}


def _alternatives(schema: dict[str, Any]) -> list[Any]:
    return [item for key in ("oneOf", "anyOf") for item in schema.get(key, [])]


def _models_in(spec: Any) -> Iterable[type[BaseModel]]:
    """The models a response spec names: itself, by media type, or among a schema's alternatives."""
    for media_spec in _media(spec).values():
        if (model := _model(media_spec)) is not None:
            yield model
        elif isinstance(media_spec, dict):
            for alternative in _alternatives(media_spec):
                yield from _models_in(alternative)


def _schema_ref(value: Any, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    if (model := _model(value)) is not None:
        return refs[model]
    if isinstance(value, dict):
        return {k: ([_schema_ref(v, refs) for v in vs] if k in ("oneOf", "anyOf") else vs)
                for k, vs in value.items()}
    raise TypeError(f"not a schema: {value!r}")


def answers(route: Declared, path_args: Iterable[str]) -> list[ErrorCode]:
    """Every registered refusal the route can answer, by status, in the registry's order."""
    found = {*EVERY_ROUTE, *route.errors}
    if route.roles:
        found.update(ROLES)
    if route.acting_for:
        found.add(errors.UNKNOWN_DEPENDANT)
    elif Role.CITIZEN in route.roles:
        found.add(errors.NOT_FOR_DEPENDANTS)
    if route.body is not None:
        # a body read another way than as JSON (the OAuth token endpoint) declares how it refuses a bad one
        found.update(BODY if route.read_body else (*BODY, errors.VALIDATION_FAILED))
    if route.query is not None:
        found.update(QUERY)
    if route.idempotent:
        found.update(IDEMPOTENT)
    if route.limits:
        found.update(LIMITED)
    for name in path_args:
        parameter = route.path_parameter(name)
        found.add(parameter.unknown if parameter else errors.NOT_FOUND)
    return [e for e in errors.CATALOGUE if e in found]


def summary(view: Any) -> str:
    """The docstring's first paragraph, on one line."""
    return " ".join((inspect.getdoc(view) or "").split("\n\n")[0].split())


# ---------------------------------------------------------------------------------------------------
# The document


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is a string or absent, never JSON null."""
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        kept = [o for o in options if o.get("type") != "null"]
        return {**(kept[0] if len(kept) == 1 else {"anyOf": kept}), **rest}
    return {k: v for k, v in schema.items() if not (k == "default" and v is None)}


def _operations(app: Any) -> list[tuple[str, str, Any, Declared]]:
    found = []
    for path, methods in app.routes.items():
        if not path.startswith(API_PREFIXES):
            continue
        for method, entry in methods.items():
            found.append((path, method.upper(), entry, declared(entry, method.upper(), path)))
    return sorted(found, key=lambda f: (f[0], METHOD_ORDER.index(f[1]) if f[1] in METHOD_ORDER else 9))


def build(app: Any) -> dict[str, Any]:
    operations = _operations(app)
    models: list[type[BaseModel]] = [schemas.Error]
    for _, _, _, route in operations:
        models += [m for m in (route.body, route.query) if m is not None]
        models += [m for spec in route.responds.values() if spec is not None for m in _models_in(spec)]
    models = list(dict.fromkeys(models))
    keys, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    refs = {m: keys[(m, "validation")] for m in models}
    components_schemas = top.get("$defs", {})

    paths: dict[str, dict[str, Any]] = {}
    used_tags: set[str] = set()
    for path, method, entry, route in operations:
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, entry, route, refs,
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


def _operation(path: str, method: str, entry: Any, route: Declared, refs: dict[type[BaseModel], Any],
               components: dict[str, Any], used_tags: set[str]) -> dict[str, Any]:
    view = inspect.unwrap(entry.view_function)
    module = view.__module__.rsplit(".", 1)[-1]
    unknown = set(route.tags) - set(GBT_38963)
    if unknown:
        raise ValueError(f"{method} {path}: {sorted(unknown)} are not GB/T 38963 operations ({list(GBT_38963)})")
    gbt = route.tags or tuple(t for prefix, t in GBT_PREFIXES.items() if path.startswith(prefix))
    tags = list(gbt) or [path.split("/")[2] if path.startswith("/v1/") else "discovery"]
    used_tags.update(tags)
    result: dict[str, Any] = {"operationId": f"{module}_{entry.view_name}", "tags": tags}
    if said := summary(view):
        result["summary"] = said
    if gbt:
        result["x-gbt-38963"] = [f"{GBT_38963[t][0]} {GBT_38963[t][1]}" for t in gbt]

    if parameters := _parameters(entry, route, refs, components):
        result["parameters"] = parameters
    if route.body is not None:
        example = {"example": route.example} if route.example is not None else {}
        result["requestBody"] = {"required": True, "content": {ct: {"schema": refs[route.body], **example}
                                                               for ct in entry.content_types}}
    rate_limits = route.rate_limits
    if rate_limits:
        result["x-rate-limits"] = [{"name": limit.name, "per": limit.per.name.lower(), "count": limit.count,
                                    "window_seconds": limit.window, "counts": limit.what} for limit in rate_limits]
    result["security"] = [{BEARER: []} if role is Role.CITIZEN else {CLIENT: [role.value]} for role in route.roles]
    if not route.success:
        raise ValueError(f"{method} {path} declares no success response (`responds`)")
    result["responses"], result["x-error-codes"] = _responses(entry, route, refs)
    return result


def _parameters(entry: Any, route: Declared, refs: dict[type[BaseModel], Any],
                components: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in entry.view_args:
        shape = route.path_parameter(name)
        described = ({"description": shape.description, "schema": {"type": "string", "pattern": f"^{shape.pattern}$"},
                      **({"example": shape.example} if shape.example is not None else {})}
                     if shape else {"schema": {"type": "string", "minLength": 1}})
        parameters.append({"name": name, "in": "path", "required": True, **described})
    if route.query is not None:
        properties = components_schema_of(route.query, refs, components).get("properties", {})
        for name, info in route.query.model_fields.items():
            key = info.alias or name
            shown = {k: v for k, v in properties.get(key, {}).items() if k not in ("title", "description")}
            parameter = {"name": key, "in": "query", "required": info.is_required(), "schema": _without_null(shown)}
            if info.description:
                parameter["description"] = info.description
            parameters.append(parameter)
    if route.idempotent:
        parameters.append(IDEMPOTENCY_KEY)
    if route.acting_for:
        parameters.append(ACTING_FOR)
    return parameters


def _responses(entry: Any, route: Declared,
               refs: dict[type[BaseModel], Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The operation's responses, and its error codes by status (`x-error-codes`)."""
    responses: dict[str, Any] = {}
    for status in route.success:
        spec = route.responds[status]
        if spec is None:
            responses[str(status)] = {"description": "Done; no content", "headers": REQUEST_ID}
            continue
        headers = {**REQUEST_ID, **({"Idempotent-Replayed": IDEMPOTENT_REPLAYED} if route.idempotent else {})}
        responses[str(status)] = {"description": "OK" if status < 300 else "See description", "headers": headers,
                                  "content": {media: {"schema": _schema_ref(s, refs)}
                                              for media, s in _media(spec).items()}}
    refused = answers(route, entry.view_args)
    for status in sorted({e.status for e in refused}):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status]}"}
    return responses, {str(status): [e.code for e in refused if e.status == status]
                       for status in sorted({e.status for e in refused})}


_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def _plain(markdown: str) -> str:
    """Registry text with its links, which are relative to docs/, spelled out as paths of the repository."""
    def spelled(link: re.Match[str]) -> str:
        text, target = link.groups()
        if target.startswith("#"):   # "[below](#cursors)": a section of docs/errors.md itself
            return f"docs/errors.md{target}"
        return f"docs/{target}" if text == target else f"{text} (docs/{target})"
    return _LINK.sub(spelled, markdown)


def error_responses(error_schema: dict[str, Any]) -> dict[str, Any]:
    """The shared error responses, each in the one error shape, describing the registry's codes of its status; a
    429 and a 503 also say when to come back."""
    responses: dict[str, dict[str, Any]] = {}
    for status, name in ERRORS.items():
        codes = " ".join(f"`{e.code}`: {_plain(e.when)}" + (f"; the client: {_plain(e.then)}." if e.then else ".")
                         for e in errors.of_status(status))
        responses[name] = {"description": f"{codes} Catalogued in docs/errors.md.", "headers": dict(REQUEST_ID),
                           "content": {http.JSON: {"schema": error_schema}}}
    for status in (429, 503):
        responses[ERRORS[status]]["headers"]["Retry-After"] = RETRY_AFTER
    responses[ERRORS[401]]["headers"]["WWW-Authenticate"] = WWW_AUTHENTICATE
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
