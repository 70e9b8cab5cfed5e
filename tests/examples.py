"""How many examples a property test generates: its own number, capped by HEALTHCODE_PROPERTY_EXAMPLES.

The cap is for runs that check where a test runs, not what it proves: tests/test_fast_tier.py runs the
whole fast tier again in a process of its own to see that it starts no Java and calls no AWS, and a few
examples per property show that as well as a thousand (the main session runs them all).
"""
from __future__ import annotations

import os


def examples(wanted: int) -> int:
    cap = os.environ.get("HEALTHCODE_PROPERTY_EXAMPLES")
    return min(wanted, int(cap)) if cap else wanted
