"""Approved corrections: a reviewer lifts or overrides a named source's reasons for a stated period."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.medical import NATIONAL

CORRECTABLE = ("declaration", "medical_status", "area", "exposure", "checkin", "local_code")
MAX_OPEN = 3


@dataclass(frozen=True)
class Override:
    correction_id: str
    source: str
    code: str | None          # one reason code of the source, or None for all of it
    approved_at: int
    until: int
    color: Color | None       # None lifts; a color replaces the lifted reasons
    ref: str | None = None    # only the reasons about this (an area, an issuer...): Reason.ref; None: any


def applies(override: Override, reason: Reason) -> bool:
    """A correction covers the reasons that existed when it was approved, not later ones, and only those about
    what it was filed about: one province's reviewer never lifts another province's reason."""
    return (reason.source == override.source and (override.code is None or reason.code == override.code)
            and (override.ref is None or reason.ref == override.ref) and reason.since <= override.approved_at)


def reviewing_province(reason: Reason, declared_area: str | None) -> str:
    """Whose it is to review a correction of a reason: the owner of its source (docs/corrections.md). A status
    by the province that set it (or `national`), a stay, check-in or declaration by the area's province, a
    local code by its province, an exposure by the publisher's. A reason stored before reasons named what
    they are about goes to the province of the area last declared, as every correction did before."""
    if reason.ref == NATIONAL:
        return NATIONAL
    if reason.ref and reason.ref[:2].isdigit():
        return reason.ref[:2]
    return (declared_area or "")[:2] or NATIONAL


def apply_overrides(sources: Mapping[str, Sequence[Reason]], overrides: Sequence[Override]
                    ) -> dict[str, list[Reason]]:
    """Reasons with overrides applied; lifted reasons come back when the period ends.

    A lifted reason is cut to end when the correction starts, and resumes after the
    correction's period if its own window is still open then.
    """
    result: dict[str, list[Reason]] = {}
    replacements: list[Reason] = []
    for source, reasons in sources.items():
        kept: list[Reason] = []
        for reason in reasons:
            covering = [o for o in overrides if applies(o, reason)]
            if not covering:
                kept.append(reason)
                continue
            start = min(o.approved_at for o in covering)
            end = max(o.until for o in covering)
            # the pieces keep the reason's ref: its owner still reviews a correction of what comes back
            if reason.since < start:
                kept.append(replace(reason, until=start))
            if reason.until is None or reason.until > end:
                kept.append(replace(reason, since=end))
        if kept:
            result[source] = kept
    for override in overrides:
        if override.color is not None:
            replacements.append(Reason("correction", f"corrected_{override.source}", override.color,
                                       "经核实更正后的结果", "The result after a verified correction",
                                       override.approved_at, override.until))
    if replacements:
        result["correction"] = replacements
    return result
