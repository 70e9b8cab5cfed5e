"""Personal names and phone numbers: validated at the edge, stored and shown masked."""
from __future__ import annotations

import re

_NAME = re.compile(r"^[\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z·•. \-]{0,48}[\u3400-\u9fffA-Za-z]?$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")


def is_valid_name(name: str) -> bool:
    return bool(_NAME.match(name.strip()))


def is_valid_phone(phone: str) -> bool:
    return bool(_PHONE.match(phone))


def mask_name(name: str) -> str:
    """张三 -> *三, 王小明 -> 王*明: enough for staff to match a face, not to identify."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return "*" + name[-1]
    return name[0] + "*" * (len(name) - 2) + name[-1]
