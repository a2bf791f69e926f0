"""Render: a checked record -> one composed document -> DOCX and PDF bytes.

One composition of each record feeds both renderers. A draft carries a DRAFT watermark on every page
and lists what is missing. What becomes of a record (final, draft, refused...) is decided by
:mod:`docgen.pipeline`; where its files go, by the caller. Nothing here writes a file.
"""
from __future__ import annotations

import os
from datetime import date
from functools import cached_property
from pathlib import Path

from .. import __version__
from ..compose import compose, document_title
from ..findings import Outcome, RecordResult
from ..load import source_file
from ..model.digest import content_hash
from ..settings import PACKAGE_TEMPLATES, templates_folder
from .visible_text import display

FORMATS = ("docx", "pdf")
DEFAULT_TEMPLATES = PACKAGE_TEMPLATES  # the shipped templates, inside the package


def metadata_for(record, profile: str, digest: str) -> dict[str, str]:
    """Document properties: ids, kind, profile and content hash; never the client's name."""
    title = document_title(record)
    return {
        "title": f"{title} {record.id}",
        "subject": f"{record.kind} {record.id}; client {record.client.id}; profile {profile}",
        "author": display(record.agency.name),  # as the pages show it: a control character by its code point
        "keywords": f"docgen; record={record.id}; kind={record.kind}; client={record.client.id}; "
                    f"profile={profile}; sha256={digest}",
        "creator": f"docgen {__version__}",
        "language": record.client.preferred_language or "",  # the /Lang of the client's own words (PDF)
        "category": record.kind,
    }


class Renderer:
    """Renders checked records to DOCX and PDF bytes with the templates of one folder (``templates``,
    default the shipped ones). Fonts, styles and templates are prepared once, on first use, and reused."""

    def __init__(self, formats: tuple[str, ...] = FORMATS, templates: str | os.PathLike | None = None):
        self.formats = tuple(formats)
        self.templates = templates_folder(templates)

    @cached_property
    def style(self):
        """The PDF style of the templates folder; raises :class:`docgen.errors.StyleError`."""
        from .style import PdfStyle  # noqa: PLC0415

        return PdfStyle.load(self.templates / "pdf-style.toml")

    @cached_property
    def pdf(self):
        from .pdf import PdfRenderer  # noqa: PLC0415

        return PdfRenderer(self.style)

    @cached_property
    def docx(self):
        from .docx import DocxRenderer  # noqa: PLC0415

        return DocxRenderer(self.templates)

    def prepare(self) -> None:
        """Load and check ``pdf-style.toml`` now, so that a bad style is one usage error
        (:class:`docgen.errors.StyleError`) before any record is rendered."""
        if "pdf" in self.formats:
            self.style  # noqa: B018 - loads and checks the style

    def render_bytes(self, result: RecordResult, draft: bool) -> dict[str, bytes]:
        """The record's documents by format; the caller decided it is final (``draft`` False) or a draft."""
        record = result.record
        doc = compose(record, result.findings, result.profile or "", draft=draft, signers=result.signers,
                      assets=Path(source_file(result.source)).parent)
        meta = metadata_for(record, result.profile or "", content_hash(record))
        day: date = record.service_date
        out: dict[str, bytes] = {}
        if "docx" in self.formats:
            out["docx"] = self.docx.render(doc, meta, day)
        if "pdf" in self.formats:
            out["pdf"] = self.pdf.render(doc, meta, day.strftime("%Y%m%d"))
        return out


__all__ = ["FORMATS", "DEFAULT_TEMPLATES", "Renderer", "metadata_for", "content_hash", "Outcome"]
