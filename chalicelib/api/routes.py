"""Declared routes: a route says where it is defined who may call it, what it takes, what it answers, whether
it is idempotent and which rate limits it counts against.

    @route(bp, "/v1/trips", methods=["POST"], roles=[Role.CITIZEN], body=TripRequest, responds={201: "Trip"},
           idempotent="trip", limits=[limits.TRIPS_PER_PERSON], errors=[errors.CONCURRENT_UPDATE])
    def declare_trip(caller: Principal, body: TripRequest) -> dict[str, Any]:
        ...

Every route is then served in one order: authenticate and authorise (`caller`), read the body (`body`), read
the query (`query`), count the route's limits, run the view, and for an idempotent route store its answer
(or answer a retry from it, with `Idempotent-Replayed: true`). The view gets what was declared as keyword
arguments beside its path parameters, and returns its body: served as JSON with the route's one success
status, or as `(status, body)` where it declares several; a view that shapes its own answer (an image,
cache headers) returns a Response. Domain errors become the one error shape (chalicelib/api/http.py).

The OpenAPI document (chalicelib/api/openapi.py) is built from these declarations alone. Response models are
named, not imported (`"Trip"` is chalicelib/api/schemas.py's Trip): only the document's generator reads them,
so a cold verify container never imports them.
"""
# No `from __future__ import annotations` here: NamedTuple would compile each field's annotation string, on every
# cold start
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel

from chalicelib import errors
from chalicelib.api import http
from chalicelib.domain import identifiers
from chalicelib.domain.limits import Limit, Per
from chalicelib.errors import ApiError, ErrorCode, ServiceUnavailable
from chalicelib.security.access import Principal, Role
from chalicelib.services import throttle
from chalicelib.store.dynamo import is_overload

log = logging.getLogger("healthcode.api")


# These are NamedTuples rather than dataclasses because every cold container (the verify function's too) defines
# them, and a frozen dataclass takes about ten times as long to define: 2-4 ms each on the 2-core machine.
class Batch(NamedTuple):
    """A limit that counts the items of a batch (`size` of the parsed body), not requests."""
    limit: Limit
    size: Callable[[Any], int]


class Below(NamedTuple):
    """A limit counted below the route, where its key is first known (the comment there says why): declared so
    the document lists it."""
    limit: Limit


RateLimit = Limit | Batch | Below


class PathParameter(NamedTuple):
    """The shape of a path parameter's values: any other value names nothing, and is answered `unknown`."""
    pattern: str
    description: str
    unknown: ErrorCode
    example: str | None = None


def _issued(shape: Any, what: str, unknown: ErrorCode) -> PathParameter:
    return PathParameter(shape.pattern, f"{what}, as the platform issued it; any other value is `404 {unknown}`",
                         unknown)


# Path parameters by name: the shapes of the ids the platform issues (chalicelib/domain/identifiers.py). A route
# whose parameter has another meaning declares it (`path_parameters=`).
PATH_PARAMETERS = {
    "webhook_id": _issued(identifiers.WEBHOOK_ID, "The subscription's `id`", errors.UNKNOWN_WEBHOOK),
    "delivery_id": _issued(identifiers.EVENT_ID, "The delivery's `id`", errors.UNKNOWN_DELIVERY),
    "correction_id": _issued(identifiers.CORRECTION_ID, "The request's `id`", errors.UNKNOWN_CORRECTION),
    "venue_id": _issued(identifiers.VENUE_ID, "The venue's `venue_id`", errors.UNKNOWN_VENUE),
}
AREA_CODE = PathParameter("[0-9]{6}", "A six-digit GB/T 2260 division code; any other is `404 unknown_area`",
                          errors.UNKNOWN_AREA, "510104")
PROVINCE_CODE = PathParameter(identifiers.PROVINCE.pattern, "A two-digit GB/T 2260 province code; a province that "
                                                            "registered no keys (or no province) is `404 "
                                                            "unknown_province`", errors.UNKNOWN_PROVINCE, "44")


class Declared(NamedTuple):
    """What a route declares. `responds` maps each success status to its body: the name of a model of
    chalicelib/api/schemas.py, a model, a JSON schema, `{media type: one of those}`, or None for no body."""
    path: str
    methods: tuple[str, ...]
    roles: tuple[Role, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responds: Mapping[int, Any] = {}
    idempotent: str | None = None          # the operation's name in its idempotency records
    limits: tuple[RateLimit, ...] = ()
    errors: tuple[ErrorCode, ...] = ()     # what the services below the route can refuse with
    max_body: int | None = None            # bytes, when not the platform's 64 KiB
    read_body: Callable[[Request], Any] | None = None   # reads `body` instead of JSON (the OAuth token endpoint)
    parameters: Mapping[str, PathParameter] = {}
    tags: tuple[str, ...] = ()             # GB/T 38963 operations it implements (chalicelib/api/openapi.py)
    example: Mapping[str, Any] | None = None   # a request body
    acting_for: bool = False               # a guardian may do it for a dependant (`X-Acting-For`, docs/identity.md)

    def path_parameter(self, name: str) -> PathParameter | None:
        return self.parameters.get(name) or PATH_PARAMETERS.get(name)

    @property
    def success(self) -> list[int]:
        return sorted(status for status in self.responds if status < 300)

    @property
    def rate_limits(self) -> list[Limit]:
        """The limits it counts against, wherever they are counted."""
        return [limit.limit if isinstance(limit, (Batch, Below)) else limit for limit in self.limits]


def declaration(view_function: Callable[..., Any]) -> Declared | None:
    """What the route served by `view_function` (a Chalice route entry's) declared; None if it declared nothing."""
    return getattr(view_function, "declared", None)


def route(bp: Blueprint, path: str, *, methods: Sequence[str], roles: Sequence[Role] = (),
          body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
          responds: Mapping[int, Any] | None = None, idempotent: str | None = None,
          limits: Sequence[RateLimit] = (), errors: Sequence[ErrorCode] = (), max_body: int | None = None,
          read_body: Callable[[Request], Any] | None = None, path_parameters: Mapping[str, PathParameter] | None = None,
          tags: Sequence[str] = (), example: Mapping[str, Any] | None = None, acting_for: bool = False,
          **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`bp.route` for a declared route (see the module's docstring); `options` go to Chalice (`content_types`)."""
    declared = Declared(path, tuple(m.upper() for m in methods), tuple(sorted(set(roles), key=list(Role).index)),
                        body, query, dict(responds or {}), idempotent, tuple(limits), tuple(errors), max_body,
                        read_body, dict(path_parameters or {}), tuple(tags), example, acting_for)
    _check(declared)

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handled(**path_args: str) -> Response:
            try:
                return _serve(bp.current_request, declared, view, path_args)
            except ApiError as error:
                return http.error_response(error)
            except Exception as exc:
                if not is_overload(exc):
                    raise
                log.warning("database overloaded or unreachable", extra={"error_code": type(exc).__name__})
                return http.error_response(ServiceUnavailable(
                    "The service is busy; try again in a moment. Checkpoints can verify codes offline with the "
                    "published keys (/.well-known/jwks.json) meanwhile."))
        handled.declared = declared  # type: ignore[attr-defined]  # read by declaration() and the document
        bp.route(path, methods=list(methods), **options)(handled)
        return view
    return register


def _check(declared: Declared) -> None:
    """Refuse, when the app is built, a declaration the wrapper could not honour."""
    for limit in declared.limits:
        counted = limit.limit if isinstance(limit, Batch) else limit
        if isinstance(counted, Limit) and counted.per is not Per.ADDRESS and not declared.roles:
            raise TypeError(f"{declared.path}: {counted.name} counts per {counted.per.value}, which a public route "
                            f"does not know: count it below the route and declare it Below({counted.name})")
        if isinstance(limit, Batch) and declared.body is None:
            raise TypeError(f"{declared.path}: {limit.limit.name} counts a body's items; the route declares no body")
    if declared.idempotent and not declared.roles:
        raise TypeError(f"{declared.path}: idempotency records are kept per caller; the route has none")


def _serve(request: Request, declared: Declared, view: Callable[..., Any], path_args: dict[str, str]) -> Response:
    args: dict[str, Any] = dict(path_args)
    caller: Principal | None = None
    record: Callable[[], None] = _nothing
    if declared.roles:
        caller = args["caller"] = http.principal(request, *declared.roles)
        acting_for = request.headers.get(ACTING_FOR)
        if acting_for is not None and caller.role is Role.CITIZEN:
            caller, record = _acting(declared, request, caller, acting_for)
            args["caller"] = caller
    if declared.body is not None:
        args["body"] = (declared.read_body(request) if declared.read_body is not None
                        else http.body(request, declared.body, declared.max_body))
    if declared.query is not None:
        args["query"] = http.query(request, declared.query)
    for limit in declared.limits:
        _count(limit, request, caller, args.get("body"))
    if declared.idempotent is not None:
        from chalicelib.services import idempotency  # only the routes that write need it: not the verify path

        assert caller is not None
        def run() -> tuple[int, Any]:
            record()
            return _answer(declared, view(**args))

        outcome = idempotency.run(caller.subject, declared.idempotent, request.headers.get("idempotency-key"),
                                  http.raw_body(request), run)
        return http.ok(outcome.body, outcome.status, {"Idempotent-Replayed": "true"} if outcome.replayed else None)
    record()
    result = view(**args)
    if isinstance(result, Response):
        return result
    status, body = _answer(declared, result)
    if status == 204:
        return Response(body="", status_code=204)
    return http.ok(body, status)


ACTING_FOR = "x-acting-for"


def _nothing() -> None:
    return None


def _acting(declared: Declared, request: Request, guardian: Principal,
            dependant_id: str) -> tuple[Principal, Callable[[], None]]:
    """A guardian acting for a dependant (docs/identity.md#acting-for-a-dependant): the dependant, for this
    operation, and what writes the dependant's access-log entry of it, just before the view runs."""
    if not declared.acting_for:
        raise ApiError("A guardian cannot do this for a dependant; leave out X-Acting-For.",
                       code=errors.NOT_FOR_DEPENDANTS)
    from chalicelib.services import guardians  # only a guardian's requests need it

    dependant, link = guardians.acting_principal(guardian, dependant_id.strip())
    operation = f"{request.method} {declared.path}"
    return dependant, lambda: guardians.record_act(guardian, link, operation)


def _answer(declared: Declared, result: Any) -> tuple[int, Any]:
    """(status, body) of what a view returned: its body alone when the route declares one success status."""
    if isinstance(result, tuple):
        return result
    if len(declared.success) != 1:
        raise TypeError(f"{declared.path} declares {declared.success}: its view says which, as (status, body)")
    return declared.success[0], result


def _count(limit: RateLimit, request: Request, caller: Principal | None, body: Any) -> None:
    if isinstance(limit, Below):
        return
    amount = limit.size(body) if isinstance(limit, Batch) else 1
    counted = limit.limit if isinstance(limit, Batch) else limit
    if counted.per is Per.ADDRESS:
        key = http.source_address(request)
    else:
        assert caller is not None
        # a province's limits count all its clients together (a province client always has a province)
        key = (caller.province or caller.subject) if counted.per is Per.PROVINCE else caller.subject
    throttle.check(counted, key, amount)
