"""The print layout of a paper code (docs/identity.md#paper-codes): A6 portrait, 105 x 148 mm.

SVG is the whole layout: the QR, the masked name, the validity, the color when printed and the number to type
when a scanner cannot read the paper. Text stays text, so any browser prints it with the system's Chinese font.
The PNG is the QR alone at 300 dpi, for a card or a label: drawing the text into a PNG needs a font rasteriser
(Pillow and a CJK font), which the functions' bundle does not carry.
"""
from __future__ import annotations

import datetime as dt
import io
from html import escape

from chalicelib.domain import days
from chalicelib.services.qr_images import INK, symbol
from chalicelib.store.papercodes import Paper

WIDTH_MM, HEIGHT_MM = 105, 148
QR_MM = 70                       # about 2.8 cm per 10 modules at version 11: fine for any checkpoint scanner
COLOR_NAMES = {"green": ("绿码", "green"), "yellow": ("黄码", "yellow"), "red": ("红码", "red")}
DPI = 300


def grouped(number: str) -> str:
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


def _qr_path(token: str, size_mm: float, x_mm: float, y_mm: float) -> str:
    matrix = symbol(token).matrix
    count = len(matrix)
    cell = size_mm / count
    runs = []
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                runs.append(f"M{x_mm + col * cell:.3f} {y_mm + row * cell:.3f}h{cell:.3f}v{cell:.3f}h-{cell:.3f}z")
    return "".join(runs)


def svg(paper: Paper, token: str) -> str:
    until = dt.datetime.fromtimestamp(paper.expires_at, days.CST).strftime("%Y-%m-%d %H:%M")
    zh, en = COLOR_NAMES.get(paper.color, (paper.color, paper.color))
    ink = INK.get(paper.color, "#000000")
    left = (WIDTH_MM - QR_MM) / 2
    lines = [
        (14, 6.0, "bold", "健康码 · 纸质码"),
        (20, 3.6, "normal", "Health code, printed"),
        (104, 7.0, "bold", escape(paper.name_masked)),
        (111, 4.2, "normal", f"证件尾号 ID …{escape(paper.id_last4)}"),
        (119, 4.2, "normal", f"有效期至 {until} (北京时间) / valid until"),
        (126, 4.2, "normal", f"打印时 {zh} / {en} when printed"),
        (135, 6.2, "bold", grouped(paper.number)),
        (141, 3.2, "normal", "扫码失败时请手工输入上方号码 · type this number if the code does not scan"),
        (145.5, 3.0, "normal", "以在线核验颜色为准 · checkpoints online see the live color"),
    ]
    text = "".join(f'<text x="{WIDTH_MM / 2}" y="{y}" font-size="{size}" font-weight="{weight}" '
                   f'text-anchor="middle">{content}</text>' for y, size, weight, content in lines)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_MM}mm" height="{HEIGHT_MM}mm" '
            f'viewBox="0 0 {WIDTH_MM} {HEIGHT_MM}" role="img" '
            f'aria-label="纸质健康码 paper health code {escape(paper.name_masked)} {grouped(paper.number)}">'
            f'<rect width="{WIDTH_MM}" height="{HEIGHT_MM}" fill="#ffffff"/>'
            f'<rect x="2" y="2" width="{WIDTH_MM - 4}" height="{HEIGHT_MM - 4}" fill="none" stroke="{ink}" '
            f'stroke-width="1.2"/>'
            f'<g font-family="sans-serif" fill="#000000">{text}</g>'
            f'<path d="{_qr_path(token, QR_MM, left, 26)}" fill="{ink}"/></svg>')


def png(token: str, color: str) -> bytes:
    """The QR alone, QR_MM wide at DPI, in the printed color."""
    qr = symbol(token)
    modules = len(qr.matrix) + 8                          # with segno's 4-module quiet zone each side
    scale = max(1, round(QR_MM / 25.4 * DPI / modules))
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4, dark=INK.get(color, "#000000"), dpi=DPI)
    return buffer.getvalue()


def render(paper: Paper, token: str, fmt: str) -> tuple[bytes | str, str]:
    if fmt == "svg":
        return svg(paper, token), "image/svg+xml"
    return png(token, paper.color), "image/png"
