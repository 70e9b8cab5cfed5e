"""The one error shape every refusal has: {"error": {"code", "message", "details"}}."""
from __future__ import annotations

from typing import Any


def assert_refused(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert `response` is a refusal with `status` (and `code`) in our shape; return its error object."""
    assert response.status_code == status, (response.status_code, response.body[:500])
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json_body
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], list), error
    if code is not None:
        assert error["code"] == code, error
    return error


def fields(error: dict[str, Any]) -> set[str]:
    """The fields a validation refusal names."""
    return {detail["field"] for detail in error["details"]}
