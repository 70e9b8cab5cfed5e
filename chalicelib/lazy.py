"""A value a container builds on first use, once, under a lock: a client, a pool, a key ring.

Building on first use keeps cold starts short (importing the app costs nothing until a request needs
the value), and the lock makes threads that ask at the same moment share one build rather than race
to make several. After that a read takes no lock: it reads one tuple that is replaced whole.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """`get(key)` gives the value built for `key` by `build`, built again when the key changes (a test
    points the stage at another endpoint, a secrets bundle was reloaded) or when `stale(value)` says so."""

    def __init__(self, build: Callable[[], T] | None = None, stale: Callable[[T], bool] | None = None):
        self._build = build
        self._stale = stale
        self._lock = threading.Lock()
        self._held: tuple[Hashable, T] | None = None

    def _fresh(self, key: Hashable) -> T | None:
        held = self._held
        if held is None or held[0] != key or (self._stale is not None and self._stale(held[1])):
            return None
        return held[1]

    def get(self, key: Hashable = None, build: Callable[[], T] | None = None) -> T:
        """`build` overrides the one given at construction, for a value built from what the caller holds."""
        found = self._fresh(key)
        if found is not None:
            return found
        with self._lock:
            found = self._fresh(key)
            if found is None:
                make = build or self._build
                assert make is not None, "Lazy.get needs a build function"
                found = make()
                self._held = (key, found)
            return found
