"""The manifest of a batch: ``manifest.jsonl`` and ``manifest.csv``, one row per record in input
order, and the journal (``.manifest-journal.jsonl``) a run appends each row to as it is done, so that
a run cut short is resumed where it stopped."""
from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

MANIFEST = "manifest.jsonl"
MANIFEST_CSV = "manifest.csv"
JOURNAL = ".manifest-journal.jsonl"
CSV_FIELDS = ("source", "id", "kind", "client", "profile", "status", "blockers", "warnings", "outputs", "sha256",
              "bytes", "duration_ms", "input_sha256", "content_sha256")


def read_rows(path: Path) -> Iterator[dict]:
    """Rows of a manifest or journal; a line cut short by a kill is ignored."""
    if not path.is_file():
        return
    with path.open("r", encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and row.get("id"):
                yield row


#: What a spreadsheet takes for the start of a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_row(row: dict) -> dict:
    outputs = row.get("outputs", [])
    cells = {
        **{k: row.get(k, "") for k in CSV_FIELDS if k not in ("outputs", "sha256", "bytes")},
        "outputs": " ".join(o["path"] for o in outputs), "sha256": " ".join(o["sha256"] for o in outputs),
        "bytes": " ".join(str(o["bytes"]) for o in outputs),
    }
    return {key: _cell(value) for key, value in cells.items()}


class ManifestWriter:
    """``manifest.jsonl`` and ``manifest.csv``, written in input order as the rows arrive (they
    finish a little out of order: only rows waiting for an earlier one stay in memory, at most the
    tasks in flight) into temporary files that replace the manifests when the batch is done."""

    def __init__(self, out: Path) -> None:
        self.targets = (out / MANIFEST, out / MANIFEST_CSV)
        # surrogateescape: a source whose file name is not UTF-8 is written with its own bytes
        self.files = [tempfile.NamedTemporaryFile("w", encoding="utf-8", errors="surrogateescape", newline="",
                                                  dir=out, prefix=f".{target.name}.", suffix=".tmp", delete=False)
                      for target in self.targets]
        self.csv = csv.DictWriter(self.files[1], fieldnames=CSV_FIELDS, lineterminator="\n")
        self.csv.writeheader()
        self.waiting: dict[int, tuple[dict, str | None]] = {}
        self.next = 0

    def add(self, seq: int, row: dict, line: str | None = None) -> None:
        """Row ``seq`` of the input order; ``line``: its JSON line when the caller has made it already."""
        self.waiting[seq] = (row, line)
        while self.next in self.waiting:
            ready, text = self.waiting.pop(self.next)
            self.next += 1
            self.files[0].write(text if text is not None else json.dumps(ready, sort_keys=True, default=str) + "\n")
            self.csv.writerow(_csv_row(ready))

    def commit(self) -> None:
        if self.waiting:
            raise RuntimeError(f"manifest rows missing before row {min(self.waiting)}")
        for handle, target in zip(self.files, self.targets, strict=True):
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(handle.name, target)

    def discard(self) -> None:
        """Remove the temporary manifests; their buffered rows may not fit on a full disk, and need not."""
        for handle in self.files:
            Path(handle.name).unlink(missing_ok=True)
            try:
                handle.close()
            except OSError:
                pass


def open_journal(path: Path):
    """The journal, to append to; a last line cut short by a kill is ended first, so that the
    next row does not run into it."""
    if path.is_file() and path.stat().st_size:
        with path.open("rb+") as raw:
            raw.seek(-1, os.SEEK_END)
            if raw.read(1) != b"\n":
                raw.write(b"\n")
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8")
