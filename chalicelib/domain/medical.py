"""A person's medical status, set by health authorities, and the color it imposes."""
from __future__ import annotations

from enum import Enum

from chalicelib.domain.colors import Color, Reason


class MedicalStatus(str, Enum):
    CONFIRMED = "confirmed"
    SUSPECTED = "suspected"
    CLOSE_CONTACT = "close_contact"
    UNDER_OBSERVATION = "under_observation"
    RECOVERED = "recovered"
    CLEARED = "cleared"


_RULES: dict[MedicalStatus, tuple[Color, str, str]] = {
    MedicalStatus.CONFIRMED: (Color.RED, "卫生健康部门确认为确诊病例", "Confirmed case (health authority)"),
    MedicalStatus.SUSPECTED: (Color.RED, "卫生健康部门确认为疑似病例", "Suspected case (health authority)"),
    MedicalStatus.CLOSE_CONTACT: (Color.RED, "卫生健康部门确认为密切接触者", "Close contact (health authority)"),
    MedicalStatus.UNDER_OBSERVATION: (Color.YELLOW, "正在接受医学观察", "Under medical observation"),
}


def medical_reasons(status: MedicalStatus | None, since: int) -> list[Reason]:
    """Red or yellow until a later status (recovered, cleared) lifts it."""
    if status is None or status not in _RULES:
        return []
    color, zh, en = _RULES[status]
    return [Reason("medical_status", f"medical_{status.value}", color, zh, en, since, None)]
