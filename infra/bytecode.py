"""Compiled bytecode inside the Lambda bundle.

`chalice package` zips sources only (its dependencies come from wheels, which hold no .pyc), and Lambda's
code directory is read-only, so without this every cold start compiles every module it imports: for the
verify function about 450 ms more than with bytecode (docs/BENCHMARKS.md). Each .py gets an
`__pycache__/<name>.cpython-3XY.pyc` in unchecked-hash form (PEP 552): Python loads it without looking at
the source's timestamp, which in an unzipped bundle says nothing. Built by the interpreter of the
functions' runtime version, which `bundle_runtime_matches` insists on.
"""
from __future__ import annotations

import compileall
import importlib.util
import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

LAMBDA_TASK_ROOT = "/var/task"   # where Lambda unpacks the bundle: the paths tracebacks will show
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # as chalice writes its entries: the bundle's bytes depend on its content only
UNCHECKED_HASH_FLAGS = 0b01     # PEP 552: hash-based, not checked against the source


def runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def pyc_name(source: str) -> str:
    """`pkg/mod.py` -> `pkg/__pycache__/mod.cpython-311.pyc`, for this interpreter."""
    return importlib.util.cache_from_source(source)


def compile_bundle(bundle: Path) -> int:
    """Add unchecked-hash bytecode for every module of the zip, rewriting it in place; returns how many."""
    with tempfile.TemporaryDirectory(prefix="healthcode-bytecode-") as tmp:
        root = Path(tmp) / "task"
        with zipfile.ZipFile(bundle) as archive:
            entries = [(info, archive.read(info)) for info in archive.infolist()]
            archive.extractall(root)
        compileall.compile_dir(str(root), ddir=LAMBDA_TASK_ROOT, quiet=2, workers=0,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        names = {info.filename for info, _ in entries}
        added = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.pyc")
                       if p.relative_to(root).as_posix() not in names)
        rewritten = bundle.with_suffix(".tmp")
        with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as out:
            for info, data in entries:
                out.writestr(info, data)
            for name in added:
                info = zipfile.ZipInfo(name, FIXED_DATE)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, (root / name).read_bytes())
        shutil.move(rewritten, bundle)
    return len(added)


def missing_bytecode(bundle: Path) -> list[str]:
    """Sources of the bundle without current unchecked-hash bytecode for this interpreter."""
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        missing = []
        for source in sorted(n for n in names if n.endswith(".py")):
            pyc = pyc_name(source)
            if pyc not in names:
                missing.append(source)
                continue
            header = archive.read(pyc)[:16]
            flags = int.from_bytes(header[4:8], "little")
            if header[:4] != importlib.util.MAGIC_NUMBER or flags != UNCHECKED_HASH_FLAGS:
                missing.append(source)
    return missing
