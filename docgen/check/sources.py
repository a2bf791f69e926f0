"""The bibliography: what each rule rests on, cited so that a reader can follow it.

``sources.toml`` (shipped in the package) holds one entry per source: a key, the full citation, a URL
and what the source is (a regulation, a statute, a Medicare manual, contractor or payer guidance, an
accreditation standard, a code set, a published instrument, a secondary source). A rule's ``source``
(and a profile's ``source = ...`` for a rule) is a list of entries, each one of:

- a bibliography key: ``"mn-stat-245g.06"``, printed as the entry's short title with its key;
- a text citing with keys in brackets, for a pinpoint: ``"1 TAC 354.2609(c): a QMHP-CS at a minimum
  signs the plan [tac-1-354.2609]"``;
- a text starting ``docgen policy``, for a design rule of docgen's own that no regulation prescribes.

An agency's profile may cite its own policy in plain text ("Riverside policy 4.2"): that text is shown
as it is and has no bibliography entry.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

#: A key in brackets inside a citation: lower-case, starting with a letter (so "[4.2]" is not a key).
KEY_IN_TEXT = re.compile(r"\[([a-z][a-z0-9.-]*)\]")
KEY = re.compile(r"[a-z][a-z0-9.-]*")
POLICY = "docgen policy"


@dataclass(frozen=True)
class Reference:
    """One bibliography entry."""

    key: str
    short: str  # how a bare key is printed, e.g. "Minn. Stat. §245G.06"
    citation: str  # the full citation
    url: str
    what: str  # what the source is: regulation, statute, Medicare manual, contractor guidance...
    see_also: tuple[str, ...] = ()  # further URLs (another copy, a quoting page)
    note: str = ""  # e.g. what was not seen verbatim

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "citation": self.citation, "url": self.url, "what": self.what}
        if self.see_also:
            out["see_also"] = list(self.see_also)
        if self.note:
            out["note"] = self.note
        return out


@cache
def bibliography() -> dict[str, Reference]:
    """Every entry of ``sources.toml``, by key, in file order."""
    text = (resources.files("docgen") / "check" / "sources.toml").read_text(encoding="utf-8")
    entries: dict[str, Reference] = {}
    for item in tomllib.loads(text)["source"]:
        key = item["key"]
        if key in entries or not KEY.fullmatch(key):
            raise ValueError(f"sources.toml: key {key!r} is repeated or malformed")
        entries[key] = Reference(key, item["short"], item["citation"], item["url"], item["what"],
                                 tuple(item.get("see_also", ())), item.get("note", ""))
    return entries


def entries(source: str | Iterable[str]) -> tuple[str, ...]:
    """A source as a profile or a rule gives it (one text or a list), as a tuple of entries."""
    return (source,) if isinstance(source, str) else tuple(source)


def keys_of(source: str | Iterable[str]) -> list[str]:
    """The bibliography keys a source cites, in order, each once: bare keys and ``[key]``s."""
    found: list[str] = []
    for entry in entries(source):
        text = entry.strip()
        for key in [text] if KEY.fullmatch(text) else KEY_IN_TEXT.findall(text):
            if key not in found:
                found.append(key)
    return found


def is_policy(entry: str) -> bool:
    return entry.strip().lower().startswith(POLICY)


def cite(source: str | Iterable[str]) -> str:
    """A source as one line of text (findings, ``docgen rules``): entries joined by "; ", a bare key
    written as its short title followed by the key in brackets."""
    shown = []
    for entry in entries(source):
        text = entry.strip()
        ref = bibliography().get(text) if KEY.fullmatch(text) else None
        shown.append(f"{ref.short} [{ref.key}]" if ref else text)
    return "; ".join(shown)


def references(source: str | Iterable[str]) -> list[Reference]:
    """The bibliography entries a source cites (keys it names that the bibliography lacks are left out;
    see :func:`unresolved`)."""
    known = bibliography()
    return [known[k] for k in keys_of(source) if k in known]


def unresolved(source: str | Iterable[str]) -> list[str]:
    """What a source cites that cannot be followed: keys the bibliography lacks, and entries that cite
    no key and are not marked docgen policy."""
    known = bibliography()
    missing = [k for k in keys_of(source) if k not in known]
    bare = [e for e in entries(source) if not keys_of(e) and not is_policy(e)]
    return missing + bare


__all__ = ["Reference", "bibliography", "cite", "entries", "is_policy", "keys_of", "references", "unresolved"]
