"""One error family. Every error docgen raises on purpose is a :class:`DocgenError`: its message is one
line, safe to show anywhere (no client text, no passphrase, no key material), and it carries the exit
code the command line ends with. The CLI turns them into ``docgen COMMAND: MESSAGE`` on stderr in one
place (:func:`docgen.cli.main`); the API lets them through to the caller.

Exit codes: 0 all good, 1 a record (or a packet, a signature) did not pass, 2 usage: a bad option,
file, profile, style, template, key or audit trail, found before any work is done.
"""
from __future__ import annotations

from .wording import counted


class DocgenError(Exception):
    """Base of every docgen error: a one-line message, safe to show, and an exit code."""

    exit_code = 2
    #: What the message is about, for the CLI's prefix ("--profile", "--templates"...): "" for none.
    where = ""

    def __init__(self, message: str = "", *, where: str | None = None):
        line = " ".join(str(message).split()) or type(self).__name__
        super().__init__(line)
        if where is not None:
            self.where = where

    @property
    def message(self) -> str:
        return str(self)

    def details(self) -> list[str]:
        """Lines to show before the message (none, unless an error has several reasons)."""
        return []


class UsageError(DocgenError):
    """An option or argument that cannot be used as given."""


class LoadError(DocgenError, ValueError):
    """A document that cannot be read. The message never quotes the file's content."""

    where = "input"


class ProfileError(DocgenError, ValueError):
    """A rules profile that does not exist or cannot be used."""

    where = "--profile"


class StyleError(DocgenError, ValueError):
    """A ``pdf-style.toml`` with an unknown key or a value out of range."""

    where = "--templates"


class TemplateError(DocgenError, ValueError):
    """A Word template that is missing or cannot be used."""

    where = "--templates"


class SigningError(DocgenError):
    """A signature could not be made or checked (the message names the key or PDF file)."""


class AuditError(DocgenError):
    """An audit trail that cannot be opened, read or written."""

    where = "--audit"


class OutputError(DocgenError):
    """An output folder or file that cannot be created or written."""

    where = "--out"


class LayoutError(DocgenError):
    """A record whose content cannot be laid out on the page (it fails; nothing is written)."""

    exit_code = 1


class WriteError(DocgenError):
    """A run that had to stop because its output could not be written (a full disk): nothing partial
    is left, and running it again completes it."""

    exit_code = 1


class PacketError(DocgenError, ValueError):
    """A packet request that cannot be served as asked (unknown purpose, bad period...)."""


class PolicyError(PacketError):
    """The profile's packet settings are missing or wrong, or the purpose is unknown."""


class NotAPacket(DocgenError):
    """A PDF given to ``inspect`` that docgen did not make as a packet."""

    exit_code = 1


class PacketRefused(DocgenError):
    """The packet may not be made: one refusal per reason (record, field, rule)."""

    exit_code = 1

    where = ""

    def __init__(self, refusals: list):
        super().__init__(f"packet refused ({counted(len(refusals), 'reason')}); nothing written")
        self.refusals = refusals

    def details(self) -> list[str]:
        """One line per refusal, shown before the message."""
        return [f"refused: {r.line()}" for r in self.refusals]


__all__ = ["DocgenError", "UsageError", "LoadError", "ProfileError", "StyleError", "TemplateError", "SigningError",
           "AuditError", "OutputError", "WriteError", "LayoutError", "PacketError", "PolicyError", "NotAPacket",
           "PacketRefused"]
