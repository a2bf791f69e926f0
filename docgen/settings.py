"""Settings: every environment variable and default path docgen reads, in one place. The API and the
CLI both ask here, so ``DOCGEN_AUDIT`` means the same to ``docgen render`` and ``api.render``.

``DOCGEN_AUDIT``: the audit trail and lock ledger (a file, or a folder holding ``audit.sqlite``); default
``OUT/audit.sqlite`` for render and batch, none for check. ``DOCGEN_CACHE``: prepared Word templates and
the ICD-10-CM table; default ``$XDG_CACHE_HOME/docgen``, else ``~/.cache/docgen``. ``DOCGEN_TEMPLATES``:
the Word templates and ``pdf-style.toml``; default the ones shipped inside the package. ``CI``: when
set, no progress bar. The README's settings table says the same.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The audit trail's file name inside an output folder (or a folder named as the trail).
AUDIT_FILE = "audit.sqlite"
#: The templates shipped with the package: Word templates and pdf-style.toml.
PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"

ENVIRONMENT = {
    "DOCGEN_AUDIT": "audit trail and lock ledger (file, or folder holding audit.sqlite)",
    "DOCGEN_CACHE": "cache folder: prepared Word templates, the ICD-10-CM table",
    "DOCGEN_TEMPLATES": "templates folder (Word templates and pdf-style.toml)",
    "CI": "when set, no progress bar",
}


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def cache_folder() -> Path:
    """Where prepared templates and the ICD-10-CM table are cached."""
    named = _env("DOCGEN_CACHE")
    if named:
        return Path(named).expanduser()
    xdg = _env("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "docgen"


def templates_folder(given: str | os.PathLike | None = None) -> Path:
    """``given`` (``--templates``), else ``DOCGEN_TEMPLATES``, else the package's own templates."""
    if given:
        return Path(given)
    named = _env("DOCGEN_TEMPLATES")
    return Path(named).expanduser() if named else PACKAGE_TEMPLATES


def trail_path(path: str | os.PathLike) -> Path:
    """An audit trail named by its file, or by the folder holding ``audit.sqlite``."""
    target = Path(path)
    return target / AUDIT_FILE if target.is_dir() else target


def audit_trail(given: str | os.PathLike | None = None) -> Path | None:
    """The audit trail a check consults: ``given`` (``--audit``), else ``DOCGEN_AUDIT``, else none."""
    chosen = given if given else _env("DOCGEN_AUDIT")
    return trail_path(Path(chosen).expanduser()) if chosen else None


def output_trail(given: str | os.PathLike | None, out: str | os.PathLike) -> Path:
    """The audit trail render and batch write to: as :func:`audit_trail`, else ``out/audit.sqlite``."""
    return audit_trail(given) or Path(out) / AUDIT_FILE


def progress_bar(on_terminal: bool) -> bool:
    """Whether to draw a progress bar: on a terminal, and not in CI."""
    return on_terminal and not _env("CI")


__all__ = ["AUDIT_FILE", "PACKAGE_TEMPLATES", "ENVIRONMENT", "cache_folder", "templates_folder", "trail_path",
           "audit_trail", "output_trail", "progress_bar"]
