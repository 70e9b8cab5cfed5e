"""Standard Webhooks signatures: `whsec_` secrets and `v1,<base64 HMAC-SHA256(id.timestamp.body)>`."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def header(secrets: list[str], message_id: str, timestamp: int, body: str) -> str:
    """Space-separated signatures, one per live secret, so a receiver can rotate without a gap."""
    return " ".join(signature(s, message_id, timestamp, body) for s in secrets)
