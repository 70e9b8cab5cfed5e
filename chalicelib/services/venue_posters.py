"""A venue's printable poster: its QR (a URL into the web client's scan page), name and venue number.

SVG: the name in the printer's own CJK font, the QR drawn by segno (as the citizens' QR images are), the venue
number large for staff to type when a camera fails. PNG: the QR and the venue number only, drawn here pixel by
pixel (segno writes PNG without Pillow; a name in Chinese would need Pillow and a CJK font in the Lambda bundle,
tens of MB: the SVG carries it, and prints at any size).
"""
from __future__ import annotations

import io
import struct
import zlib
from html import escape

import segno

from chalicelib.domain import divisions
from chalicelib.store.venues import Venue

WIDTH = 600
QR_SIZE = 440
# 5x7 digits, a row of five bits per line: the venue number under the PNG's QR
DIGITS = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11111", "00010", "00100", "00010", "00001", "10001", "01110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    " ": ("00000",) * 7,
}


def spaced(number: str) -> str:
    return f"{number[:4]} {number[4:]}"


def symbol(url: str) -> segno.QRCode:
    # level M, as the citizens' QR: a poster behind glass or in the sun still reads
    return segno.make_qr(url, error="m", boost_error=False)


def svg(venue: Venue, url: str) -> str:
    qr = symbol(url)
    modules = qr.symbol_size(scale=1, border=4)[0]
    scale = QR_SIZE / modules
    inline = qr.svg_inline(scale=scale, border=4, dark="#000", light="#fff")
    inline = inline.replace("<svg ", f'<svg x="{(WIDTH - QR_SIZE) / 2:.0f}" y="150" ', 1)
    county = divisions.name_of(venue.county) or venue.county
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="820" viewBox="0 0 {WIDTH} 820" '
        f'font-family="\'Noto Sans CJK SC\', \'PingFang SC\', \'Microsoft YaHei\', sans-serif">'
        f'<rect width="{WIDTH}" height="820" fill="#fff"/>'
        f'<rect width="{WIDTH}" height="96" fill="#0a7d32"/>'
        f'<text x="{WIDTH // 2}" y="62" font-size="40" fill="#fff" text-anchor="middle" font-weight="bold">'
        f'场所码 · Venue code</text>'
        f'<text x="{WIDTH // 2}" y="138" font-size="30" text-anchor="middle" font-weight="bold">'
        f'{escape(venue.name)}</text>'
        f'{inline}'
        f'<text x="{WIDTH // 2}" y="650" font-size="22" text-anchor="middle">'
        f'请用手机相机扫码登记 · Scan with your phone camera</text>'
        f'<text x="{WIDTH // 2}" y="700" font-size="20" text-anchor="middle">场所编号 Venue number</text>'
        f'<text x="{WIDTH // 2}" y="756" font-size="52" text-anchor="middle" font-family="monospace" '
        f'font-weight="bold">{spaced(venue.number)}</text>'
        f'<text x="{WIDTH // 2}" y="800" font-size="18" text-anchor="middle" fill="#555">'
        f'{escape(county)} {escape(venue.address)}</text>'
        f'</svg>')


def png(venue: Venue, url: str) -> bytes:
    qr = symbol(url)
    matrix = [list(row) for row in qr.matrix]
    border, scale, glyph = 4, 8, 6
    size = (len(matrix) + 2 * border) * scale
    text = spaced(venue.number)
    text_width = len(text) * 6 * glyph
    width = max(size, text_width + 2 * scale * border)
    height = size + 7 * glyph + 4 * scale
    rows = [bytearray(b"\xff" * width) for _ in range(height)]
    left = (width - size) // 2
    for y, line in enumerate(matrix):
        for x, dark in enumerate(line):
            if dark:
                for dy in range(scale):
                    row = rows[(y + border) * scale + dy]
                    start = left + (x + border) * scale
                    row[start:start + scale] = b"\x00" * scale
    top, text_left = size, (width - text_width) // 2
    for i, char in enumerate(text):
        for gy, bits in enumerate(DIGITS[char]):
            for gx, bit in enumerate(bits):
                if bit == "1":
                    for dy in range(glyph):
                        row = rows[top + gy * glyph + dy]
                        start = text_left + (i * 6 + gx) * glyph
                        row[start:start + glyph] = b"\x00" * glyph
    return _encode(width, height, rows)


def _encode(width: int, height: int, rows: list[bytearray]) -> bytes:
    """An 8-bit grayscale PNG (RFC 2083): signature, IHDR, one IDAT of the filtered rows, IEND."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = io.BytesIO()
    for row in rows:
        raw.write(b"\x00")     # filter: none
        raw.write(row)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.getvalue(), 9)) + chunk(b"IEND", b""))


def render(venue: Venue, url: str, fmt: str) -> tuple[str | bytes, str]:
    if fmt == "svg":
        return svg(venue, url), "image/svg+xml"
    return png(venue, url), "image/png"
