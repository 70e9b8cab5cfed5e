"""The one place that turns every source the platform knows into reasons, grouped by source.

Pure: the service layer gathers the inputs from storage, calls `assess`, and
stores the result; the color is always `colors.live_color` of these reasons.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chalicelib.domain import days
from chalicelib.domain.areas import LevelPeriod, Visit, visit_reasons
from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.corrections import Override, apply_overrides
from chalicelib.domain.declaration import FEVER_CELSIUS, Declaration, Symptom, declaration_reasons
from chalicelib.domain.exposures import Exposure, Trip, exposure_reasons
from chalicelib.domain.lab_results import SOURCE as TEST, HealthSummary, LabResult, positive_reasons, summary
from chalicelib.domain.local_codes import LocalCode, local_code_reasons
from chalicelib.domain.medical import MedicalStatus, StatusEntry, effective_status, medical_reasons
from chalicelib.domain.stays import SOURCE as AREA, StayFacts, encode_stays
from chalicelib.domain.venues import VenueExposure, VenueVisit, venue_exposure_reasons

SOURCES = ("declaration", "medical_status", "area", "exposure", "checkin", "local_code", "test", "correction")


@dataclass(frozen=True)
class CheckIn:
    day: dt.date
    area: str
    temperature: float
    symptoms: tuple[str, ...]
    at: int

    @property
    def fever(self) -> bool:
        return self.temperature >= FEVER_CELSIUS or Symptom.FEVER.value in self.symptoms


@dataclass(frozen=True)
class RiskInputs:
    declaration: Declaration | None = None
    declared_at: int | None = None
    medical_status: MedicalStatus | None = None   # a national-level authority's status (issuer "national")
    medical_since: int = 0
    statuses: Sequence[StatusEntry] = ()    # by issuer: provinces' health authorities and review institutions
    local_codes: Sequence[LocalCode] = ()
    visits: Sequence[Visit] = ()
    levels: Mapping[str, Sequence[LevelPeriod]] = field(default_factory=dict)
    trips: Sequence[Trip] = ()
    exposures: Sequence[Exposure] = ()
    checkins: Sequence[CheckIn] = ()
    venue_visits: Sequence[VenueVisit] = ()                               # scans of venue codes (issue 18)
    venue_exposures: Sequence[VenueExposure] = ()                         # published for the venues visited
    overrides: Sequence[Override] = ()                                    # approved corrections
    lab_results: Sequence[LabResult] = ()                                 # nucleic-acid test results
    doses: Sequence[int] = ()                                             # the dose numbers of vaccinations
    extra: Mapping[str, Sequence[Reason]] = field(default_factory=dict)   # sources assessed elsewhere


def checkin_reasons(checkins: Sequence[CheckIn], now: int) -> list[Reason]:
    """The latest check-in reporting fever makes the code yellow until the day after next."""
    recent = [c for c in checkins if c.day >= days.window_start(now)]
    if not recent:
        return []
    latest = max(recent, key=lambda c: c.day)
    if not latest.fever:
        return []
    return [Reason("checkin", "checkin_fever", Color.YELLOW, f"{latest.day.isoformat()} 健康打卡报告发热",
                   f"Daily check-in on {latest.day.isoformat()} reported fever", latest.at,
                   days.lapses_at(latest.day, 1), latest.area)]


def fever_until(inputs: RiskInputs) -> int | None:
    """Until when (exclusive) fever counts for the area rule: 14 days after a declaration that reported it,
    and while a check-in that reported it is inside the window. None: no fever reported."""
    moments = [days.lapses_at(c.day) for c in inputs.checkins if c.fever]
    declaration = inputs.declaration
    if declaration is not None and inputs.declared_at is not None and (
            declaration.temperature >= FEVER_CELSIUS or Symptom.FEVER in declaration.symptoms):
        moments.append(inputs.declared_at + days.WINDOW_DAYS * days.DAY)
    return max(moments, default=None)


def has_fever(inputs: RiskInputs, now: int) -> bool:
    until = fever_until(inputs)
    return until is not None and now < until


def stay_facts(inputs: RiskInputs, now: int) -> StayFacts:
    """What a stored code keeps so that reads judge its stays against the levels in force (domain/stays.py)."""
    return StayFacts(encode_stays(inputs.visits, now), fever_until(inputs),
                     tuple(o for o in inputs.overrides if o.source == AREA))


def medical_entry(inputs: RiskInputs, now: int) -> StatusEntry | None:
    national = [StatusEntry(inputs.medical_status, inputs.medical_since)] if inputs.medical_status else []
    return effective_status([*national, *inputs.statuses], now)


def health_summary(inputs: RiskInputs, now: int) -> HealthSummary:
    """What a code carries for checkpoints' entry rules (domain/lab_results.py)."""
    return summary(inputs.lab_results, inputs.doses, now)


def assess(inputs: RiskInputs, now: int) -> dict[str, list[Reason]]:
    medical = medical_entry(inputs, now)
    national = [StatusEntry(inputs.medical_status, inputs.medical_since)] if inputs.medical_status else []
    sources: dict[str, list[Reason]] = {
        "declaration": (declaration_reasons(inputs.declaration, inputs.declared_at)
                        if inputs.declaration is not None and inputs.declared_at is not None else []),
        "medical_status": (medical_reasons(medical.status, medical.at, medical.valid_until, medical.source)
                           if medical else []),
        "local_code": local_code_reasons(inputs.local_codes, now),
        "area": visit_reasons(inputs.visits, inputs.levels, has_fever(inputs, now), now),
        "exposure": (exposure_reasons(inputs.trips, inputs.exposures)
                     + venue_exposure_reasons(inputs.venue_visits, inputs.venue_exposures)),
        "checkin": checkin_reasons(inputs.checkins, now),
        TEST: positive_reasons(inputs.lab_results, [*national, *inputs.statuses], now),
    }
    for source, reasons in inputs.extra.items():
        sources[source] = list(reasons)
    sources = {source: reasons for source, reasons in sources.items() if reasons}
    return apply_overrides(sources, inputs.overrides) if inputs.overrides else sources
