"""The addendum: how a finalized, signed (locked) treatment plan or progress note is changed.

The original is never edited once locked (see :mod:`docgen.lock`). An addendum is a record of its
own: it names the original by id, kind, date and content hash, says what changed and why, is dated
and signed by its author, and renders as "Addendum to <document> of <date>".

``changes`` and ``reason`` may be missing from the record so that an unfinished addendum can be
rendered as a draft; the rules ``add-changes`` and ``add-reason`` keep it from being final.
"""
from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, model_validator

from .base import Agency, Client, Clinician, Date, Identifier, Payer, Signature, Strict, Text, Time, no_items


class OriginalKind(str, Enum):
    treatment_plan = "treatment_plan"
    progress_note = "progress_note"


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _check_sha256(value: str) -> str:
    if not _HEX64.fullmatch(value):
        raise ValueError("must be a sha256: 64 hexadecimal digits")
    return value


#: A sha256 digest: 64 hexadecimal digits (capitals are accepted and stored in lower case).
Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=200),
                   AfterValidator(_check_sha256),
                   WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{64}$",
                                   "description": "a sha256: 64 hexadecimal digits",
                                   "examples": ["a43b39c4c9594f15ca0444bf84d670f4013c29e9331de2ca1d93f837139c5ff7"]})]


class OriginalRef(Strict):
    """The locked document the addendum amends."""

    id: Identifier = Field(examples=["TP-1001"])
    kind: OriginalKind
    date: Date = Field(description="the original's own date: the plan date or the date of service")
    sha256: Sha256 = Field(description="the original's content hash as locked: `docgen audit --record ID`, "
                                       "the sha256 in the document's keywords, or the manifest's content_sha256")


class Change(Strict):
    section: str | None = Field(default=None, max_length=300,
                                description="where in the original: a section or field path, e.g. goals[1]")
    change: Text = Field(description="what changed")


class Addendum(Strict):
    kind: Literal["addendum"]
    id: Identifier = Field(examples=["AD-1001-01"])
    client: Client
    agency: Agency
    payer: Payer | None = Field(default=None, description="picks the rules profile, as for the original")
    clinician: Clinician = Field(description="the addendum's author, who signs it")
    date: Date
    time: Time | None = None
    original: OriginalRef
    changes: list[Change] = Field(default_factory=no_items)
    reason: Text | None = Field(default=None, description="why the original is amended")
    signatures: list[Signature] = Field(default_factory=no_items)

    @model_validator(mode="after")
    def _references(self) -> Addendum:
        if self.original.id == self.id:
            raise ValueError("an addendum cannot name itself as the original (original.id is its own id)")
        return self

    # what the signature rules and the renderers expect of every record --------------------------
    @property
    def author(self) -> Clinician:
        return self.clinician

    @property
    def author_id(self) -> str:
        return self.clinician.id

    @property
    def service_date(self) -> Date:
        """The date the document stands for: the addendum's own date."""
        return self.date


__all__ = ["Addendum", "OriginalRef", "OriginalKind", "Change", "Sha256"]
