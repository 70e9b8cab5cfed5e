"""Configuration read from the environment once per container.

The stage's variables come from .chalice/config.json (dev, test, prod), and for dev
also from infra/stage.py (its addresses follow the ports `make run` was given).
Nothing here defaults to a local address, so a prod stage without an endpoint talks
to AWS's regional DynamoDB endpoint; the dev and test stages refuse to run without one.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

STAGES_WITH_SELF_ASSERTION = frozenset({"dev", "test"})


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    region: str
    dynamodb_endpoint: str | None
    secrets_dir: str | None          # dev/test: generated local secret files
    secret_id: str | None            # prod: Secrets Manager secret holding pepper and keys
    issuer: str = "https://healthcode.example.gov.cn"
    access_token_ttl: int = 900
    citizen_token_ttl: int = 3600
    qr_token_ttl: int = 180
    scan_retention_days: int = 30
    idp_issuer: str | None = None
    idp_audience: str | None = None
    idp_jwks: str | None = None      # JSON Web Key Set of the identity provider
    max_body_bytes: int = 65536
    webhook_timeout: float = 15.0
    area_levels_max_age: float = 5.0  # seconds a container reuses its copy of the area levels (docs/colors.md)

    @property
    def allows_loopback_webhooks(self) -> bool:
        return self.stage in STAGES_WITH_SELF_ASSERTION

    @property
    def allows_self_assertion(self) -> bool:
        return self.stage in STAGES_WITH_SELF_ASSERTION

    def table(self, kind: str) -> str:
        return f"{self.table_prefix}-{kind}"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def from_environment() -> Settings:
    env = os.environ.get
    stage = env("HEALTHCODE_STAGE", "prod")
    endpoint = env("HEALTHCODE_DYNAMODB_ENDPOINT") or None
    if stage in STAGES_WITH_SELF_ASSERTION and endpoint is None:
        # they let anyone claim any identity: never against an AWS account's tables
        raise RuntimeError(f"the {stage} stage runs against DynamoDB Local only, and HEALTHCODE_DYNAMODB_ENDPOINT "
                           "is not set: serve dev with `make run` (the tests set it themselves)")
    return Settings(
        stage=stage,
        table_prefix=env("HEALTHCODE_TABLE_PREFIX", "healthcode-prod"),
        region=env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "cn-north-1",
        dynamodb_endpoint=endpoint,
        secrets_dir=env("HEALTHCODE_SECRETS_DIR") or None,
        secret_id=env("HEALTHCODE_SECRET_ID") or None,
        issuer=env("HEALTHCODE_ISSUER", Settings.issuer),
        access_token_ttl=_int("HEALTHCODE_ACCESS_TOKEN_TTL", Settings.access_token_ttl),
        citizen_token_ttl=_int("HEALTHCODE_CITIZEN_TOKEN_TTL", Settings.citizen_token_ttl),
        qr_token_ttl=_int("HEALTHCODE_QR_TOKEN_TTL", Settings.qr_token_ttl),
        scan_retention_days=_int("HEALTHCODE_SCAN_RETENTION_DAYS", Settings.scan_retention_days),
        idp_issuer=env("HEALTHCODE_IDP_ISSUER") or None,
        idp_audience=env("HEALTHCODE_IDP_AUDIENCE") or None,
        idp_jwks=env("HEALTHCODE_IDP_JWKS") or None,
        webhook_timeout=float(env("HEALTHCODE_WEBHOOK_TIMEOUT") or Settings.webhook_timeout),
        area_levels_max_age=float(env("HEALTHCODE_AREA_LEVELS_MAX_AGE") or Settings.area_levels_max_age),
    )


_override: Settings | None = None


@lru_cache(maxsize=1)
def _cached() -> Settings:
    return from_environment()


def get_settings() -> Settings:
    return _override or _cached()


def override(**changes: Any) -> Settings:
    """Replace some settings (tests switch stage this way); returns the new settings."""
    global _override
    _override = dataclasses.replace(_override or _cached(), **changes)
    return _override


def reset() -> None:
    global _override
    _override = None
    _cached.cache_clear()
