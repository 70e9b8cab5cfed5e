"""The ops command line: `python -m ops --help`.

It talks to the stage's tables and secrets directly, through the same services
the API uses: DynamoDB Local for dev (`make run`'s, on HEALTHCODE_DYNAMODB_PORT or 8010), AWS
for prod with the usual AWS profile and region (AWS_PROFILE / --profile,
AWS_REGION / --region, or the profile's region). docs/deploy.md says which IAM
permissions an operator needs.
"""
from __future__ import annotations

import csv
import datetime as dt
import getpass
import json
import os
import shlex
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from infra import stage as stages

STAGES = ["dev", "prod", "test"]


def _use_stage(name: str, profile: str | None, region: str | None, overrides: dict[str, Any]) -> None:
    if profile:
        os.environ["AWS_PROFILE"] = profile
    os.environ.update(stages.environment(name))
    from chalicelib import settings

    settings.reset()
    current = settings.get_settings()
    if region is None and not current.dynamodb_endpoint and not (os.environ.get("AWS_REGION")
                                                                 or os.environ.get("AWS_DEFAULT_REGION")):
        import boto3

        region = boto3.session.Session().region_name  # the profile's region, as the AWS CLI would use
    changes = {k: v for k, v in {**overrides, "region": region}.items() if v is not None}
    if changes:
        settings.override(**changes)


def _settings() -> Any:
    from chalicelib.settings import get_settings

    return get_settings()


def _is_aws() -> bool:
    return not _settings().dynamodb_endpoint


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--stage", default="dev", show_default=True, type=click.Choice(STAGES),
              help="Whose tables and secrets: dev (DynamoDB Local of `make run`), prod (AWS), or test "
                   "(the environment as the test suite sets it).")
@click.option("--profile", help="AWS profile (prod; default: AWS_PROFILE or the default profile).")
@click.option("--region", help="AWS region (prod; default: AWS_REGION, AWS_DEFAULT_REGION or the profile's).")
@click.option("--table-prefix", help="Table name prefix, if the stack's TablePrefix is not the stage's.")
@click.option("--secret-id", help="Secrets Manager secret, if the stack's SecretName is not the stage's.")
def main(stage: str, profile: str | None, region: str | None, table_prefix: str | None,
         secret_id: str | None) -> None:
    """Operate the healthcode platform: tables, clients, keys, secrets, area levels, webhooks, dead events."""
    _use_stage(stage, profile, region, {"table_prefix": table_prefix, "secret_id": secret_id})


# --- tables ------------------------------------------------------------------------------------------

@main.group()
def tables() -> None:
    """The DynamoDB tables of infra/template.json."""


def _bootstrap(verb: str) -> None:
    from chalicelib.store import dynamo
    from infra import bootstrap

    names = list(bootstrap.table_resources())
    aws = _is_aws()
    with click.progressbar(length=len(names), label=f"{verb} {len(names)} tables", show_pos=True) as bar:
        created = bootstrap.bootstrap(dynamo.client(), _settings().table_prefix, aws=aws,
                                      progress=lambda name: bar.update(1))
    click.echo(f"created: {', '.join(created) or 'nothing, every table and index exists'}")
    if aws and created:
        click.echo("with deletion protection, encryption and point-in-time recovery, as in infra/template.json")


@tables.command("create")
def create_tables() -> None:
    """Create missing tables, indexes and TTL settings (idempotent).

    In AWS the tables normally belong to the CloudFormation stack (docs/deploy.md); this is for a
    stage deployed with `chalice deploy`, and applies the template's protection settings too."""
    _bootstrap("checking")


@tables.command("migrate")
def migrate_tables() -> None:
    """Bring existing tables up to infra/template.json: add missing global indexes (waiting for their
    back-fill) and TTL settings, create missing tables."""
    _bootstrap("migrating")


@tables.command("counts")
@click.option("--exact", is_flag=True, help="Count by scanning (reads every item: slow and billed on large "
                                            "tables). Default: DynamoDB's own count, refreshed about every 6 h.")
def count_tables(exact: bool) -> None:
    """Items per table."""
    from chalicelib.store import dynamo
    from ops.emergency import all_tables, exact_count

    names = all_tables(_settings().table_prefix)
    client = dynamo.client()
    counts: dict[str, Any] = {}
    with click.progressbar(names, label="counting", show_pos=True) as bar:
        for name in bar:
            try:
                counts[name] = (exact_count(client, name) if exact
                                else client.describe_table(TableName=name)["Table"]["ItemCount"])
            except client.exceptions.ResourceNotFoundException:
                counts[name] = "missing"
    width = max(len(n) for n in names)
    for name in names:
        click.echo(f"{name:<{width}}  {counts[name]}")


# --- clients -----------------------------------------------------------------------------------------

@main.group()
def clients() -> None:
    """System clients: checkpoints, provinces, health authorities, venue administrations, ops."""


@clients.command("create")
@click.option("--role", required=True,
              type=click.Choice(["checkpoint", "province", "health_authority", "national_authority", "ops", "lab",
                                 "venue_admin"]))
@click.option("--name", required=True, help="Who the client is, e.g. 'Guangzhou South gate 3'.")
@click.option("--province", help="Two-digit GB/T 2260 province code (province, health_authority, lab and "
                                  "venue_admin clients).")
@click.option("--area", help="Six-digit GB/T 2260 area of a checkpoint.")
@click.option("--format", "fmt", default="json", type=click.Choice(["json", "shell"]),
              help="shell prints CLIENT_ID=... CLIENT_SECRET=... for eval.")
def create_client(role: str, name: str, province: str | None, area: str | None, fmt: str) -> None:
    """Create a client and print its secret once (only a hash is stored)."""
    from chalicelib.errors import ApiError
    from chalicelib.security.access import Role
    from chalicelib.services.sessions import create_client as create

    try:
        created = create(Role(role), name, province=province, area=area)
    except ApiError as exc:
        raise click.UsageError(exc.message) from None
    if fmt == "shell":
        click.echo(f"CLIENT_ID={shlex.quote(created['client_id'])} "
                   f"CLIENT_SECRET={shlex.quote(created['client_secret'])}")
    else:
        click.echo(json.dumps(created, ensure_ascii=False, indent=2))


@clients.command("revoke")
@click.argument("client_id")
def revoke_client(client_id: str) -> None:
    """Revoke a client: it can no longer obtain tokens."""
    from chalicelib.services.sessions import revoke_client as revoke

    if not revoke(client_id):
        raise click.ClickException(f"no client {client_id}")
    click.echo(f"revoked {client_id}")


@clients.command("rule")
@click.argument("client_id")
@click.option("--color", "colors", multiple=True, type=click.Choice(["green", "yellow", "red"]),
              help="A color the checkpoint admits (repeat for several; default green).")
@click.option("--negative-test-within-hours", type=click.IntRange(1, 168),
              help="Require a negative test whose sample is at most this many hours old.")
@click.option("--min-doses", type=click.IntRange(1, 10), help="Require at least this many vaccine doses.")
@click.option("--clear", is_flag=True, help="Remove the checkpoint's rule.")
def rule_client(client_id: str, colors: tuple[str, ...], negative_test_within_hours: int | None,
                min_doses: int | None, clear: bool) -> None:
    """Set a checkpoint's entry rule (docs/tests-and-vaccinations.md); its next access token carries it."""
    from chalicelib.domain.colors import Color
    from chalicelib.domain.lab_results import EntryRule
    from chalicelib.errors import ApiError
    from chalicelib.services.entry_rules import set_rule

    rule = None if clear else EntryRule(tuple(Color(c) for c in dict.fromkeys(colors or ("green",))),
                                        negative_test_within_hours, min_doses)
    try:
        click.echo(json.dumps(set_rule(None, client_id, rule), ensure_ascii=False, indent=2))
    except ApiError as exc:
        raise click.ClickException(exc.message) from None


@clients.command("list")
def list_clients() -> None:
    """List clients (never their secrets): id, role, status, province, name."""
    from chalicelib.store import clients as store

    for client in sorted(store.list_all(), key=lambda c: c.created_at):
        click.echo(f"{client.client_id}\t{client.role}\t{client.status}\t{client.province or '-'}\t{client.name}")


# --- paper codes ----------------------------------------------------------------------------------------

@main.group()
def paper() -> None:
    """Paper codes for people without a phone (docs/identity.md#paper-codes)."""


@paper.command("issue")
@click.option("--document-type", default="resident_id", show_default=True,
              type=click.Choice(["resident_id", "passport", "hk_macao_travel_permit", "taiwan_travel_permit",
                                 "hmt_residence_permit", "foreign_permanent_resident"]))
@click.option("--id-number", prompt=True, hide_input=True, help="The holder's document number (asked if left out, "
                                                                  "so that it stays out of the shell's history).")
@click.option("--nationality", help="A passport's issuing state, ISO 3166-1 alpha-3.")
@click.option("--svg", "svg_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the print layout (A6) to this file.")
def issue_paper(document_type: str, id_number: str, nationality: str | None, svg_file: Path | None) -> None:
    """Issue a paper code valid 14 days for a person who has a code; written to their access log."""
    from chalicelib.domain import documents
    from chalicelib.errors import ApiError
    from chalicelib.services import paper_codes, paper_print
    from chalicelib.store import papercodes

    try:
        document = documents.parse(document_type, id_number, nationality)
        issued = paper_codes.by_ops(document, f"ops:{getpass.getuser()}")
    except documents.InvalidDocument as exc:
        raise click.UsageError(str(exc)) from None
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    if svg_file is not None:
        found = papercodes.get(issued["number"])
        assert found is not None
        svg_file.write_text(paper_print.svg(found, issued["token"]), encoding="utf-8")
    click.echo(json.dumps(issued, ensure_ascii=False, indent=2))


@paper.command("revoke")
@click.argument("number")
def revoke_paper(number: str) -> None:
    """Revoke a paper code reported lost; the revocation list names it from now on."""
    from chalicelib.errors import ApiError
    from chalicelib.security.access import Principal, Role
    from chalicelib.services import paper_codes

    try:
        revoked = paper_codes.revoke(Principal(Role.OPS, subject=f"ops:{getpass.getuser()}"), number)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"revoked {number} (revocation {revoked['revocation_sequence']})")


# --- keys and secrets ------------------------------------------------------------------------------------

@main.group()
def keys() -> None:
    """QR signing keys (in the secrets bundle)."""


@keys.command("rotate")
@click.option("--publish-for", default=0, show_default=True, type=click.IntRange(0, 86400),
              help="Seconds the new key is published in the JWKS before it signs. Use 600 or more in prod, "
                   "so every container has loaded it before any token it signs is scanned.")
def rotate_keys(publish_for: int) -> None:
    """Add a new QR signing key; old keys keep verifying until their last token expires.

    dev rewrites the local secrets file; prod writes a new version of the Secrets Manager secret."""
    from chalicelib import clock
    from chalicelib.security import keyring

    try:
        fresh = keyring.rotate_signing_key(clock.now(), publish_for)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    where = f"secret {_settings().secret_id}" if _settings().secret_id else "the local secrets file"
    click.echo(f"new key {fresh.kid} in {where}: published now, signs from {fresh.signing_start}")


@keys.command("list")
def list_keys() -> None:
    """The signing keys of the bundle: kid, created, signs from, retired (never the private keys)."""
    from chalicelib.security import keyring

    for key in keyring.reload().signing_keys:
        click.echo(f"{key.kid}\tcreated {_when(key.created_at)}\tsigns from {_when(key.signing_start)}\t"
                   f"retired {_when(key.retired_at) if key.retired_at else '-'}")


def _when(moment: int) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@main.group()
def secrets() -> None:
    """The secrets bundle: ID pepper, token keys, QR signing keys."""


@secrets.command("init")
def init_secrets() -> None:
    """Create the stage's secrets bundle: prod, a new Secrets Manager secret (before the first deploy);
    dev, the local file. Never replaces an existing one (its pepper keys every stored person reference)."""
    from chalicelib import clock
    from chalicelib.security import keyring

    secret_id = _settings().secret_id
    if secret_id:
        from botocore.exceptions import ClientError

        try:
            keyring.create_secret(secret_id, clock.now())
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceExistsException":
                raise click.ClickException(f"secret {secret_id} exists already; it is left as it is") from None
            raise
        click.echo(f"created secret {secret_id}")
    else:
        keyring.reload()  # generates the file if missing, never replaces it
        click.echo(f"secrets file ready in {_settings().secrets_dir}")


# --- area risk levels ---------------------------------------------------------------------------------------

@main.group()
def areas() -> None:
    """Area risk levels."""


def _moment(text: str) -> int:
    """effective_from: epoch seconds, a date (its start in China Standard Time) or an ISO 8601 time."""
    from chalicelib.domain import days

    text = text.strip()
    if text.isdigit():
        return int(text)
    if len(text) == 10:
        return days.start_of(dt.date.fromisoformat(text))
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=days.CST)
    return int(moment.timestamp())


def _rows(path: Path) -> Iterable[tuple[int, list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for number, row in enumerate(csv.reader(fh), start=1):
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#") or (number == 1 and cells[0].lower() == "code"):
                continue
            yield number, cells


def _details(details: list[dict[str, Any]]) -> str:
    # a value that is no date or time at all is the effective_from column's (_moment)
    return "; ".join(f"{d.get('field', 'effective_from')}: {d['message']}" for d in details)


@areas.command("seed")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", help="Note stored with every level set, e.g. the notice it comes from.")
@click.option("--operator", default=getpass.getuser, show_default="your login name",
              help="Who is seeding: recorded as the setter of each level (ops:<operator>).")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
def seed_areas(csv_file: Path, note: str | None, operator: str, dry_run: bool) -> None:
    """Set area risk levels from a CSV of code,level[,effective_from] (a header row is optional).

    Each row goes through the same service as PUT /v1/areas/{code}, as an ops principal scoped to the
    area's province: the same checks, history and `area.level_changed` event (every read of a code that
    stayed there sees the level at once; the event brings the stored codes and their history up to date
    and notifies subscribed provinces). Every row is checked
    before anything is written. A row already in effect is skipped: undated, when the area is at
    that level; dated, when its history has that level from that moment. Re-running a file is safe."""
    from pydantic import ValidationError

    from chalicelib import clock
    from chalicelib.api.areas import LevelRequest
    from chalicelib.api.http import validation_details
    from chalicelib.domain import divisions
    from chalicelib.errors import ApiError, ValidationFailed
    from chalicelib.security.access import Principal, Role
    from chalicelib.services import areas as service

    planned, problems = [], []
    for number, cells in _rows(csv_file):
        if len(cells) not in (2, 3):
            problems.append(f"line {number}: expected code,level[,effective_from]")
            continue
        code, level = cells[0], cells[1].lower()
        try:
            effective = _moment(cells[2]) if len(cells) == 3 and cells[2] else None
            change = LevelRequest.model_validate_json(json.dumps({"level": level, "effective_from": effective,
                                                                  "note": note}))
            service.check_code(code)
            service.start_of_change(effective, clock.now())
        except (ValueError, ValidationFailed) as exc:
            details = validation_details(exc) if isinstance(exc, ValidationError) else (
                exc.details if isinstance(exc, ValidationFailed) else [{"message": str(exc)}])
            problems.append(f"line {number}: " + "; ".join(f"{d.get('field', 'effective_from')}: {d['message']}"
                                                            for d in details))
            continue
        except ApiError as exc:
            problems.append(f"line {number}: " + (_details(exc.details) if exc.details else exc.message))
            continue
        planned.append((number, code, change))
    if problems:
        raise click.ClickException("nothing written; fix these rows first:\n  " + "\n  ".join(problems))

    changed = unchanged = 0
    failures = []
    label = "checking" if dry_run else "setting levels"
    with click.progressbar(planned, label=label, show_pos=True) as bar:
        for number, code, change in bar:
            current = service.get(code)
            if (current["level"] == change.level.value if change.effective_from is None else
                    {"level": change.level.value, "from": change.effective_from} in current["history"]):
                unchanged += 1
                continue
            if dry_run:
                changed += 1
                continue
            principal = Principal(role=Role.OPS, subject=f"ops:{operator}", province=divisions.province_of(code))
            try:
                service.set_level(principal, code, change.level, change.effective_from, change.note)
                changed += 1
            except ApiError as exc:
                failures.append(f"line {number} ({code}): {exc.message}")
    verb = "would set" if dry_run else "set"
    click.echo(f"{verb} {changed} levels, {unchanged} already at that level")
    if failures:
        raise click.ClickException("some rows failed (re-running the file is safe):\n  " + "\n  ".join(failures))


@areas.command("summaries")
def rebuild_summaries() -> None:
    """Rebuild the province summaries of area levels that every read joins (docs/deploy.md: once, after
    upgrading tables written before the summaries existed). Safe to re-run."""
    from chalicelib.services import areas as service

    click.echo(f"summarised {service.rebuild_summaries()} areas")


# --- webhooks -------------------------------------------------------------------------------------------

@main.group()
def webhooks() -> None:
    """Webhook deliveries to provinces."""


def _dead(province: str | None) -> list[Any]:
    from chalicelib.store import deliveries

    found = [d for d in deliveries.dead() if province is None or d.province == province]
    return sorted(found, key=lambda d: (d.province, d.created_at))


@webhooks.command("dead")
@click.option("--province", help="Only this province's (two-digit code).")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
def list_dead(province: str | None, fmt: str) -> None:
    """Dead deliveries: refused through every retry, answered 410, or of a disabled subscription."""
    from chalicelib.store import webhooks as subscriptions

    dead = _dead(province)
    status = {}
    for webhook_id in {d.webhook_id for d in dead}:
        subscription = subscriptions.get(webhook_id)
        status[webhook_id] = subscription.status if subscription else "deleted"
    rows = []
    for sent in dead:
        last = sent.attempt_log[-1] if sent.attempt_log else None
        rows.append({"webhook_id": sent.webhook_id, "delivery_id": sent.event_id, "province": sent.province,
                     "event_type": sent.event_type, "attempts": len(sent.attempt_log),
                     "last_status_code": last.status_code if last else None, "last_error": last.error if last else None,
                     "created_at": sent.created_at, "subscription": status[sent.webhook_id]})
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['webhook_id']}\t{row['delivery_id']}\t{row['province']}\t{row['event_type']}\t"
                   f"{row['attempts']} attempts, last {row['last_status_code'] or row['last_error']}\t"
                   f"subscription {row['subscription']}")
    click.echo(f"{len(rows)} dead deliveries")


@webhooks.command("replay")
@click.argument("webhook_id", required=False)
@click.argument("delivery_id", required=False)
@click.option("--all-dead", is_flag=True, help="Every dead delivery (of --province, if given).")
@click.option("--province", help="With --all-dead: only this province's.")
@click.option("--send-now", is_flag=True,
              help="Send from this machine at once instead of leaving it to the retry schedule (every minute "
                   "in AWS). Needs the secrets bundle and a route to the province's endpoint.")
def replay(webhook_id: str | None, delivery_id: str | None, all_dead: bool, province: str | None,
           send_now: bool) -> None:
    """Replay dead (or delivered) deliveries: the same webhook-id, a fresh retry schedule.

    By default each is made pending, due now, and the webhook-retries function sends it from AWS
    within a minute, as every delivery is sent. Replay after the province has fixed its endpoint;
    a delivery of a disabled subscription goes dead again at once."""
    from chalicelib import clock
    from chalicelib.errors import ApiError
    from chalicelib.services import webhooks as service
    from chalicelib.store import deliveries

    if all_dead == bool(webhook_id and delivery_id):
        raise click.UsageError("give WEBHOOK_ID DELIVERY_ID, or --all-dead")
    targets = [(d.webhook_id, d.event_id) for d in _dead(province)] if all_dead else [(webhook_id, delivery_id)]
    outcomes: dict[str, int] = {}
    problems = []
    with click.progressbar(targets, label="replaying", show_pos=True) as bar:
        for hook, event in bar:
            if send_now:
                try:
                    result = service.replay_delivery(hook, event)
                    outcome = result.get("status", "claimed by another sender")
                except ApiError as exc:
                    problems.append(f"{hook} {event}: {exc.message}")
                    continue
            elif deliveries.replay(hook, event, clock.now()) is None:
                problems.append(f"{hook} {event}: " + ("no such delivery" if deliveries.get(hook, event) is None
                                                       else "still pending: it is retried on its schedule"))
                continue
            else:
                outcome = "queued"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    click.echo(", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "nothing replayed")
    if problems:
        raise click.ClickException("\n  ".join(["not replayed:", *problems]))


# --- dead events ----------------------------------------------------------------------------------------

@main.group()
def events() -> None:
    """Stream records that failed: dead events, their replay, batches Lambda gave up on."""


def _failure_row(failure: Any) -> dict[str, Any]:
    return {"id": failure.id, "source": failure.source, "what": failure.what, "attempts": failure.attempts,
            "dead_at": _when(failure.dead_at) if failure.dead_at else None, "error_type": failure.error.type,
            "error_message": failure.error.message, "error_where": failure.error.where,
            "stream_event_id": failure.stream_event_id, "sequence_number": failure.sequence_number,
            "keys": failure.keys}


@events.command("dead")
@click.option("--source", help="Only this stream function's (events, scans, ...).")
@click.option("--limit", type=click.IntRange(1), help="At most this many, newest first.")
@click.option("--format", "fmt", default="table", show_default=True, type=click.Choice(["table", "json"]))
def list_dead_events(source: str | None, limit: int | None, fmt: str) -> None:
    """Dead events, newest first: stream records that failed in their handler MAX_ATTEMPTS times (or were in a
    batch Lambda gave up on), with their last error. The records after them were handled."""
    from chalicelib.store import failures

    rows = [_failure_row(f) for f in failures.dead(source, limit)]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        message = " ".join(row["error_message"].split())
        click.echo(f"{row['id']}\t{row['what']}\t{row['attempts']} attempts\tdead {row['dead_at']}\t"
                   f"{row['error_type']}: {message[:160]}" + (f" ({row['error_where']})" if row["error_where"] else ""))
    click.echo(f"{len(rows)} dead events")


@events.command("replay")
@click.argument("failure_ids", nargs=-1)
@click.option("--all-dead", is_flag=True, help="Every dead event (of --source, if given), oldest first.")
@click.option("--source", help="With --all-dead: only this stream function's.")
def replay_events(failure_ids: tuple[str, ...], all_dead: bool, source: str | None) -> None:
    """Run dead events through their handler again, from this machine, as the stream function would (the
    handlers are idempotent). A success marks the event replayed; a failure keeps it dead with the new error
    and the command fails. Replay once the cause is fixed (a deploy, a data repair)."""
    from chalicelib.events import batches, handlers
    from chalicelib.store import failures

    if all_dead == bool(failure_ids):
        raise click.UsageError("give FAILURE_IDS (as `events dead` lists them), or --all-dead")
    targets = [f.id for f in reversed(failures.dead(source))] if all_dead else list(failure_ids)
    replayed, problems = 0, []
    with click.progressbar(targets, label="replaying", show_pos=True) as bar:
        for target in bar:
            try:
                batches.replay(target, handlers.SOURCES)
                replayed += 1
            except batches.ReplayFailed as exc:
                problems.append(f"{target}: still dead: {exc.failure.error.type}: {exc.failure.error.message}")
            except LookupError as exc:
                problems.append(str(exc).strip("'\""))
    click.echo(f"{replayed} replayed")
    if problems:
        raise click.ClickException("\n  ".join(["not replayed:", *problems]))


def _messages(document: Any) -> list[dict[str, Any]]:
    """On-failure messages from what an operator saved: one message, a list of them, or the output of
    `aws sqs receive-message` (whose bodies are the messages)."""
    if isinstance(document, list):
        return [m for item in document for m in _messages(item)]
    if isinstance(document, dict) and "Messages" in document:
        return [m for item in document["Messages"] for m in _messages(json.loads(item["Body"]))]
    if isinstance(document, dict) and "Body" in document:
        return _messages(json.loads(document["Body"]))
    if isinstance(document, dict) and "DDBStreamBatchInfo" in document:
        return [document]
    raise click.UsageError("not an on-failure message of a DynamoDB stream mapping (no DDBStreamBatchInfo)")


@events.command("recover")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--source", help="The stream function, if the message's functionArn does not name it.")
def recover_events(file: Any, source: str | None) -> None:
    """Keep as dead events the records of batches a stream mapping gave up on.

    FILE ('-' for standard input) holds what the stream failures queue received: one message, a list,
    or the output of `aws sqs receive-message`. Each message names a shard and a range of sequence numbers;
    the records are read back from the stream, which keeps them 24 hours, and stored as dead events of
    the function the message names. Then list and replay them. Delete the queue's message afterwards."""
    from chalicelib.events import batches, handlers
    from chalicelib.store import streams

    try:
        document = json.load(file)
    except ValueError as exc:
        raise click.UsageError(f"{file.name}: not JSON ({exc})") from None
    stored, problems = 0, []
    for message in _messages(document):
        info = message["DDBStreamBatchInfo"]
        where = f"{info.get('shardId')} {info.get('startSequenceNumber')}..{info.get('endSequenceNumber')}"
        try:
            kept = batches.recover(message, handlers.SOURCES, source=source)
        except (streams.RecordsGone, LookupError, KeyError) as exc:
            problems.append(f"{where}: {str(exc).strip(chr(39))}")
            continue
        stored += len(kept)
        click.echo(f"{where}: {len(kept)} of {info.get('batchSize')} records kept as dead events "
                   f"({', '.join(f.id for f in kept[:3])}{', ...' if len(kept) > 3 else ''})")
        if len(kept) < int(info.get("batchSize") or 0):
            problems.append(f"{where}: only {len(kept)} of {info.get('batchSize')} records are still in the stream")
    click.echo(f"{stored} dead events stored")
    if problems:
        raise click.ClickException("\n  ".join(["not recovered:", *problems]))


# --- retention ------------------------------------------------------------------------------------------

@main.group()
def retention() -> None:
    """The retention schedule (docs/retention.md)."""


@retention.command("backfill")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The progress file a re-run resumes from. Default: retention-backfill-<stage>.json here.")
@click.option("--segments", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Parallel Scan segments per table (one thread each).")
@click.option("--max-pages", type=click.IntRange(1), help="Stop after this many Scan pages (a trial run); run "
                                                          "again to resume.")
def backfill_retention(state_file: Path | None, segments: int, max_pages: int | None) -> None:
    """Give `expires_at` to the items written before TTL was set on them (people, medical, local codes,
    corrections, audit), as their table's writes would have from the item's own times; an item whose expiry
    has passed is then deleted by DynamoDB's TTL. Resumable; a re-run after it finished finds nothing to do."""
    from chalicelib import clock
    from ops import backfill, progress

    stage = click.get_current_context().find_root().params["stage"]
    path = state_file or Path(f"retention-backfill-{stage}.json")
    try:
        state = progress.State.load(path, stage, segments)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        backfill.backfill(state, progress.Budget(max_pages), clock.now())
    except progress.Interrupted:
        raise click.ClickException(f"stopped after {max_pages} pages; the progress is saved in {state.path}: run "
                                   "the same command again to resume") from None
    for kind in state.counts:
        click.echo(f"{kind}: {state.counts[kind]} items given an expiry")
    unread = sum(len(keys) for keys in state.skipped.values())
    if unread:
        click.echo(f"done, but {unread} items could not be read and have no expiry: their keys are under "
                   f"\"skipped\" in {path}; look at each, then run the backfill again with a new state file")
    else:
        click.echo(f"done; {path} can be removed")


# --- the end of the emergency ---------------------------------------------------------------------------

@main.group()
def emergency() -> None:
    """The end of the emergency: stop issuing, purge personal data, rotate the pepper away, attest."""


@emergency.command("end")
@click.option("--confirm", "confirm", required=True, metavar="STAGE",
              help="The stage's name again (the --stage given before the command): there is no undo.")
@click.option("--attestation", "attestation_file", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the signed attestation (a compact JWS); it is printed too.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The progress file a re-run resumes from. Default: emergency-end-<stage>.json here.")
@click.option("--segments", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Parallel Scan segments per table (one thread each).")
@click.option("--settle-seconds", type=click.IntRange(0),
              help="Seconds to wait after setting the flag before purging, so every container has re-read the "
                   "secrets bundle and stopped issuing. Default: 360 in AWS, 0 on DynamoDB Local.")
@click.option("--max-batches", type=click.IntRange(1),
              help="Stop after this many BatchWriteItem calls (a trial run); run again to resume.")
def end_emergency(confirm: str, attestation_file: Path, state_file: Path | None, segments: int,
                  settle_seconds: int | None, max_batches: int | None) -> None:
    """End the platform's purpose on this stage (docs/deploy.md, "Ending the emergency").

    1. Sets the stage's flag in the secrets bundle: POST /v1/codes and GET /v1/codes/me/qr answer
    410 emergency_ended from then (within 5 minutes in AWS, as containers re-read the bundle).
    2. Deletes every item of every table with personal data (docs/retention.md) in batches of 25, with
    parallel Scan segments; progress goes to the state file after every page, so a re-run resumes.
    3. Replaces the ID pepper and the code key with fresh random ones, keeping no copy.
    4. Writes and prints an attestation signed with the current QR signing key (verifiable with
    /.well-known/jwks.json): item counts per table before and after, the time, the stage, the key id."""
    from chalicelib import clock
    from chalicelib.security import keyring
    from chalicelib.store import dynamo
    from ops import emergency as ending, progress

    stage = click.get_current_context().find_root().params["stage"]
    if confirm != stage:
        raise click.UsageError(f"--confirm must name the stage this command acts on ({stage})")
    path = state_file or Path(f"emergency-end-{stage}.json")
    try:
        state = progress.State.load(path, stage, segments)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    client = dynamo.client()
    prefix = _settings().table_prefix

    # 1. stop issuing
    if state.ended_at is None:
        state.ended_at = keyring.end_emergency(clock.now())
        state.save()
    click.echo(f"1. stage {stage}: no codes or QR tokens are issued from {_when(state.ended_at)} "
               f"(progress in {path})")
    wait = (keyring.REFRESH_SECONDS + 60 if _is_aws() else 0) if settle_seconds is None else settle_seconds
    remaining = state.ended_at + wait - clock.now()
    if remaining > 0:
        click.echo(f"   waiting {remaining} s for every container to re-read the secrets bundle")
        time.sleep(remaining)

    # 2. purge
    names = ending.all_tables(prefix)
    if not state.before:
        with click.progressbar(names, label="   counting items", show_pos=True) as tables_bar:
            state.before = {name: ending.exact_count(client, name) for name in tables_bar}
        state.save()
    personal = list(ending.personal_tables(prefix))
    _purge_passes(client, personal, state, max_batches)
    click.echo(f"   purged {sum(state.counts.values())} items from {len(personal)} tables")

    # 3. rotate the pepper away
    if state.pepper_rotated_at is None:
        keyring.rotate_pepper_away()
        state.pepper_rotated_at = clock.now()
        state.save()
    click.echo(f"3. the ID pepper and the code key were replaced at {_when(state.pepper_rotated_at)}; "
               "the old ones are kept nowhere")

    # 4. attest
    after = {name: ending.exact_count(client, name) for name in names}
    now = clock.now()
    claims = {"iss": _settings().issuer, "purpose": ending.PURPOSE, "stage": stage, "table_prefix": prefix,
              "emergency_ended_at": state.ended_at, "pepper_rotated_at": state.pepper_rotated_at, "iat": now,
              "tables": {name: {"personal_data": name in personal, "before": state.before.get(name, 0),
                                "after": after[name]} for name in names}}
    token = ending.attestation(claims)
    attestation_file.write_text(token + "\n")
    width = max(len(n) for n in names)
    for name in names:
        kept = "" if name in personal else "  (no personal data: kept)"
        click.echo(f"   {name:<{width}}  {state.before.get(name, 0):>8} -> {after[name]}{kept}")
    click.echo(f"4. attestation written to {attestation_file} ({_when(now)}); verify it with /.well-known/jwks.json:")
    click.echo(token)


def _purge_passes(client: Any, personal: list[str], state: Any, max_batches: int | None) -> None:
    """Purge the personal tables until a count finds them empty (at most ROUNDS passes: an item a function
    was still writing when its table was purged is caught by the next)."""
    from ops import emergency as ending, progress

    budget = progress.Budget(max_batches)
    lock = threading.Lock()
    while True:
        left = sum(state.before.get(t, 0) for t in personal if not state.table_done(t))
        with click.progressbar(length=max(left, 1), label=f"2. purging (pass {state.round})", show_pos=True) as bar:
            def tick(n: int) -> None:
                with lock:
                    bar.update(n)
            try:
                ending.purge(client, personal, state, budget, tick)
            except progress.Interrupted:
                raise click.ClickException(f"stopped after {max_batches} batches; the progress is saved in "
                                           f"{state.path}: run the same command again to resume") from None
        still = {t: n for t in personal if (n := ending.exact_count(client, t))}
        if not still:
            return
        if state.round >= ending.ROUNDS:
            raise click.ClickException(f"items keep appearing after {state.round} passes: {still}; is a "
                                       "function still writing? Run the command again once it has stopped")
        state.round += 1
        for table in still:
            state.progress.pop(table, None)
        state.save()
