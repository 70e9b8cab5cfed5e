"""The Lambda bundle carries bytecode (infra/bytecode.py, run by `make package`): unchecked-hash .pyc files
that Python loads from a read-only directory without compiling, whatever the sources' timestamps say."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

from infra import bytecode


def make_bundle(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("app.py", bytecode.FIXED_DATE), "from pkg import answer\nVALUE = answer()\n")
        archive.writestr(zipfile.ZipInfo("pkg/__init__.py", bytecode.FIXED_DATE), "def answer():\n    return 42\n")
        archive.writestr(zipfile.ZipInfo("pkg/data.json", bytecode.FIXED_DATE), "{}")


def unpack_read_only(bundle: Path, into: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(into)
    for path in sorted(into.rglob("*"), reverse=True):
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    into.chmod(into.stat().st_mode & ~stat.S_IWUSR)


def test_every_module_gets_unchecked_hash_bytecode_and_the_rest_is_kept(tmp_path):
    bundle = tmp_path / "deployment.zip"
    make_bundle(bundle)
    assert bytecode.missing_bytecode(bundle) == ["app.py", "pkg/__init__.py"]
    assert bytecode.compile_bundle(bundle) == 2
    assert bytecode.missing_bytecode(bundle) == []
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {"app.py", "pkg/__init__.py", "pkg/data.json"} <= set(names)
        assert bytecode.pyc_name("app.py") in names and all(archive.getinfo(n).date_time == bytecode.FIXED_DATE
                                                          for n in names if n.endswith(".pyc"))


def test_a_read_only_unpacked_bundle_runs_from_its_bytecode(tmp_path):
    bundle = tmp_path / "deployment.zip"
    make_bundle(bundle)
    bytecode.compile_bundle(bundle)
    task = tmp_path / "task"
    unpack_read_only(bundle, task)
    # change a source after compiling: an unchecked-hash .pyc is still what runs, so the bytecode is used
    (task / "pkg" / "__init__.py").chmod(0o644)
    (task / "pkg" / "__init__.py").write_text("def answer():\n    return 0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run([sys.executable, "-c", "import app; print(app.VALUE, app.__cached__)"], cwd=task,
                          env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    value, cached = done.stdout.split()
    assert value == "42" and cached.endswith(bytecode.pyc_name("app.py").split("/")[-1])
    task.chmod(0o755)
