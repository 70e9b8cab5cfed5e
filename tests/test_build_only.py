"""The Lambda bundle leaves out what only builds other packages (infra/build_only.py, run by `make package`):
cffi and pycparser go, with their metadata; the C module `_cffi_backend` that cryptography loads stays."""
from __future__ import annotations

import zipfile

from infra import build_only


def test_build_only_packages_are_dropped_and_the_native_module_cryptography_loads_is_kept(tmp_path):
    bundle = tmp_path / "deployment.zip"
    dropped = ["cffi/__init__.py", "cffi/api.py", "cffi-2.1.1.dist-info/METADATA", "pycparser/c_parser.py",
               "pycparser-3.12.dist-info/RECORD", "pydantic/v1/main.py", "pydantic/v1/__pycache__/main.cpython-311.pyc",
               "pydantic/mypy.py", "pydantic/__pycache__/mypy.cpython-311.pyc"]
    kept = ["_cffi_backend.cpython-311-x86_64-linux-gnu.so", "cffish/__init__.py",
            "cryptography/hazmat/bindings/_rust.abi3.so", "chalicelib/cffi.txt", "app.py", "pydantic/main.py",
            "pydantic/__pycache__/main.cpython-311.pyc", "pydantic/validators.py"]
    with zipfile.ZipFile(bundle, "w") as archive:
        for name in dropped + kept:
            archive.writestr(name, name)
    assert build_only.left(bundle) == dropped
    assert build_only.drop(bundle) == len(dropped)
    assert build_only.left(bundle) == []
    with zipfile.ZipFile(bundle) as archive:
        assert archive.namelist() == kept
        assert archive.read("app.py") == b"app.py"
