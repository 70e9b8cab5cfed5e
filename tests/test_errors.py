"""One registry of error codes (chalicelib/errors.py): docs/errors.md is generated from it, and nothing answers a
code that is not in it."""
from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from chalicelib import errors
from chalicelib.api import http

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "errors.md"


def test_docs_errors_md_is_generated_from_the_registry() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    assert errors.rewrite(text) == text, \
        "docs/errors.md differs from chalicelib/errors.py; regenerate it: .venv/bin/python -m chalicelib.errors"


def test_each_status_and_code_is_registered_once() -> None:
    for entries in (errors.CATALOGUE, errors.GATEWAY):
        pairs = [(e.status, e.code) for e in entries]
        assert len(pairs) == len(set(pairs)), pairs
        assert all(e.code and e.code == e.code.lower() and " " not in e.code for e in entries)


def _subclasses(cls: type[errors.ApiError]) -> Iterator[type[errors.ApiError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_exception_class_answers_a_registered_code() -> None:
    classes: list[type[errors.ApiError]] = [errors.ApiError, *_subclasses(errors.ApiError)]
    for cls in classes:
        assert cls.default in errors.CATALOGUE, cls
        assert (cls.status, cls.code) == (cls.default.status, cls.default.code), cls


def _modules() -> Iterator[tuple[Path, Any]]:
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        yield path, importlib.import_module(name.removesuffix(".__init__"))


def _resolve(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, names)
        try:
            return getattr(owner, node.attr, None) if owner is not None else None
        except RuntimeError:  # a blueprint's current_request, outside a request
            return None
    return None


class Raised(NamedTuple):
    where: str
    cls: type[errors.ApiError]
    code: str | None        # None: named neither as a literal nor as a registry entry
    literal: bool


def raised_codes() -> list[Raised]:
    """Every refusal the platform's code constructs: each call of an ApiError class, with the code it names."""
    found = []
    for path, module in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            cls = _resolve(node.func, vars(module))
            if not (isinstance(cls, type) and issubclass(cls, errors.ApiError)):
                continue
            named = next((k.value for k in node.keywords if k.arg == "code"), None)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if named is None:
                found.append(Raised(where, cls, cls.code, False))
            elif isinstance(named, ast.Constant) and isinstance(named.value, str):
                found.append(Raised(where, cls, named.value, True))
            elif isinstance(entry := _resolve(named, vars(module)), errors.ErrorCode):
                assert entry.status == cls.status, f"{where}: {cls.__name__} ({cls.status}) with {entry.code}, " \
                                                   f"a {entry.status}"
                found.append(Raised(where, cls, entry.code, False))
            else:
                found.append(Raised(where, cls, None, False))
    return found


def test_the_platform_raises_only_registered_codes() -> None:
    raised = raised_codes()
    assert len(raised) >= 40, raised   # the scan sees the services, security and the API alike
    unknown = [f"{r.where}: {r.cls.__name__} {r.cls.status} {r.code or '(a code neither literal nor registered)'}"
               for r in raised if r.code is None or not errors.registered(r.cls.status, r.code)]
    assert not unknown, "register these in chalicelib/errors.py (and regenerate docs/errors.md):\n" + "\n".join(unknown)


def test_the_api_layer_names_registry_entries_not_strings() -> None:
    """Services still pass literals, which the test above holds to the registry; the API layer names entries."""
    literal = [r.where for r in raised_codes() if r.literal and r.where.startswith("chalicelib/api/")]
    assert not literal, literal


@pytest.mark.parametrize("chalice_error, status", [("MethodNotAllowedError", 405), ("UnsupportedMediaType", 415),
                                                   ("BadRequest", 400), ("InternalServerError", 500),
                                                   ("NotFoundError", 404)])
def test_chalices_own_refusals_become_registered_codes(chalice_error: str, status: int) -> None:
    assert errors.registered(status, http.CHALICE_CODES[chalice_error].code)
    assert http.CHALICE_CODES[chalice_error].status == status


def test_api_gateways_own_answers_are_registered() -> None:
    from infra import package

    gateway = {(e.status, e.code) for e in errors.GATEWAY}
    answered = set()
    for kind, (status, code, _) in package.GATEWAY_RESPONSES.items():
        if status is None:   # DEFAULT_4XX / DEFAULT_5XX: the status of API Gateway's own error
            assert code in {e.code for e in (*errors.CATALOGUE, *errors.GATEWAY)}, kind
        else:
            answered.add((status, code))
    assert answered == gateway
