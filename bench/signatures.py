"""ES256 beside EdDSA (Ed25519) for the QR token, on this machine's OpenSSL: what it costs a checkpoint's
verification and the platform's signing, and how long the token comes out. Keys are parsed once, as the
key ring does; the claims are those of a real token."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench import stats


def _timed(step: Callable[[], Any], n: int) -> stats.Latency:
    for _ in range(n // 10):
        step()
    samples = []
    began = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter_ns()
        step()
        samples.append(time.perf_counter_ns() - t0)
    return stats.latency(samples, time.perf_counter() - began)


def run(claims: dict[str, Any], n: int = 2000) -> dict[str, dict[str, Any]]:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    keys: dict[str, Any] = {"ES256": ec.generate_private_key(ec.SECP256R1()),
                            "EdDSA": ed25519.Ed25519PrivateKey.generate()}
    out = {}
    headers = {"kid": "-r", "typ": None}  # as chalicelib/security/qr_tokens.py issues them
    for algorithm, key in keys.items():
        public = key.public_key()
        token = jwt.encode(claims, key, algorithm=algorithm, headers=headers)
        decoded = jwt.decode(token, public, algorithms=[algorithm], options={"verify_exp": False})
        assert decoded == claims
        # each lambda is timed before the loop moves on, so it sees this round's token, key and algorithm
        out[algorithm] = {
            "chars": len(token),
            "verify": _timed(lambda: jwt.decode(token, public, algorithms=[algorithm],  # noqa: B023
                                                options={"verify_exp": False}), n),
            "sign": _timed(lambda: jwt.encode(claims, key, algorithm=algorithm, headers=headers), n),  # noqa: B023
        }
    return out
