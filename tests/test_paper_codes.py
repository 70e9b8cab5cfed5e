"""Paper codes (docs/identity.md#paper-codes): a guardian prints one for a grandmother without a phone, a checkpoint
verifies it online with the live color, it is reported lost and the signed revocation list names it."""
from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import jwt
import pytest
from click.testing import CliRunner

from chalicelib import clock, settings
from chalicelib.domain import days
from chalicelib.security import paper_tokens
from chalicelib.security.access import Role
from chalicelib.services.paper_codes import luhn_digit
from chalicelib.services.sessions import create_client
from ops.cli import main
from tests import people
from tests.conftest import auth, client_token, dump
from tests.refusals import assert_refused

DECLARATION = {"temperature": 36.5, "symptoms": [], "contact_with_cases": False, "stayed_in_high_risk_area": False,
               "current_area": "110101"}


def grandmother(client: Any, citizen: Any) -> tuple[Any, dict[str, str], str]:
    """A grandson, the headers that act for his grandmother (who has applied, through him), her ID number."""
    grandson = citizen()
    today = days.today(clock.now())
    born = today.replace(year=today.year - 81) - dt.timedelta(days=40)
    number = people.id_number("110101", born)
    added = client.post("/v1/me/dependants", headers=grandson.headers, body=dump(
        {"name": "李秀英", "id_number": number, "birth_date": born.isoformat(), "relationship": "grandparent"}))
    assert added.status_code == 201, added.json_body
    for_her = {**grandson.headers, "X-Acting-For": added.json_body["dependant_id"]}
    applied = client.post("/v1/codes", headers=for_her, body=dump(DECLARATION))
    assert applied.status_code == 201, applied.json_body
    return grandson, for_her, number


def issue(client: Any, headers: dict[str, str], body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/v1/paper-codes", headers=headers, body=dump(body or {}))
    assert response.status_code == 201, response.json_body
    return response.json_body


def verify(client: Any, checkpoint: dict[str, str], token: str) -> dict[str, Any]:
    response = client.post("/v1/verifications", headers=checkpoint, body=dump({"token": token,
                                                                              "checkpoint_id": "community-1"}))
    assert response.status_code == 200, response.json_body
    return response.json_body


def test_a_paper_code_verifies_online_with_the_live_color_not_the_printed_one(client, citizen, checkpoint):
    _, for_her, _ = grandmother(client, citizen)
    paper = issue(client, for_her)
    assert paper["issuer"] == "guardian" and paper["color_at_issue"] == "green" and paper["name_masked"] == "李*英"
    assert paper["expires_at"] - paper["issued_at"] == 14 * 86400 and paper["status"] == "active"
    assert len(paper["number"]) == 12 and paper["number"][-1] == luhn_digit(paper["number"][:11])

    first = verify(client, checkpoint, paper["token"])
    assert first["valid"] is True and first["color"] == "green" and first["name_masked"] == "李*英"
    assert first["paper"] == {"number": paper["number"], "valid_until": paper["expires_at"],
                              "color_at_issue": "green", "issued_at": paper["issued_at"]}
    # she has a fever: the guardian declares it; the paper still says green, the checkpoint sees yellow
    feverish = client.post("/v1/codes", headers=for_her, body=dump({**DECLARATION, "temperature": 38.4}))
    assert feverish.status_code == 200 and feverish.json_body["color"] == "yellow"
    again = verify(client, checkpoint, paper["token"])
    assert again["color"] == "yellow" and again["paper"]["color_at_issue"] == "green"
    # the number typed by hand is the same code; a mistyped one is caught by its check digit
    typed = verify(client, checkpoint, paper["number"])
    assert typed["valid"] is True and typed["color"] == "yellow" and typed["paper"]["number"] == paper["number"]
    wrong = paper["number"][:11] + str((int(paper["number"][11]) + 1) % 10)
    assert verify(client, checkpoint, wrong)["reason"] == "malformed"
    # 14 days later it has expired, online and by number
    clock.shift(14 * 86400 + 10)
    later = auth(client_token(client, Role.CHECKPOINT, area="440106"))
    assert verify(client, later, paper["token"])["reason"] == "expired"
    assert verify(client, later, paper["number"])["reason"] == "expired"


def test_the_print_layout_has_the_qr_the_masked_name_the_validity_and_the_number(client, citizen):
    _, for_her, _ = grandmother(client, citizen)
    paper = issue(client, for_her)
    printed = client.get(f"/v1/paper-codes/{paper['number']}/print?format=svg", headers=for_her)
    assert printed.status_code == 200 and printed.headers["Content-Type"].startswith("image/svg+xml")
    svg = printed.body if isinstance(printed.body, str) else printed.body.decode()
    grouped = " ".join(paper["number"][i:i + 4] for i in range(0, 12, 4))
    until = dt.datetime.fromtimestamp(paper["expires_at"], days.CST).strftime("%Y-%m-%d %H:%M")
    assert 'width="105mm" height="148mm"' in svg and "李*英" in svg and grouped in svg and until in svg
    assert "<path d=\"M" in svg and "绿码" in svg
    png = client.get(f"/v1/paper-codes/{paper['number']}/print?format=png",
                     headers={**for_her, "Accept": "image/png"})
    assert png.status_code == 200 and png.body[:8] == b"\x89PNG\r\n\x1a\n"
    # nobody else prints it
    stranger = citizen()
    assert_refused(client.get(f"/v1/paper-codes/{paper['number']}/print", headers=stranger.headers), 404,
                   "unknown_paper_code")


def revocation_list(client: Any, since: int = 0) -> dict[str, Any]:
    response = client.get(f"/.well-known/paper-revocations.jws?since={since}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/jose"
    token = response.body if isinstance(response.body, str) else response.body.decode()
    keys = {k["kid"]: k for k in client.get("/.well-known/jwks.json").json_body["keys"]}
    header = jwt.get_unverified_header(token)
    assert header["typ"] == paper_tokens.LIST_TYP and header["kid"] == paper_tokens.KID
    # verified as a checkpoint would: with the published key, nothing of ours
    return jwt.decode(token, jwt.PyJWK(keys[header["kid"]]).key, algorithms=["ES256"],
                      options={"verify_iat": False})


def test_a_lost_paper_code_is_revoked_and_the_signed_list_names_it(client, citizen, checkpoint):
    _, for_her, _ = grandmother(client, citizen)
    lost, kept = issue(client, for_her), issue(client, for_her)
    before = revocation_list(client)
    assert before["complete"] is True

    revoked = client.post(f"/v1/paper-codes/{lost['number']}/revoke", headers=for_her)
    assert revoked.status_code == 200, revoked.json_body
    assert revoked.json_body["status"] == "revoked" and revoked.json_body["token"] is None
    sequence = revoked.json_body["revocation_sequence"]
    assert sequence > before["latest"]
    refused = verify(client, checkpoint, lost["token"])
    assert refused["valid"] is False and refused["reason"] == "revoked"
    assert verify(client, checkpoint, lost["number"])["reason"] == "revoked"
    assert verify(client, checkpoint, kept["token"])["valid"] is True     # the other paper code still works

    whole = revocation_list(client)
    assert {"seq": sequence, "number": lost["number"], "revoked_at": whole["revoked"][-1]["revoked_at"],
            "exp": lost["expires_at"]} in whole["revoked"]
    assert kept["number"] not in {r["number"] for r in whole["revoked"]}
    # incremental: from what a checkpoint held before, only what is new
    since = revocation_list(client, before["sequence"])
    assert [r["number"] for r in since["revoked"]] == [lost["number"]] and since["sequence"] == sequence
    assert revocation_list(client, sequence)["revoked"] == []
    assert_refused(client.post(f"/v1/paper-codes/{lost['number']}/revoke", headers=for_her), 409,
                   "paper_code_revoked")


def test_a_health_authority_prints_for_its_own_residents_only(client, citizen, health_authority):
    resident = citizen(people.in_province("11"))
    assert resident.apply().status_code == 201
    beijing = health_authority("11")
    paper = issue(client, beijing, {"id_number": resident.id_number})
    assert paper["issuer"] == "province:11"
    log = client.get("/v1/me/access-log", headers=resident.headers).json_body["accesses"]
    assert [(e["action"], e["province"], e["ref"]) for e in log] == [("paper_code", "11", paper["number"])]
    refused = client.post("/v1/paper-codes", headers=health_authority("44"),
                          body=dump({"id_number": resident.id_number}))
    assert_refused(refused, 403, "outside_province")
    assert_refused(client.post("/v1/paper-codes", headers=resident.headers,
                               body=dump({"id_number": resident.id_number})), 422, "validation_failed")
    revoked = client.post(f"/v1/paper-codes/{paper['number']}/revoke", headers=beijing)
    assert revoked.status_code == 200 and revoked.json_body["status"] == "revoked"


@pytest.fixture
def _keep_the_environment() -> Any:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    settings.reset()


def test_ops_issues_and_revokes_a_paper_code_from_the_command_line(client, citizen, checkpoint, tmp_path,
                                                                   _keep_the_environment):
    holder = citizen()
    assert holder.apply().status_code == 201
    layout = tmp_path / "paper.svg"
    result = CliRunner().invoke(main, ["--stage", "test", "paper", "issue", "--svg", str(layout)],
                                input=holder.id_number + "\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    issued = json.loads(result.output[result.output.index("{"):])
    assert issued["issuer"] == "ops" and holder.id_number not in result.output
    assert "<svg" in layout.read_text(encoding="utf-8")
    assert verify(client, checkpoint, issued["token"])["valid"] is True
    revoked = CliRunner().invoke(main, ["--stage", "test", "paper", "revoke", issued["number"]],
                                 catch_exceptions=False)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert verify(client, checkpoint, issued["token"])["reason"] == "revoked"


def test_paper_codes_are_limited_per_holder_whoever_prints_them(client, citizen, health_authority):
    resident = citizen(people.in_province("11"))
    assert resident.apply().status_code == 201
    beijing = health_authority("11")
    for _ in range(3):
        issue(client, resident.headers)
    for _ in range(2):
        issue(client, beijing, {"id_number": resident.id_number})
    refused = client.post("/v1/paper-codes", headers=resident.headers, body=dump({}))
    assert_refused(refused, 429, "too_many_requests")
    assert refused.headers["Retry-After"]
    # another resident is not held back by the authority's earlier prints
    other = citizen(people.in_province("11"))
    assert other.apply().status_code == 201
    issue(client, beijing, {"id_number": other.id_number})


def test_a_gate_with_an_entry_rule_admits_or_refuses_a_paper_code_like_any_code(client, citizen, health_authority):
    _, for_her, _ = grandmother(client, citizen)
    paper = issue(client, for_her)
    # a Beijing community gate that admits green codes only: its rule rides in its token
    gate = create_client(Role.CHECKPOINT, "社区北门", area="110101")
    ruled = client.put(f"/v1/checkpoints/{gate['client_id']}/rule", headers=health_authority("11"),
                       body=dump({"colors": ["green"]}))
    assert ruled.status_code == 200, ruled.json_body
    login = client.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                        body=f"grant_type=client_credentials&client_id={gate['client_id']}"
                             f"&client_secret={gate['client_secret']}")
    headers = auth(login.json_body["access_token"])
    assert verify(client, headers, paper["token"])["admit"] is True
    feverish = client.post("/v1/codes", headers=for_her, body=dump({**DECLARATION, "temperature": 38.4}))
    assert feverish.status_code == 200 and feverish.json_body["color"] == "yellow"
    refused = verify(client, headers, paper["number"])      # typed by hand: the same decision
    assert refused["color"] == "yellow" and refused["admit"] is False and refused["unmet"]
    assert refused["paper"]["color_at_issue"] == "green"
