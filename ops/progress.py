"""The progress of a resumable pass over whole tables (ops `emergency end`, `retention backfill`).

Each table is scanned in parallel segments, a page at a time; after every page the segment's LastEvaluatedKey is
written to a local state file (atomically), so a run that stops (Ctrl-C, a lost connection, `--max-batches`)
resumes where its last finished page ended.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Interrupted(Exception):
    """The batch budget (`--max-batches`) ran out: the progress is saved, the same command resumes."""


@dataclass
class State:
    """What a run has done, kept in a local JSON file between runs: per table and scan segment, where the next
    page starts and whether it is done, per table how many items it acted on, and the keys of those it could not
    read (`skipped`, a retention backfill's: ops/backfill.py). The other fields are the emergency's
    (ops/emergency.py); a retention backfill leaves them as they are."""
    path: Path
    stage: str
    segments: int
    ended_at: int | None = None
    before: dict[str, int] = field(default_factory=dict)
    round: int = 1
    # table -> segment (as a string) -> {"key": LastEvaluatedKey or None, "done": bool}
    progress: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)   # items acted on (deleted, given an expiry)
    pepper_rotated_at: int | None = None
    skipped: dict[str, list[dict[str, Any]]] = field(default_factory=dict)   # table -> keys of items left unread
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, path: Path, stage: str, segments: int) -> State:
        if not path.exists():
            return cls(path, stage, segments)
        data = json.loads(path.read_text())
        if data["stage"] != stage:
            raise ValueError(f"{path} is the state of stage {data['stage']}, not {stage}")
        return cls(path, stage, int(data["segments"]), data.get("ended_at"), data.get("before", {}),
                   int(data.get("round", 1)), data.get("progress", {}), data.get("counts", {}),
                   data.get("pepper_rotated_at"), data.get("skipped", {}))

    def save(self) -> None:
        with self._lock:
            data = {"stage": self.stage, "segments": self.segments, "ended_at": self.ended_at, "before": self.before,
                    "round": self.round, "progress": self.progress, "counts": self.counts,
                    "pepper_rotated_at": self.pepper_rotated_at, "skipped": self.skipped}
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            tmp.replace(self.path)

    def segment(self, table: str, segment: int) -> dict[str, Any]:
        with self._lock:
            return self.progress.setdefault(table, {}).setdefault(str(segment), {"key": None, "done": False})

    def advance(self, table: str, segment: int, key: dict[str, Any] | None, acted_on: int,
                skipped: list[dict[str, Any]] | None = None) -> None:
        with self._lock:
            self.progress[table][str(segment)] = {"key": key, "done": key is None}
            self.counts[table] = self.counts.get(table, 0) + acted_on
            if skipped:
                named = self.skipped.setdefault(table, [])
                named.extend(key for key in skipped if key not in named)   # a page redone names its items once
        self.save()

    def table_done(self, table: str) -> bool:
        with self._lock:
            done = self.progress.get(table, {})
            return all(done.get(str(s), {}).get("done") for s in range(self.segments))


class Budget:
    """How many BatchWriteItem calls this run may still make (None: no limit); shared by the segments' threads."""

    def __init__(self, batches: int | None):
        self.left = batches
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self.left is not None:
                if self.left <= 0:
                    raise Interrupted
                self.left -= 1
