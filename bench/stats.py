"""Latency figures from a list of per-request timings (nanoseconds)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    n: int
    wall_s: float          # wall time of the loop(s) that produced the samples
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def per_second(self) -> float:
        return self.n / self.wall_s if self.wall_s else float("nan")

    def row(self) -> str:
        return (f"{self.per_second:8.0f}/s  p50 {self.p50_ms:7.3f} ms  p90 {self.p90_ms:7.3f} ms  "
                f"p99 {self.p99_ms:7.3f} ms  mean {self.mean_ms:7.3f} ms  max {self.max_ms:7.2f} ms  (n={self.n})")


def latency(samples_ns: list[int], wall_s: float) -> Latency:
    ms = [s / 1e6 for s in samples_ns]
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return Latency(len(ms), wall_s, statistics.fmean(ms), q[49], q[89], q[98], max(ms))


def median(values: list[float]) -> float:
    return statistics.median(values)
