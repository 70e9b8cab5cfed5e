"""Health authorities set a person's medical status, identified by ID number in the body, audited."""
from __future__ import annotations

import secrets as random
from typing import Any

from chalicelib import clock
from chalicelib.domain.medical import MedicalStatus
from chalicelib.errors import Conflict
from chalicelib.security import pseudonyms
from chalicelib.security.access import Principal
from chalicelib.services import assessment
from chalicelib.store import dynamo, events, medical


def set_status(principal: Principal, id_number: str, status: MedicalStatus, note: str | None) -> dict[str, Any]:
    now = clock.now()
    person = pseudonyms.person_ref(id_number)
    for _ in range(5):
        current = medical.current(person)
        record = {"pk": person, "sk": medical.CURRENT, "status": status.value, "since": now,
                  "set_by": principal.subject, "province": principal.province, "updated_at": now,
                  "version": (current["version"] + 1) if current else 1}
        history = {"pk": person, "sk": f"H#{now:010d}#{random.token_hex(4)}", "status": status.value,
                   "previous": current["status"] if current else None, "set_by": principal.subject,
                   "province": principal.province, "note": note, "at": now}
        event = events.put_op("health_status.changed", {"status": status.value}, now, subject=person)
        try:
            medical.set_status(record, history, current["version"] if current else None, event)
            break
        except dynamo.ConditionFailed:
            continue
    else:
        raise Conflict("The status is being changed by another request; try again.", code="concurrent_update")
    # recompute now so the authority sees the effect; the event handler repeats it if we crash here
    code, _ = assessment.refresh(person, now, "medical_status", actor=principal.subject)
    return {"status": status.value, "since": now, "id_last4": id_number[-4:],
            "has_code": code is not None, "color": code["color"] if code else None}
