"""Who may call what: every route against every role, and against no token at all, through the HTTP API.

The matrix below is the contract, written out cell by cell so a reviewer can read it: `ok` means the role
check lets the caller through (the answer is then whatever the request deserves, never 401 or 403), `403`
that the role is refused (`forbidden`, naming the caller's role), `401` that a token is needed. The table
must name every route the app serves, so a new route cannot arrive without its row.

Each request is one the role check must judge before anything else: an empty body, an unknown id, a bad
query. An allowed caller gets 404 or 422 and nothing is written, so the matrix can run beside any test.
A mutation that let an ops client through every role check once survived the whole suite; here ops is
refused on every route that needs a token.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.security.access import Role
from tests import people
from tests.conftest import client_token, dump

ROOT = Path(__file__).resolve().parents[1]

ROLES = ("citizen", "checkpoint", "province", "health_authority", "national_authority", "ops", "lab", "venue_admin", "none")

MATRIX = """
route                                                            citizen checkpoint province health_authority national_authority ops  lab  venue_admin none
GET    /                                                         ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /citizen                                                  ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /checkpoint                                               ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /web/{name}                                               ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /openapi.json                                             ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /.well-known/jwks.json                                    ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /.well-known/entry-rules.jws                              ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /.well-known/province-keys.json                           ok      ok         ok       ok               ok                 ok   ok   ok          ok
POST   /v1/sessions                                              ok      ok         ok       ok               ok                 ok   ok   ok          ok
POST   /v1/oauth/token                                           ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /v1/areas/{code}                                          ok      ok         ok       ok               ok                 ok   ok   ok          ok
PUT    /v1/areas/{code}                                          403     403        403      ok               403                403  403  403         401
GET    /v1/exposures                                             ok      ok         ok       ok               ok                 ok   ok   ok          ok
POST   /v1/exposures                                             403     403        403      ok               403                403  403  403         401
GET    /v1/provinces/{code}/keys                                 ok      ok         ok       ok               ok                 ok   ok   ok          ok
PUT    /v1/provinces/{code}/keys                                 403     403        ok       403              403                403  403  403         401
POST   /v1/codes                                                 ok      403        403      403              403                403  403  403         401
GET    /v1/codes/me                                              ok      403        403      403              403                403  403  403         401
GET    /v1/codes/me/qr                                           ok      403        403      403              403                403  403  403         401
POST   /v1/trips                                                 ok      403        403      403              403                403  403  403         401
GET    /v1/trips                                                 ok      403        403      403              403                403  403  403         401
POST   /v1/checkins                                              ok      403        403      403              403                403  403  403         401
GET    /v1/me/risk                                               ok      403        403      403              403                403  403  403         401
GET    /v1/me/cities                                             ok      403        403      403              403                403  403  403         401
GET    /v1/me/history                                            ok      403        403      403              403                403  403  403         401
GET    /v1/me/local-codes                                        ok      403        403      403              403                403  403  403         401
GET    /v1/me/tests                                              ok      403        403      403              403                403  403  403         401
GET    /v1/me/vaccinations                                       ok      403        403      403              403                403  403  403         401
GET    /v1/me/lookups                                            ok      403        403      403              403                403  403  403         401
GET    /v1/me/access-log                                         ok      403        403      403              403                403  403  403         401
GET    /v1/me/scans                                              ok      403        403      403              403                403  403  403         401
GET    /v1/me/data                                               ok      403        403      403              403                403  403  403         401
GET    /v1/me/data/export                                        ok      403        403      403              403                403  403  403         401
POST   /v1/me/erasure                                            ok      403        403      403              403                403  403  403         401
POST   /v1/corrections                                           ok      403        403      403              403                403  403  403         401
GET    /v1/corrections                                           ok      403        403      ok               ok                 403  403  403         401
GET    /v1/corrections/{correction_id}                           403     403        403      ok               ok                 403  403  403         401
POST   /v1/corrections/{correction_id}/decision                  403     403        403      ok               ok                 403  403  403         401
GET    /v1/corrections/{correction_id}/history                   403     403        403      ok               ok                 403  403  403         401
POST   /v1/health-statuses                                       403     403        403      ok               ok                 403  403  403         401
POST   /v1/verifications                                         403     ok         403      403              403                403  403  403         401
POST   /v1/verifications/batch                                   403     ok         403      403              403                403  403  403         401
PUT    /v1/checkpoints/{client_id}/rule                          403     403        403      ok               403                403  403  403         401
POST   /v1/sync/local-codes                                      403     403        ok       403              403                403  403  403         401
POST   /v1/sync/health-records                                   403     403        ok       403              403                403  403  403         401
POST   /v1/sync/test-results                                     403     403        ok       403              403                403  ok   403         401
POST   /v1/sync/vaccinations                                     403     403        ok       403              403                403  ok   403         401
POST   /v1/sync/lookups                                          403     403        ok       403              403                403  403  403         401
POST   /v1/webhooks                                              403     403        ok       403              403                403  403  403         401
GET    /v1/webhooks                                              403     403        ok       403              403                403  403  403         401
GET    /v1/webhooks/{webhook_id}                                 403     403        ok       403              403                403  403  403         401
PATCH  /v1/webhooks/{webhook_id}                                 403     403        ok       403              403                403  403  403         401
DELETE /v1/webhooks/{webhook_id}                                 403     403        ok       403              403                403  403  403         401
POST   /v1/webhooks/{webhook_id}/rotate-secret                   403     403        ok       403              403                403  403  403         401
POST   /v1/webhooks/{webhook_id}/ping                            403     403        ok       403              403                403  403  403         401
GET    /v1/webhooks/{webhook_id}/deliveries                      403     403        ok       403              403                403  403  403         401
POST   /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay 403     403        ok       403              403                403  403  403         401
POST   /v1/me/dependants                                         ok      403        403      403              403                403  403  403         401
GET    /v1/me/dependants                                         ok      403        403      403              403                403  403  403         401
DELETE /v1/me/dependants/{dependant_id}                          ok      403        403      403              403                403  403  403         401
GET    /v1/me/guardians                                          ok      403        403      403              403                403  403  403         401
DELETE /v1/me/guardians/{guardian_id}                            ok      403        403      403              403                403  403  403         401
POST   /v1/paper-codes                                           ok      403        403      ok               403                403  403  403         401
POST   /v1/paper-codes/{number}/revoke                           ok      403        403      ok               ok                 403  403  403         401
GET    /v1/paper-codes/{number}/print                            ok      403        403      403              403                403  403  403         401
GET    /.well-known/paper-revocations.jws                        ok      ok         ok       ok               ok                 ok   ok   ok          ok
GET    /venue                                                    ok      ok         ok       ok               ok                 ok   ok   ok          ok
POST   /v1/venues                                                403     403        403      ok               403                403  403  ok          401
GET    /v1/venues                                                403     403        403      ok               403                403  403  ok          401
GET    /v1/venues/{venue_id}                                     403     403        403      ok               403                403  403  ok          401
PATCH  /v1/venues/{venue_id}                                     403     403        403      ok               403                403  403  ok          401
POST   /v1/venues/{venue_id}/token                               403     403        403      ok               403                403  403  ok          401
GET    /v1/venues/{venue_id}/poster.svg                          403     403        403      ok               403                403  403  ok          401
GET    /v1/venues/{venue_id}/poster.png                          403     403        403      ok               403                403  403  ok          401
GET    /v1/venues/{venue_id}/stats                               403     403        403      ok               403                403  403  ok          401
GET    /v1/venues/{venue_id}/visits                              403     403        403      ok               403                403  403  403         401
POST   /v1/visits                                                ok      403        403      403              403                403  403  403         401
POST   /v1/venue-exposures                                       403     403        403      ok               403                403  403  403         401
"""


def parse(table: str) -> dict[tuple[str, str], dict[str, str]]:
    header, *rows = [line.split() for line in table.strip().splitlines()]
    assert tuple(header[1:]) == ROLES, header
    matrix = {}
    for method, path, *cells in rows:
        assert len(cells) == len(ROLES) and set(cells) <= {"ok", "401", "403"}, (method, path, cells)
        assert (method, path) not in matrix, (method, path)
        assert all(c == "ok" for c in cells) or cells[-1] == "401", (method, path)   # no token: 401 or public
        matrix[(method, path)] = dict(zip(ROLES, cells, strict=True))
    return matrix


CELLS = parse(MATRIX)

# what fills the path's parameters: ids of the right shape that name nothing, and the callers' own province
PARAMETERS = {"{name}": "app.css", "{code}": "44", "{correction_id}": "cor_0000000000000000",
              "{webhook_id}": "wh_0000000000000000", "{delivery_id}": "evt_0000000000000aaaaaaaaaa",
              "{client_id}": "ch_0000000000000000",
              "{dependant_id}": "AAAAAAAAAAAAAAA", "{guardian_id}": "AAAAAAAAAAAAAAA",
              "{number}": "123456789015",
              "{venue_id}": "ven_000000000000"}
# queries that fail validation, so nothing is counted or rendered once the role check has passed
QUERIES = {("GET", "/v1/codes/me/qr"): "?format=bmp", ("GET", "/v1/exposures"): "?number=none&date=today"}
BODIES = {("POST", "/v1/oauth/token"): dump({"grant_type": "password"})}


def url(method: str, path: str) -> str:
    filled = path.replace("/v1/areas/{code}", "/v1/areas/440106")
    for name, value in PARAMETERS.items():
        filled = filled.replace(name, value)
    return filled + QUERIES.get((method, path), "")


@pytest.fixture(scope="module")
def http(app_module: Any) -> Iterator[Any]:
    with Client(app_module.app, stage_name="test", project_dir=str(ROOT)) as chalice_client:
        yield chalice_client.http


@pytest.fixture(scope="module")
def tokens(http: Any) -> dict[str, str | None]:
    """One caller of each role, system clients scoped to Guangdong (44) and a Guangzhou gate."""
    session = http.post("/v1/sessions", headers={"Content-Type": "application/json"},
                        body=dump({"self_asserted": {"name": people.name(), "id_number": people.in_province("44"),
                                                     "phone": people.phone()}}))
    assert session.status_code == 201, session.json_body
    return {
        "citizen": session.json_body["access_token"],
        "checkpoint": client_token(http, Role.CHECKPOINT, area="440106"),
        "province": client_token(http, Role.PROVINCE, province="44"),
        "health_authority": client_token(http, Role.HEALTH_AUTHORITY, province="44"),
        "national_authority": client_token(http, Role.NATIONAL_AUTHORITY),
        "ops": client_token(http, Role.OPS),
        "lab": client_token(http, Role.LAB, province="44"),
        "venue_admin": client_token(http, Role.VENUE_ADMIN, province="44"),
        "none": None,
    }


def call(http: Any, method: str, path: str, token: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = BODIES.get((method, path), "{}") if method in ("POST", "PUT", "PATCH") else None
    return http.request(method, url(method, path), headers=headers, body=body or b"")


def test_the_matrix_names_every_route_the_app_serves_and_nothing_else(app_module):
    served = {(method, path) for path, methods in app_module.app.routes.items() for method in methods}
    assert set(CELLS) == served


def test_the_roles_of_the_matrix_are_every_role_there_is():
    assert set(ROLES) - {"none"} == {role.value for role in Role}


@pytest.mark.parametrize("method, path", list(CELLS), ids=[f"{m} {p}" for m, p in CELLS])
def test_each_role_is_let_through_or_refused_as_the_matrix_says(http, tokens, method, path):
    outcomes = {}
    for role, expected in CELLS[(method, path)].items():
        response = call(http, method, path, tokens[role])
        if expected == "ok":
            assert response.status_code not in (401, 403) and response.status_code < 500, (role, response.body[:300])
            outcomes[role] = "ok"
        elif expected == "403":
            assert response.status_code == 403, (role, response.status_code, response.body[:300])
            error = response.json_body["error"]
            assert (error["code"], error["details"]) == ("forbidden", [{"role": role}]), role
            outcomes[role] = "403"
        else:
            assert response.status_code == 401, (role, response.status_code, response.body[:300])
            assert response.json_body["error"]["code"] == "unauthenticated"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            outcomes[role] = "401"
    assert outcomes == CELLS[(method, path)]


def test_ops_passes_no_role_check_of_the_api(http, tokens):
    guarded = [route for route, cells in CELLS.items() if cells["none"] == "401"]
    assert len(guarded) > 30
    for method, path in guarded:
        assert CELLS[(method, path)]["ops"] == "403"
        response = call(http, method, path, tokens["ops"])
        assert response.status_code == 403, (method, path, response.body[:300])


def test_each_guarded_route_lets_some_role_through_and_each_role_but_ops_has_a_route():
    for route, cells in CELLS.items():
        assert "ok" in cells.values(), route
    for role in ROLES:
        if role not in ("ops", "none"):
            assert any(cells[role] == "ok" and cells["none"] == "401" for cells in CELLS.values()), role
