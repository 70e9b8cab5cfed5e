"""The shapes of the identifiers the platform issues, so that anything else is refused before it reaches
DynamoDB as a key.

DynamoDB refuses a partition key over 2,048 bytes, a sort key over 1,024, and an empty key attribute, with
a ValidationException that would surface as a 500. An id the platform minted has one shape; a string of
any other shape names nothing, so a route answers it as unknown (404) without looking it up.
"""
from __future__ import annotations

import re

WEBHOOK_ID = re.compile(r"wh_[0-9a-f]{16}")                # services/webhooks.py create
CORRECTION_ID = re.compile(r"cor_[0-9a-f]{16}")            # services/corrections.py file
EVENT_ID = re.compile(r"evt_[0-9]{13}[0-9a-f]{10}")        # store/events.py new_id: also every delivery's id
VENUE_ID = re.compile(r"ven_[0-9a-f]{12}")                 # services/venues.py register
PROVINCE = re.compile(r"[0-9]{2}")                         # GB/T 2260 province code
CODE_ID = re.compile(r"[A-Za-z0-9_\-]{15}")                 # security/pseudonyms.code_id: dependants, guardians
LOCAL_ID = re.compile(r"[A-Za-z0-9_\-.:]{1,64}")           # a province's local code ids (a province token's sub)
CHECKPOINT_ID = re.compile(r"ch_[0-9a-f]{16}")             # services/sessions.py create_client, role checkpoint


def is_webhook_id(value: str) -> bool:
    return WEBHOOK_ID.fullmatch(value) is not None


def is_correction_id(value: str) -> bool:
    return CORRECTION_ID.fullmatch(value) is not None


def is_event_id(value: str) -> bool:
    return EVENT_ID.fullmatch(value) is not None


def is_code_id(value: str) -> bool:
    return CODE_ID.fullmatch(value) is not None


def is_province(value: str) -> bool:
    return PROVINCE.fullmatch(value) is not None


def is_local_id(value: str) -> bool:
    return LOCAL_ID.fullmatch(value) is not None


def is_checkpoint_id(value: str) -> bool:
    return CHECKPOINT_ID.fullmatch(value) is not None
