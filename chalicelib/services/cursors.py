"""Opaque pagination cursors: the last key of a page, bound to the list it came from.

A cursor comes back from the client, so it may hold any key at all: one that does not fit the list's key
shape (store/pages.py; each store module states its own) is refused as one this endpoint never gave
(422, field `cursor`), before DynamoDB could answer it with a ValidationException (a 500).
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import cast

from chalicelib.errors import ValidationFailed
from chalicelib.store.pages import Key, KeyShape


def encode(key: Key | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode() if key else None


def decode(cursor: str | None, shape: KeyShape) -> Key | None:
    """The start key of the list's next page, or None for its first; refuses a cursor from another list (or
    person), or one holding a key of any other shape."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not shape.fits(key):
        raise ValidationFailed("The cursor is not one this endpoint gave you.",
                               [{"field": "cursor", "message": "invalid cursor", "type": "cursor"}])
    return cast(Key, key)    # shape.fits checked it
