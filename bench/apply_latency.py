"""Apply again (POST /v1/codes) with a stand-in for AWS's network: every DynamoDB call waits
`delay_ms` before it is sent (a botocore `before-send` hook that sleeps; the sleep releases the GIL
as a socket wait does). DynamoDB Local on loopback answers in under a millisecond, so without it
reading sources at once or one after another makes little difference here, while in AWS each call
waits a few milliseconds on the network.

The sources read one after another (as before the third pass of issue 9) and seven chains at once
(`assessment.gather` now) alternate, request by request, over the same citizens.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench import stats
from bench.stack import DECLARATION, dump

HOOK_ID = "bench-network-delay"


def _one_after_another(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    return {name: job() for name, job in jobs.items()}


def run(http: Any, citizens: list[Any], delay_ms: float = 5.0, n: int = 40) -> dict[str, stats.Latency]:
    from chalicelib.services import assessment
    from chalicelib.store import dynamo

    client = dynamo.client()

    def network(**_: Any) -> None:
        time.sleep(delay_ms / 1000)

    kinds = {"one after another": _one_after_another, "at once": assessment._together}
    samples: dict[str, list[int]] = {k: [] for k in kinds}
    walls = dict.fromkeys(kinds, 0.0)
    body = dump(DECLARATION)
    client.meta.events.register("before-send.dynamodb.*", network, unique_id=HOOK_ID)
    try:
        for i in range(n):
            citizen = citizens[i % len(citizens)]
            for name, together in kinds.items():
                assessment._together = together
                t0 = time.perf_counter_ns()
                response = http.post("/v1/codes", headers=citizen.headers, body=body)
                elapsed = time.perf_counter_ns() - t0
                if response.status_code not in (200, 201):
                    raise RuntimeError(f"POST /v1/codes: {response.status_code} {response.body[:200]!r}")
                samples[name].append(elapsed)
                walls[name] += elapsed / 1e9
    finally:
        assessment._together = kinds["at once"]
        client.meta.events.unregister("before-send.dynamodb.*", unique_id=HOOK_ID)
    return {name: stats.latency(samples[name], walls[name]) for name in kinds}
