"""The ops command line: `python -m ops --help`.

It talks to the stage's tables directly: DynamoDB Local for dev (the endpoint
in .chalice/config.json), AWS for prod with the usual AWS profile and region.
"""
from __future__ import annotations

import json
import os
import shlex

import click

from infra.local import stage as stages


def _use_stage(name: str) -> None:
    os.environ.update(stages.environment(name))
    from chalicelib import settings

    settings.reset()


@click.group()
@click.option("--stage", default="dev", show_default=True, type=click.Choice(["dev", "prod"]),
              help="Which stage's tables and secrets to use.")
def main(stage: str) -> None:
    """Operate the healthcode platform: tables, clients, keys."""
    _use_stage(stage)


@main.group()
def clients() -> None:
    """System clients: checkpoints, provinces, health authorities, ops."""


@clients.command("create")
@click.option("--role", required=True, type=click.Choice(["checkpoint", "province", "health_authority", "ops"]))
@click.option("--name", required=True, help="Who the client is, e.g. 'Guangzhou South gate 3'.")
@click.option("--province", help="Two-digit GB/T 2260 province code (province and health_authority clients).")
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
        click.echo(f"CLIENT_ID={shlex.quote(created['client_id'])} CLIENT_SECRET={shlex.quote(created['client_secret'])}")
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


@clients.command("list")
def list_clients() -> None:
    """List clients (never their secrets)."""
    from chalicelib.store import clients as store

    for item in sorted(store.list_all(), key=lambda i: i["created_at"]):
        click.echo(f"{item['pk']}\t{item['role']}\t{item['status']}\t{item.get('province') or '-'}\t{item['name']}")


@main.group()
def keys() -> None:
    """QR signing keys."""


@keys.command("rotate")
@click.option("--publish-for", default=0, show_default=True, type=click.IntRange(0, 86400),
              help="Seconds the new key is published in the JWKS before it signs. Use 600 or more in prod, "
                   "so every container has loaded it before any token it signs is scanned.")
def rotate_keys(publish_for: int) -> None:
    """Add a new QR signing key; old keys keep verifying until their last token expires."""
    from chalicelib import clock
    from chalicelib.security import secrets

    fresh = secrets.rotate_signing_key(clock.now(), publish_for)
    click.echo(f"new key {fresh.kid}: published now, signs from {fresh.signing_start}")


@main.group()
def tables() -> None:
    """The DynamoDB tables of infra/template.json."""


@tables.command("create")
def create_tables() -> None:
    """Create missing tables (idempotent)."""
    from chalicelib.settings import get_settings
    from chalicelib.store import dynamo
    from infra.local import bootstrap

    created = bootstrap.bootstrap(dynamo.client(), get_settings().table_prefix)
    click.echo(f"created: {', '.join(created) or 'nothing, all tables exist'}")
