"""Opaque pagination cursors: the last key of a page, bound to the list it came from.

A cursor comes back from the client, so it may hold any key at all. DynamoDB answers a start key it cannot
use (an empty or over-long attribute, a sort key outside the query's key condition) with a
ValidationException, which would be a 500: so each list states the shape of every key attribute it gives
out, and a cursor holding anything else is refused as one this endpoint never gave (422, field `cursor`).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from chalicelib.errors import ValidationFailed


def encode(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode() if key else None


def _refused() -> ValidationFailed:
    return ValidationFailed("The cursor is not one this endpoint gave you.",
                            [{"field": "cursor", "message": "invalid cursor", "type": "cursor"}])


def _key(cursor: str, attribute: str, expected: str, shapes: Mapping[str, re.Pattern[str]]) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if (not isinstance(key, dict) or key.get(attribute) != expected or set(key) != {attribute, *shapes}
            or not all(isinstance(v, str) for v in key.values())
            or not all(shape.fullmatch(key[name]) for name, shape in shapes.items())):
        raise _refused()
    return key


def decode(cursor: str | None, partition: str, sort: re.Pattern[str]) -> dict[str, Any] | None:
    """The start key of a table query's next page; refuses a cursor from another list (or person), or one
    whose sort key is not of the shape `sort` this list gives out."""
    return _key(cursor, "pk", partition, {"sk": sort}) if cursor else None


def decode_index(cursor: str | None, attribute: str, expected: str, shapes: Mapping[str, re.Pattern[str]]
                 ) -> dict[str, Any] | None:
    """Like `decode`, for an index query: the key must belong to the same index partition (`attribute` =
    `expected`), and each of its other attributes (the table's and the index's keys) be of its shape."""
    return _key(cursor, attribute, expected, shapes) if cursor else None
