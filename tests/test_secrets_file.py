"""The dev and test stages keep the ID pepper and every signing key in one generated file
(chalicelib/security/keyring.py). Nobody but its owner may read it, at any moment: not while it is being
created or rewritten, whatever the umask, and its folder is its owner's alone."""
from __future__ import annotations

import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import clock, settings
from chalicelib.security import keyring

OPEN_TO_OTHERS = 0o077

_watching: list[tuple[Path, list[str]]] = []
_inside = threading.local()


def _look(event: str, _args: tuple) -> None:
    """An audit hook (hooks cannot be removed, so it does nothing unless a test watches): before every file
    operation Python makes (each open, chmod, rename, link, remove...), notes any file of the watched folder,
    or the folder itself, that someone other than its owner could read at that moment."""
    if not _watching or getattr(_inside, "busy", False):
        return
    _inside.busy = True  # listing the folder raises audit events of its own
    try:
        folder, seen = _watching[-1]
        if not folder.exists():
            return
        if folder.stat().st_mode & OPEN_TO_OTHERS:
            seen.append(f"before {event}: the folder is {stat.filemode(folder.stat().st_mode)}")
        for entry in folder.iterdir():
            try:
                mode = entry.lstat().st_mode
            except FileNotFoundError:
                continue
            if mode & OPEN_TO_OTHERS:
                seen.append(f"before {event}: {entry.name} is {stat.filemode(mode)}")
    finally:
        _inside.busy = False


sys.addaudithook(_look)


@pytest.fixture
def watched_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """A stage whose secrets folder does not exist yet, watched under umask 0 (the worst a user may have):
    anything created without an explicit mode is then open to everyone."""
    folder = tmp_path / "data" / "secrets"
    monkeypatch.setattr(keyring, "_bundle", None)  # the session's bundle comes back after the test
    settings.override(secrets_dir=str(folder))
    seen: list[str] = []
    old_umask = os.umask(0)
    _watching.append((folder, seen))
    try:
        yield folder, seen
    finally:
        _watching.pop()
        os.umask(old_umask)


def test_the_secrets_file_is_never_readable_by_others_when_created_or_rewritten(client: Any, watched_secrets):
    folder, seen = watched_secrets

    # first use creates it (any request that needs a key)
    assert client.get("/.well-known/jwks.json").status_code == 200
    created = folder / keyring.FILE_NAME
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    # a key rotation (`python -m ops keys rotate`) rewrites it
    before = created.read_text()
    keyring.rotate_signing_key(clock.now())
    assert created.read_text() != before
    assert stat.S_IMODE(created.stat().st_mode) == 0o600

    assert seen == []
    assert sorted(p.name for p in folder.iterdir()) == [keyring.FILE_NAME]  # no temporary file left behind


def test_a_secrets_folder_left_open_by_an_older_run_is_closed(client: Any, watched_secrets):
    folder, seen = watched_secrets
    folder.mkdir(parents=True, mode=0o755)
    os.chmod(folder, 0o755)
    seen.clear()

    assert client.get("/.well-known/jwks.json").status_code == 200
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / keyring.FILE_NAME).stat().st_mode) == 0o600
