"""Render: checked records -> composed documents -> DOCX and PDF files.

One composition of each record feeds both renderers. A record with blockers is refused unless
drafts are allowed; a draft carries a DRAFT watermark on every page and lists what is missing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path

from .. import __version__
from ..compose import compose, document_title
from ..findings import RecordResult, Status
from ..load import source_file
from ..settings import PACKAGE_TEMPLATES, templates_folder
from ..write import safe_name, write_all

FORMATS = ("docx", "pdf")
DEFAULT_TEMPLATES = PACKAGE_TEMPLATES  # the shipped templates, inside the package


class Outcome(str, Enum):
    final = "final"
    draft = "draft"
    refused = "refused"  # blockers and no --allow-draft
    invalid = "invalid"
    failed = "failed"  # rendering raised
    locked = "locked"  # finalized and signed before with other content: changes go in an addendum


@dataclass
class Rendered:
    result: RecordResult
    outcome: Outcome
    files: list[Path] = field(default_factory=list)
    error: str = ""


def content_hash(record) -> str:
    """sha256 of the validated record's canonical JSON: what the document was made from. Fields at
    their default are left out, so a later docgen that adds an optional field does not change the hash
    of a record that does not use it (the lock of a finalized record holds this hash)."""
    return hashlib.sha256(record.model_dump_json(exclude_defaults=True).encode("utf-8")).hexdigest()


def metadata_for(record, profile: str, digest: str) -> dict[str, str]:
    """Document properties: ids, kind, profile and content hash; never the client's name."""
    title = document_title(record)
    return {
        "title": f"{title} {record.id}",
        "subject": f"{record.kind} {record.id}; client {record.client.id}; profile {profile}",
        "author": record.agency.name,
        "keywords": f"docgen; record={record.id}; kind={record.kind}; client={record.client.id}; "
                    f"profile={profile}; sha256={digest}",
        "creator": f"docgen {__version__}",
        "category": record.kind,
    }


class Renderer:
    """Renders records to files. Fonts, styles and templates are prepared once and reused."""

    def __init__(self, out: Path, formats: tuple[str, ...] = FORMATS, templates: Path | None = None,
                 allow_draft: bool = False, signer=None, sign_role: str | None = None):
        self.out = Path(out)
        self.formats = formats
        self.templates = templates_folder(templates)
        self.allow_draft = allow_draft
        # a loaded key (docgen.sign.load_key): final PDFs are signed before they are written
        self.signer = signer
        self.sign_role = sign_role

    @cached_property
    def pdf(self):
        from .pdf import PdfRenderer  # noqa: PLC0415
        from .style import PdfStyle  # noqa: PLC0415

        return PdfRenderer(PdfStyle.load(self.templates / "pdf-style.toml"))

    @cached_property
    def docx(self):
        from .docx import DocxRenderer  # noqa: PLC0415

        return DocxRenderer(self.templates)

    def paths(self, record) -> dict[str, Path]:
        stem = safe_name(record.id)
        return {fmt: self.out / f"{stem}.{fmt}" for fmt in self.formats}

    def render_bytes(self, result: RecordResult, draft: bool) -> dict[str, bytes]:
        record = result.record
        doc = compose(record, result.findings, result.profile or "", draft=draft, signers=result.signers,
                      assets=Path(source_file(result.source)).parent)
        meta = metadata_for(record, result.profile or "", content_hash(record))
        out: dict[str, bytes] = {}
        if "docx" in self.formats:
            out["docx"] = self.docx.render(doc, meta, record.service_date)
        if "pdf" in self.formats:
            out["pdf"] = self.pdf.render(doc, meta, record.service_date.strftime("%Y%m%d"))
            if self.signer is not None and not draft:  # a draft is never signed
                out["pdf"] = self.signer.sign(out["pdf"], role=self.sign_role)
        return out

    def render(self, result: RecordResult) -> Rendered:
        status = result.status
        if status is Status.invalid:
            return Rendered(result, Outcome.invalid)
        draft = status is Status.incomplete
        if draft and not self.allow_draft:
            return Rendered(result, Outcome.refused)
        targets = self.paths(result.record)
        try:
            data = self.render_bytes(result, draft)
            files = {targets[fmt]: blob for fmt, blob in data.items()}
            write_all(files)
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the others
            return Rendered(result, Outcome.failed, error=_safe_error(exc))
        return Rendered(result, Outcome.draft if draft else Outcome.final, list(files))


def _safe_error(exc: Exception) -> str:
    """What went wrong, without client text (exception messages of layout libraries quote content)."""
    from jinja2 import TemplateError as JinjaError  # noqa: PLC0415

    from ..sign import SigningError  # noqa: PLC0415
    from .docx import TemplateError  # noqa: PLC0415

    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or 'I/O error'}"
    if isinstance(exc, SigningError):  # its messages are written to be shown
        return f"signing failed: {exc}"
    if isinstance(exc, (TemplateError, JinjaError)):
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return f"{type(exc).__name__} while rendering"
