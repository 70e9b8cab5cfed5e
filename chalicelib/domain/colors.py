"""Colors and the reasons behind them.

A code's color is the most severe color among its *live* reasons: a reason
applies from `since` until `until` (exclusive; None means until a source lifts
it). Reasons are kept per source, so each source replaces only its own and a
color lapses when its window closes without anyone touching the record.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any


class Color(str, Enum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Color.GREEN: 0, Color.YELLOW: 1, Color.RED: 2}


@dataclass(frozen=True)
class Reason:
    source: str            # declaration, medical_status, local_code, trip, checkin, exposure, correction
    code: str              # stable machine code, e.g. declared_fever
    color: Color
    message: str           # plain Chinese a mini-program can show as is
    message_en: str
    since: int             # epoch seconds
    until: int | None      # epoch seconds, exclusive; None = until lifted
    # what the reason is about, naming whose it is to correct (domain/corrections.reviewing_province): the
    # GB/T 2260 area of a stay, check-in or declaration, the province (or "national") that set a status or
    # pushed a local code, the province that published an exposure
    ref: str | None = None

    def is_live(self, now: int) -> bool:
        return self.since <= now and (self.until is None or now < self.until)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["color"] = self.color.value
        if self.ref is None:
            del data["ref"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(source=data["source"], code=data["code"], color=Color(data["color"]),
                   message=data["message"], message_en=data.get("message_en", ""),
                   since=int(data["since"]), until=None if data.get("until") is None else int(data["until"]),
                   ref=data.get("ref"))


def most_severe(colors: Iterable[Color]) -> Color:
    return max(colors, key=lambda c: c.severity, default=Color.GREEN)


def live_reasons(reasons: Iterable[Reason], now: int) -> list[Reason]:
    """Live reasons, most severe first, then newest first."""
    live = [r for r in reasons if r.is_live(now)]
    return sorted(live, key=lambda r: (-r.color.severity, -r.since, r.code))


def live_color(reasons: Iterable[Reason], now: int) -> Color:
    return most_severe(r.color for r in reasons if r.is_live(now))


def next_change(reasons: Iterable[Reason], now: int) -> int | None:
    """The next moment a reason starts or ends: when the color may change on its own."""
    moments = [t for r in reasons for t in (r.since, r.until) if t is not None and t > now]
    return min(moments, default=None)


def reasons_from_sources(sources: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[Reason]:
    return [Reason.from_dict(r) for items in sources.values() for r in items]
