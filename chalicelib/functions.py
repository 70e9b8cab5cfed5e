"""The Lambda functions that serve routes, and which routes each serves: stated once, here.

app.py loads in each function (HEALTHCODE_FUNCTION names it) only the blueprints of its routes, so a cold verify
container does not import the other route modules; infra/package.py points those routes' API Gateway
integrations at the function, and fails the build if a rule matches no route, a route is claimed twice, or a
rule's blueprint does not serve every route it matches. Kept free of imports: app.py reads it on every cold start.
"""
from __future__ import annotations

# Every blueprint (chalicelib/api/<name>.py); the API handler, `chalice local` and the tests serve them all.
BLUEPRINTS = ("sessions", "codes", "verifications", "keys", "trips", "areas", "exposures", "people", "sync",
              "provinces", "webhooks", "corrections", "web", "docs", "offline", "checkpoints", "dependants",
              "paper", "venues")

# split function -> {blueprint: [(HTTP method or "*", path pattern, where "*" matches anything)]}: the routes
# API Gateway sends to that function (every other route stays on the API handler) and the blueprint serving them.
SPLIT_ROUTES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "apply": {"codes": [("POST", "/v1/codes")]},
    "verify": {"verifications": [("POST", "/v1/verifications")]},
    "trips": {"trips": [("*", "/v1/trips"), ("POST", "/v1/checkins")]},
    "sync": {"sync": [("*", "/v1/sync/*")], "webhooks": [("*", "/v1/webhooks"), ("*", "/v1/webhooks/*")]},
}

# The stream and schedule functions of app.py serve no route, so they load no blueprint.
NO_ROUTES = ("events", "fanout", "catchup", "scans", "sweeper", "webhook-retries")


def blueprints_of(function: str) -> tuple[str, ...]:
    """The blueprints a function loads: its split routes', none for a stream or schedule function, and every one
    for the API handler (`api`) and wherever no function is named (`chalice local`, the tests)."""
    if function in SPLIT_ROUTES:
        return tuple(SPLIT_ROUTES[function])
    return () if function in NO_ROUTES else BLUEPRINTS
