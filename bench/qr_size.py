"""How long a real QR token is and which QR symbol it needs at error correction M (what checkpoints scan)."""
from __future__ import annotations

from typing import Any


def _capacity(version: int, probe: str) -> int:
    """Most characters like `probe`'s (byte mode) that still fit `version` at level M."""
    import segno

    n = 1
    while True:
        try:
            segno.make_qr(probe * (n + 1), error="m", version=version, boost_error=False)
        except segno.DataOverflowError:
            return n
        n += 1


def run(tokens: list[str]) -> dict[str, Any]:
    import jwt

    from chalicelib.services import qr_images

    token = tokens[0]
    qr = qr_images.symbol(token)
    width, _ = qr.symbol_size(border=0)
    capacity = _capacity(qr.version, "a")
    header = jwt.get_unverified_header(token)
    return {
        "token_chars": len(token),
        "token_lengths": sorted({len(t) for t in tokens}),
        "token_parts": [len(p) for p in token.split(".")],
        "header": header,
        "version": qr.version,
        "error": qr.error,
        "designator": qr.designator,
        "mode": qr.mode,
        "modules": width,
        "capacity_bytes": capacity,
        "spare_bytes": capacity - len(token.encode()),
    }
