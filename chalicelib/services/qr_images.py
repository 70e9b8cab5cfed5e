"""QR images of a token, drawn in the code's color (segno: pure Python, SVG and PNG without Pillow)."""
from __future__ import annotations

import io

import segno

INK = {"green": "#0a7d32", "yellow": "#b88600", "red": "#c62828"}


def symbol(token: str) -> segno.QRCode:
    # byte mode at error correction M, the level scanners at checkpoints expect
    return segno.make_qr(token, error="m", boost_error=False)


def render(token: str, color: str, fmt: str) -> tuple[bytes | str, str]:
    qr = symbol(token)
    buffer = io.BytesIO()
    if fmt == "svg":
        qr.save(buffer, kind="svg", scale=6, border=4, dark=INK[color], xmldecl=False)
        return buffer.getvalue().decode(), "image/svg+xml"
    qr.save(buffer, kind="png", scale=6, border=4, dark=INK[color])
    return buffer.getvalue(), "image/png"
