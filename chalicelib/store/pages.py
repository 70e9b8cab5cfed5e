"""Paged lists: the key a page ends at, and the keys a list accepts back to start its next page.

A list's last key goes out to the client as an opaque cursor (services/cursors.py) and may come back as
anything at all. DynamoDB answers a start key it cannot use (an empty or over-long attribute, a sort key
outside the query's key condition) with a ValidationException, so each list names the shape of every key
it gives out (`KeyShape`), and its module, which owns the key layout, is the one that says it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Key = dict[str, Any]   # a page's last key: opaque outside the store


@dataclass(frozen=True)
class KeyShape:
    """The start keys one list accepts: those of its own partition (`attribute` = `value`: the person, the
    subscription, the queue), each other attribute a string of its form."""
    attribute: str
    value: str
    others: Mapping[str, re.Pattern[str]]

    def fits(self, key: object) -> bool:
        return (isinstance(key, dict) and key.get(self.attribute) == self.value
                and set(key) == {self.attribute, *self.others}
                and all(isinstance(v, str) for v in key.values())
                and all(shape.fullmatch(key[name]) is not None for name, shape in self.others.items()))
