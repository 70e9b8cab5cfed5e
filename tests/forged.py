"""What the token tests share: the fixed moment they run at, and tokens made by hand, which PyJWT would not make."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib import clock

NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def _platform_clock_at_now() -> None:
    """Import it into a test module to run each of its tests on the platform clock at NOW."""
    clock.reset()
    clock.shift(NOW - clock.now_float())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token PyJWT would not make (no kid, a numeric kid or iss, another algorithm than the key's), with a
    signature of nothing."""
    return ".".join(b64url(json.dumps(part).encode()) for part in (header, claims)) + "." + b64url(b"x" * 64)
