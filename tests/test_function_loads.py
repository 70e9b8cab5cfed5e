"""Each Lambda function loads only what it serves (chalicelib/functions.py, named by HEALTHCODE_FUNCTION).

Every check runs `import app` in a fresh process, as a cold Lambda container would, with the session's
DynamoDB Local and secrets in its environment.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.security.access import Role
from chalicelib.services.sessions import create_client
from infra import package
from tests.conftest import auth, dump
from tests.test_lab_results import token_of

ROOT = Path(__file__).resolve().parents[1]

LOADS = r"""
import json, sys
import app
routes = sorted(f"{m} {p}" for p, methods in app.app.routes.items() for m in methods)
print(json.dumps({"routes": routes, "modules": sorted(sys.modules)}))
"""

# A cold verify container: import, then one verification through the verify function's handler, as
# Lambda calls it.
SERVES = r"""
import json, sys
import app
from tests.lambda_events import Context, json_body, rest_event
args = json.loads(sys.argv[1])
response = app.verify_api(rest_event("POST", "/v1/verifications", args["headers"], args["body"]), Context())
print(json.dumps({"status": response["statusCode"], "body": json_body(response), "modules": sorted(sys.modules)}))
"""

# Not for checking a code: QR rendering, the OpenAPI generator and its response models, webhook
# delivery, the risk rules of applying, botocore.
NOT_FOR_VERIFY = {"segno", "chalicelib.services.qr_images", "chalicelib.api.openapi", "chalicelib.api.schemas",
                  "chalicelib.events.delivery", "chalicelib.services.assessment", "chalicelib.api.codes",
                  "chalicelib.api.web", "boto3", "botocore"}
# Not for the common verification (a national QR token, a checkpoint without an entry rule): each loads on the
# first request of the rarer path that needs it (services/verifications.py). The entry rules and lab results,
# paper codes and their tokens, a province's tokens, keys and local codes; the health declaration's model.
RARE_FOR_VERIFY = {"chalicelib.domain.lab_results", "chalicelib.domain.declaration", "chalicelib.security.paper_tokens",
                   "chalicelib.services.paper_codes", "chalicelib.store.papercodes",
                   "chalicelib.security.province_tokens", "chalicelib.store.provinces", "chalicelib.services.sync",
                   "chalicelib.store.localcodes", "chalicelib.domain.local_codes"}


def run(code: str, function: str | None, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "HEALTHCODE_FUNCTION"}
    if function is not None:
        env["HEALTHCODE_FUNCTION"] = function
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_api_handler_serves_every_route(app_module):
    everything = sorted(f"{m} {p}" for p, methods in app_module.app.routes.items() for m in methods)
    assert run(LOADS, None)["routes"] == everything
    assert run(LOADS, "api")["routes"] == everything


@pytest.mark.parametrize("function", sorted(package.FUNCTION_ROUTES))
def test_a_split_function_serves_the_routes_api_gateway_sends_it(app_module, function):
    loaded = run(LOADS, function)
    owners = package.route_owners(app_module.app)
    sent_to_it = sorted(f"{m} {p}" for (m, p), owner in owners.items() if owner == package.cfn_name(function))
    assert sent_to_it and set(sent_to_it) <= set(loaded["routes"])
    assert len(loaded["routes"]) < len(owners)


@pytest.mark.parametrize("function", ["events", "scans", "sweeper", "webhook-retries"])
def test_event_functions_load_no_routes(function):
    assert run(LOADS, function)["routes"] == []


def test_a_cold_verify_container_checks_a_code_without_the_rest_of_the_app(citizen, checkpoint):
    holder = citizen()
    assert holder.apply().status_code == 201
    body = dump({"token": holder.qr_token(), "checkpoint_id": "cold-gate-1", "temperature": 36.4})
    served = run(SERVES, "verify", json.dumps({"headers": checkpoint, "body": body}))
    assert served["status"] == 200 and served["body"]["valid"] is True, served["body"]
    assert served["body"]["color"] == "green"
    assert NOT_FOR_VERIFY.isdisjoint(served["modules"]), NOT_FOR_VERIFY & set(served["modules"])
    assert RARE_FOR_VERIFY.isdisjoint(served["modules"]), RARE_FOR_VERIFY & set(served["modules"])


def test_a_cold_verify_container_loads_the_entry_rules_for_a_gate_that_has_one(client, citizen, health_authority):
    holder = citizen()
    assert holder.apply().status_code == 201
    gate = create_client(Role.CHECKPOINT, "cold gate with a rule", area="440106")
    rule = {"colors": ["green"], "min_doses": 2}
    set_ = client.put(f"/v1/checkpoints/{gate['client_id']}/rule", headers=health_authority("44"), body=dump(rule))
    assert set_.status_code == 200, set_.json_body
    body = dump({"token": holder.qr_token(), "checkpoint_id": "cold-gate-2"})
    served = run(SERVES, "verify", json.dumps({"headers": auth(token_of(client, gate)), "body": body}))
    assert served["status"] == 200 and served["body"]["valid"] is True, served["body"]
    # the rule is judged in the cold container, its rules loaded for it (services/verifications.admission)
    assert served["body"]["admit"] is False and served["body"]["rule_id"] == set_.json_body["rule_id"]
    assert [u["code"] for u in served["body"]["unmet"]] == ["min_doses_2"] and served["body"]["doses"] == 0
    assert "chalicelib.domain.lab_results" in served["modules"]
    assert "chalicelib.security.paper_tokens" not in served["modules"]
