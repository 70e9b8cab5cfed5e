"""The health summary a code carries for checkpoints' entry rules (docs/tests-and-vaccinations.md).

Apart from the rules of domain/lab_results.py: every code the verify path reads carries one, and a cold verify
container loads those rules only when a checkpoint's token carries a rule (docs/BENCHMARKS.md, the cold start).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HealthSummary:
    """The compact facts a code carries for entry rules: the sample time of the latest negative result and the
    number of vaccine doses. No dates of doses, no institutions, no other results."""
    negative_at: int | None = None
    doses: int = 0
