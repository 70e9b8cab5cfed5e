"""What the Lambda bundle leaves out, and the proof that it runs without it.

`chalice package` installs every dependency of requirements.txt with its own dependencies, including those a
package needs only to be built: cryptography declares cffi, and cffi pycparser, but cryptography's wheel is
built already. At run time its Rust extension loads the C module `_cffi_backend` (which stays, a top-level file
of the cffi wheel), never the `cffi` Python package or pycparser: together 0.47 MB of the zipped bundle
(docs/BENCHMARKS.md). Nor does the platform import pydantic's 1.x compatibility package or its mypy plugin
(UNUSED). Leaving them out keeps the bundle under its 10 MB budget (infra/package.py).
"""
from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# Python packages the bundle's wheels need only when they are built: dropped with their .dist-info
BUILD_ONLY = ("cffi", "pycparser")
# Parts of a package the platform never imports: pydantic's copy of its whole 1.x API (`pydantic.v1`, for code
# not yet ported; 0.39 MB zipped with its bytecode) and its mypy plugin (loaded by mypy, never at run time)
UNUSED = ("pydantic/v1/", "pydantic/mypy.py", "pydantic/__pycache__/mypy.")
UNUSED_MODULES = ("pydantic.v1", "pydantic.mypy")

# Run with nothing but the unpacked bundle on sys.path: what loads the native code (ES256 as QR tokens are signed,
# EdDSA as provinces may sign theirs), and neither build-only package may be loaded by it.
SMOKE = r"""
import sys
sys.path.insert(0, sys.argv[1])
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
for key, algorithm in ((ec.generate_private_key(ec.SECP256R1()), "ES256"),
                       (ed25519.Ed25519PrivateKey.generate(), "EdDSA")):
    token = jwt.encode({"sub": "x"}, key, algorithm=algorithm)
    assert jwt.decode(token, key.public_key(), algorithms=[algorithm]) == {"sub": "x"}
import pydantic, segno
class Probe(pydantic.BaseModel):
    n: int
assert Probe.model_validate({"n": 1}).n == 1 and Probe.model_json_schema()["required"] == ["n"]
loaded = sorted(m for m in sys.modules if any(m == gone or m.startswith(gone + ".") for gone in sys.argv[2:]))
assert not loaded, f"loaded {loaded}"
"""


def _build_only(name: str) -> bool:
    top = name.split("/", 1)[0]
    return any(top == package or re.fullmatch(re.escape(package) + r"-[^/]+\.dist-info", top)
               for package in BUILD_ONLY) or name.startswith(UNUSED)


def drop(bundle: Path) -> int:
    """Rewrite the zip without BUILD_ONLY's files; returns how many were dropped."""
    rewritten = bundle.with_suffix(".tmp")
    dropped = 0
    with zipfile.ZipFile(bundle) as archive, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as out:
        for info in archive.infolist():
            if _build_only(info.filename):
                dropped += 1
            else:
                out.writestr(info, archive.read(info))
    shutil.move(rewritten, bundle)
    return dropped


def left(bundle: Path) -> list[str]:
    with zipfile.ZipFile(bundle) as archive:
        return [name for name in archive.namelist() if _build_only(name)]


def runs_here() -> bool:
    """Whether this machine can load the bundle's native code: Lambda's x86_64 Linux (its wheels), and the
    Python the bundle's bytecode is for (infra/bytecode.py checks that one)."""
    return platform.system() == "Linux" and platform.machine() == "x86_64"


def smoke_problems(bundle: Path) -> list[str]:
    """Signs and verifies with the unpacked bundle alone, in a fresh interpreter that sees no site-packages."""
    with tempfile.TemporaryDirectory(prefix="healthcode-bundle-") as tmp:
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(tmp)
        done = subprocess.run([sys.executable, "-I", "-S", "-c", SMOKE, tmp, *BUILD_ONLY, *UNUSED_MODULES],
                              capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        return [f"the bundle does not sign and verify on its own: {done.stderr.strip()[-600:]}"]
    return []
