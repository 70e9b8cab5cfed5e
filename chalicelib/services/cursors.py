"""Opaque pagination cursors: the last key of a page, bound to the list it came from."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.errors import ValidationFailed


def encode(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode() if key else None


def _key(cursor: str, attribute: str, expected: str, attributes: tuple[str, ...]) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if (not isinstance(key, dict) or key.get(attribute) != expected or set(key) != set(attributes)
            or not all(isinstance(v, str) for v in key.values())):
        raise ValidationFailed("The cursor is not one this endpoint gave you.",
                               [{"field": "cursor", "message": "invalid cursor", "type": "cursor"}])
    return key


def decode(cursor: str | None, partition: str) -> dict[str, Any] | None:
    """The start key of a table query's next page; refuses a cursor from another list (or person)."""
    return _key(cursor, "pk", partition, ("pk", "sk")) if cursor else None


def decode_index(cursor: str | None, attribute: str, expected: str, attributes: tuple[str, ...]
                 ) -> dict[str, Any] | None:
    """Like `decode`, for an index query: the key must belong to the same index partition."""
    return _key(cursor, attribute, expected, attributes) if cursor else None
