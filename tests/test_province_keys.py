"""A container's copy of the provinces' registered keys (chalicelib/security/province_tokens.py, `keys_of` and
`forget`): read from the provinces table once, kept CACHE_SECONDS on the monotonic clock so a revoked key stops
verifying everywhere within that time, and dropped at once where this container changed it. Fast tier: the
table's reading is replaced by a function that counts its calls; the verification rule is in test_token_rules.py.
"""
from __future__ import annotations

import json
import types
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from chalicelib.security import province_tokens
from chalicelib.store import provinces

pytestmark = pytest.mark.fast

NOW = 1_800_000_000


def registered_key(kid: str, **window: int) -> dict[str, Any]:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    return {**json.loads(ECAlgorithm.to_jwk(public)), "kid": kid, "alg": "ES256", **window}


class Table:
    """The provinces table as `provinces.get` reads it, counting the reads of each province."""

    def __init__(self) -> None:
        self.key_sets: dict[str, provinces.KeySet] = {}
        self.reads: list[str] = []

    def get(self, province: str, consistent: bool = False) -> provinces.KeySet | None:
        self.reads.append(province)
        return self.key_sets.get(province)

    def register(self, province: str, *kids: str, revoked: tuple[str, ...] = ()) -> None:
        self.key_sets[province] = provinces.KeySet(
            province, tuple(registered_key(kid) for kid in kids),
            tuple(provinces.Revoked(kid, NOW) for kid in revoked), NOW, None, len(self.reads) + 1)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Table:
    table = Table()
    monkeypatch.setattr(province_tokens.provinces, "get", table.get)
    monkeypatch.setattr(province_tokens, "_cache", {})
    return table


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The monotonic clock the cache ages by, set by the test (the module's own `time`, nothing else's)."""
    now = {"now": 5_000.0}
    monkeypatch.setattr(province_tokens, "time", types.SimpleNamespace(monotonic=lambda: now["now"]))
    return now


def test_a_provinces_keys_are_read_once_and_kept_for_cache_seconds_then_read_again(table, monotonic):
    table.register("44", "gd-1")
    first = province_tokens.keys_of("44")
    assert first is not None and set(first.keys) == {"gd-1"} and first.keys["gd-1"][1] == "ES256"
    monotonic["now"] += province_tokens.CACHE_SECONDS            # exactly CACHE_SECONDS old: still kept
    table.register("44", "gd-1", "gd-2")
    assert province_tokens.keys_of("44") is first and table.reads == ["44"]
    monotonic["now"] += 0.5                                        # older: read again, and the new key is seen
    again = province_tokens.keys_of("44")
    assert again is not None and set(again.keys) == {"gd-1", "gd-2"} and table.reads == ["44", "44"]
    assert province_tokens.keys_of("44") is again and table.reads == ["44", "44"]   # and kept from then
    assert province_tokens.CACHE_SECONDS == 30


def test_each_province_is_read_and_kept_on_its_own_and_one_with_no_keys_is_kept_as_none(table, monotonic):
    table.register("44", "gd-1")
    table.register("51", "sc-1", revoked=("sc-0",))
    sichuan = province_tokens.keys_of("51")
    assert sichuan is not None and set(sichuan.keys) == {"sc-1"} and sichuan.revoked == {"sc-0"}
    assert set(province_tokens.keys_of("44").keys) == {"gd-1"}
    assert province_tokens.keys_of("11") is None and province_tokens.keys_of("11") is None
    assert table.reads == ["51", "44", "11"]


def test_forgetting_a_province_makes_the_next_use_read_it_again_and_leaves_the_others(table, monotonic):
    table.register("44", "gd-1")
    table.register("51", "sc-1")
    province_tokens.keys_of("44")
    kept = province_tokens.keys_of("51")
    table.register("44", "gd-2", revoked=("gd-1",))               # this container changed Guangdong's keys
    province_tokens.forget("44")
    changed = province_tokens.keys_of("44")
    assert changed is not None and set(changed.keys) == {"gd-2"} and changed.revoked == {"gd-1"}
    assert province_tokens.keys_of("51") is kept and table.reads == ["44", "51", "44"]
    province_tokens.forget("12")                                   # never read: nothing to drop, no error
    assert table.reads == ["44", "51", "44"]
