"""The format-neutral composition of a document: sections of blocks, in reading order.

Both renderers (DOCX and PDF) take a :class:`Document` and nothing else, so they cannot say
different things. Every value is already a display string; renderers only lay them out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Para:
    """A paragraph of text; line breaks inside ``text`` are kept. ``style``: body, quote, muted."""

    type: ClassVar[str] = "para"  # what a Word template tests: ``b.type == 'para'``

    text: str
    style: str = "body"
    label: str = ""


@dataclass(frozen=True)
class Fields:
    """Label / value pairs, shown as a two-column grid; ``label``: its heading, when a section holds
    more than one grid."""

    type: ClassVar[str] = "fields"  # what a Word template tests: ``b.type == 'fields'``

    rows: tuple[tuple[str, str], ...]
    label: str = ""


@dataclass(frozen=True)
class Bullets:
    type: ClassVar[str] = "bullets"  # what a Word template tests: ``b.type == 'bullets'``

    label: str
    entries: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row. ``widths``: relative column widths, summing to 1."""

    type: ClassVar[str] = "table"  # what a Word template tests: ``b.type == 'table'``

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    caption: str = ""


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[str, int], ...]  # (date label, total)
    maximum: int
    bands: tuple[tuple[int, int, str], ...]  # (low, high, name)


@dataclass(frozen=True)
class Chart:
    """Scores over time for one instrument, with its severity bands."""

    type: ClassVar[str] = "chart"  # what a Word template tests: ``b.type == 'chart'``

    title: str
    series: Series


@dataclass(frozen=True)
class SignatureLine:
    type: ClassVar[str] = "signature"  # what a Word template tests: ``b.type == 'signature'``

    role: str  # "Clinician", "Client", ...
    text: str  # "Electronically signed by ..." or "" when unsigned
    signed: bool
    image: str | None = None  # path to a signature image
    key: str = ""  # the signer role's key (clinician, client, ...): names the PDF's signature field


@dataclass(frozen=True)
class Notice:
    """One item of a draft's list of what is missing: what, in words (``text``), and the id of the
    rule that asks for it (``rule``), shown smaller and muted after it."""

    text: str
    rule: str = ""

    def __str__(self) -> str:  # what a template printing ``{{ m }}`` shows
        return f"{self.text} ({self.rule})" if self.rule else self.text


Block = Para | Fields | Bullets | Table | Chart | SignatureLine


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    kind: str  # treatment_plan | progress_note | addendum
    template: str  # treatment_plan | soap | birp | dap | girp | addendum
    record_id: str
    title: str
    agency: str
    agency_lines: tuple[str, ...]
    client_name: str
    client_id: str
    client_dob: str
    date_line: str  # "Date of service: ...", "Plan date: ..." or "Addendum date: ..."
    sections: tuple[Section, ...]
    draft: bool = False
    missing: tuple[Notice, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def footer(self) -> str:
        return f"{self.client_name} \u00b7 Client ID {self.client_id} \u00b7 DOB {self.client_dob}"

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def texts(self) -> list[str]:
        """Every piece of text a reader must find in the rendered document."""
        out = [self.title, self.agency, self.client_name, self.client_id, self.client_dob, self.date_line]
        out += [t for notice in self.missing for t in (notice.text, notice.rule)]
        for section in self.sections:
            out.append(section.title)
            for block in section.blocks:
                out += block_texts(block)
        return [t for t in out if t]


def block_texts(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [block.label, block.text]
    if isinstance(block, Fields):
        return [block.label, *(t for row in block.rows for t in row)]
    if isinstance(block, Bullets):
        return [block.label, *block.entries]
    if isinstance(block, Table):
        return [block.caption, *block.columns, *(cell for row in block.rows for cell in row)]
    if isinstance(block, Chart):
        return [block.title]
    if isinstance(block, SignatureLine):
        return [block.role, block.text]
    raise TypeError(block)
