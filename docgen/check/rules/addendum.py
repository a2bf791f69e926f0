"""Addendum rules (add-*): an addendum names its locked original exactly, says what changed and why,
and is dated no earlier than the original. The author's signature is checked by the signature rules,
which apply to addenda too (sig-present, sig-dated, sig-credentials, sig-no-stamp, sig-electronic,
sig-order, sig-cosign)."""
from __future__ import annotations

from ..registry import ADDENDUM, rule

#: Medicare's recordkeeping principles for amendments, corrections and delayed entries.
PIM_AMENDMENTS = "Medicare PIM ch. 3 §3.3.2.5: amendments, corrections and delayed entries [cms-pim-3]"


@rule("add-original", applies_to=[ADDENDUM], severity="blocker",
      source=["Medicare PIM ch. 3 §3.3.2.5: all original content identified, without deletion [cms-pim-3]",
              "45 CFR 164.312(c)(1)-(2): integrity of ePHI, a mechanism to corroborate it was not altered "
              "[cfr-45-164.312]"],
      summary="The original the addendum names is final and locked (in the lock ledger, or complete in the same "
              "run), with the same sha256, kind, date and client. Without a ledger (docgen check without "
              "--audit) only an original in the same run is verified")
def add_original(add, ctx):
    ref = add.original
    lock = ctx.locks.get(ref.id)
    if lock is None:
        if ctx.ledger:
            yield ("original.id",
                   f"{ref.id} is not locked: it was never rendered final with this audit trail; render the original "
                   f"final first, or point --audit at the agency's trail")
        return
    if lock.sha256 != ref.sha256:
        yield ("original.sha256",
               f"addendum names sha256 {ref.sha256[:12]}... but the locked {ref.id} has {lock.sha256[:12]}...")
    if lock.kind != ref.kind.value:
        yield "original.kind", f"{ref.id} is a {lock.kind}, not a {ref.kind.value}"
    if lock.document_date != ref.date.isoformat():
        yield "original.date", f"{ref.id} is dated {lock.document_date}, not {ref.date.isoformat()}"
    if lock.client_id != add.client.id:
        yield "client.id", f"{ref.id} is a record of client {lock.client_id}, not {add.client.id}"


@rule("add-changes", applies_to=[ADDENDUM], severity="blocker",
      source="Medicare PIM ch. 3 §3.3.2.5: each amendment clearly and permanently identified as such [cms-pim-3]",
      summary="The addendum says what changed: at least one change, none blank")
def add_changes(add, ctx):
    if not add.changes:
        yield "changes", "the addendum lists no change"
    for index, item in enumerate(add.changes):
        if not item.change.strip():
            yield f"changes[{index}].change", "the change is blank"


@rule("add-reason", applies_to=[ADDENDUM], severity="blocker",
      source=["docgen policy: an addendum says why the original is amended", PIM_AMENDMENTS],
      summary="The addendum says why the original is amended")
def add_reason(add, ctx):
    if not (add.reason or "").strip():
        yield "reason", "the addendum gives no reason for the change"


@rule("add-date", applies_to=[ADDENDUM], severity="blocker",
      source="Medicare PIM ch. 3 §3.3.2.5: the date and author of each amendment [cms-pim-3]",
      summary="The addendum is dated on or after the original's date")
def add_date(add, ctx):
    if add.date < add.original.date:
        yield ("date", f"addendum dated {add.date.isoformat()} is before the original {add.original.id} of "
                       f"{add.original.date.isoformat()}")
