"""The packet's cover as a format-neutral :class:`~docgen.compose.Document`, rendered by the same
PDF renderer as the records: who and what the disclosure is about, the index with page numbers, a
medical-necessity summary, the Part 2 notice when required and what was withheld."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from ..compose import (
    Bullets,
    Document,
    Fields,
    Para,
    Section,
    Table,
    _assessment_blocks,  # the same table and charts as in the records
    agency_lines,
    fmt_date,
    label,
)
from ..compose.wording import plural
from ..model import ProgressNote, TreatmentPlan
from .policy import ConsentRef, Notice, Purpose

WITHHELD_PN = "withheld: psychotherapy notes (45 CFR 164.501)"


@dataclass
class Entry:
    """One document of the packet, as the index lists it."""

    record: TreatmentPlan | ProgressNote
    title: str
    draft: bool
    first_page: int = 0  # 1-based page in the packet
    pages: int = 0
    sections: list[tuple[str, str, int]] = field(default_factory=list)  # key, title, page index in the document

    @property
    def date(self) -> date:
        return self.record.service_date


@dataclass
class CoverData:
    packet_id: str
    purpose: Purpose
    recipient: str
    disclosure: date
    period: tuple[date, date]
    profile: str
    entries: list[Entry]
    withheld: list[tuple[str, date, str]]  # record id, date, reason
    part2_notice: Notice | None = None
    part2_consent: ConsentRef | None = None
    authorization: ConsentRef | None = None
    omitted: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> section titles left out


def _consent_fields(ref: ConsentRef, heading: str) -> Fields:
    c = ref.consent
    return Fields(tuple((k, v) for k, v in (
        (heading, ref.label),
        ("Signed", " ".join(x for x in (fmt_date(c.date_signed), f"({label(c.signer_role)})" if c.signer_role
                                        else "") if x)),
        ("Disclosing party", c.disclosing_party or ""), ("Recipient", c.recipient or ""),
        ("Purpose", c.purpose or ""), ("Information", c.information_description or ""),
        ("Expires", fmt_date(c.expires) or (c.expiration_event or "")),
        ("Right to revoke", "stated: revocation in writing, not for disclosures already made"
         if c.right_to_revoke_statement else ""),
    ) if v))


def _providers(data: CoverData) -> str:
    """The authors of the packet's documents, with their NPIs (a claim names the rendering provider)."""
    seen: dict[str, str] = {}
    for entry in data.entries:
        author = entry.record.author
        seen.setdefault(author.id, f"{author.name}, {author.credentials}" + (f" (NPI {author.npi})" if author.npi
                                                                              else ""))
    return "; ".join(seen.values())


def _summary(data: CoverData) -> list[Section]:
    plans = [e.record for e in data.entries if isinstance(e.record, TreatmentPlan)]
    notes = [e.record for e in data.entries if isinstance(e.record, ProgressNote)]
    keep_plan, keep_note = set(data.purpose.plan_sections), set(data.purpose.note_sections)
    blocks: list = []
    latest = max(plans, key=lambda p: p.plan_date) if plans else None
    if latest is not None:
        blocks.append(Fields((("Level of care", label(latest.level_of_care)),
                              ("Plan in force", f"{latest.id} of {fmt_date(latest.plan_date)}"),
                              ("Next review", fmt_date(latest.next_review_date) or "not set"))))
    if "diagnoses" in keep_plan:
        seen: dict[str, tuple[str, ...]] = {}
        for plan in sorted(plans, key=lambda p: p.plan_date):
            for d in plan.diagnoses:
                seen[d.code] = (d.code, d.description or "", "Primary" if d.primary else "Secondary", plan.id)
        if seen:
            blocks.append(Table(("Code", "Diagnosis", "Type", "Plan"), tuple(seen.values()), (0.13, 0.55, 0.16, 0.16),
                                "Diagnoses"))
    scores = {}
    for record, keep in [(p, keep_plan) for p in plans] + [(n, keep_note) for n in notes]:
        if "measures" in keep:
            for a in record.assessments:
                scores[(a.instrument, a.date)] = a
    if scores:
        blocks.extend(_assessment_blocks([scores[k] for k in sorted(scores)]))
    if "goals" in keep_plan and latest is not None:
        progress: dict[str, tuple[date, str]] = {}
        for goal in latest.goals:
            for entry in goal.progress:
                if goal.id not in progress or entry.date >= progress[goal.id][0]:
                    progress[goal.id] = (entry.date, entry.summary + (f" ({entry.rating})" if entry.rating else ""))
        if "goals" in keep_note:
            for note in sorted(notes, key=lambda n: n.session_date):
                if note.plan_id != latest.id:
                    continue
                for ref in note.goals_addressed:
                    if ref.progress and (ref.goal_id not in progress or note.session_date >= progress[ref.goal_id][0]):
                        progress[ref.goal_id] = (note.session_date, ref.progress)

        def latest_cells(entry: tuple[date, str] | None) -> tuple[str, str]:
            return (fmt_date(entry[0]), entry[1]) if entry else ("", "none recorded")

        rows = tuple((g.id, g.statement, *latest_cells(progress.get(g.id))) for g in latest.goals)
        if rows:
            blocks.append(Table(("Goal", "Statement", "Latest", "Latest progress"), rows, (0.08, 0.40, 0.14, 0.38),
                                "Goals and latest progress"))
    if notes:
        counts: Counter = Counter()
        dates: dict[str, list[date]] = {}
        for note in notes:
            for code in dict.fromkeys(note.cpt_codes):
                counts[code] += 1
                dates.setdefault(code, []).append(note.session_date)
        rows = tuple((code, str(counts[code]), fmt_date(min(dates[code])), fmt_date(max(dates[code])))
                     for code in sorted(counts))
        blocks.append(Table(("CPT code", "Sessions", "First", "Last"), rows, (0.25, 0.25, 0.25, 0.25),
                            f"Sessions by CPT code ({plural(len(notes), 'note')})"))
    return [Section("necessity", "Medical necessity summary", tuple(blocks))] if blocks else []


def compose_cover(data: CoverData, client, agency, payer) -> Document:
    """The cover for ``data``; page numbers in its index come from ``data.entries``."""
    p = data.purpose
    tpo = {"treatment": "treatment", "payment": "payment", "operations": "health care operations"}.get(p.tpo)
    ident = Fields((
        ("Client", client.name), ("Client ID", client.id), ("Date of birth", fmt_date(client.date_of_birth)),
        ("Payer", payer.name), ("Payer member ID", payer.member_id or "not recorded"),
        ("Period", f"{fmt_date(data.period[0])} to {fmt_date(data.period[1])}"),
        ("Purpose", p.description + (f" ({tpo}, 45 CFR 164.506)" if tpo
                                      else " (under the client's authorization, 45 CFR 164.508)")),
        ("Recipient", data.recipient), ("Disclosure date", fmt_date(data.disclosure)),
        ("Disclosed by", agency.name + (f", NPI {agency.npi}" if agency.npi else "")),
        *((("Clinicians", providers),) if (providers := _providers(data)) else ()),
        ("Profile", data.profile),
    ))
    sections = [Section("disclosure", "Disclosure", (ident,))]
    if data.part2_notice is not None:
        blocks: list = [Para(data.part2_notice.text, label=f"Notice to the recipient ({data.part2_notice.version})")]
        if data.part2_consent is not None:
            blocks.append(Para("Scope of the client's consent under 42 CFR 2.31 for this disclosure:", "muted"))
            blocks.append(_consent_fields(data.part2_consent, "Part 2 consent"))
        sections.append(Section("part2", "42 CFR Part 2", tuple(blocks)))
    if data.authorization is not None:
        sections.append(Section("authorization", "HIPAA authorization (45 CFR 164.508)",
                                (_consent_fields(data.authorization, "Authorization"),)))
    rows = tuple((e.title + (" (draft)" if e.draft else ""), e.record.id, fmt_date(e.date), str(e.first_page))
                 for e in data.entries)
    index: list = [Table(("Document", "Record", "Date", "Page"), rows, (0.46, 0.22, 0.18, 0.14))]
    if data.withheld:
        index.append(Bullets("Not included",
                             tuple(f"{rid} ({fmt_date(day)}): {why}" for rid, day, why in data.withheld)))
    omitted = [f"{kind}: {', '.join(titles)}" for kind, titles in data.omitted.items() if titles]
    if omitted:
        index.append(Bullets("Sections left out as not needed for this purpose (minimum necessary, 45 CFR 164.502(b))",
                             tuple(omitted)))
    sections.append(Section("index", "Documents", tuple(index)))
    sections.extend(_summary(data))
    lines = agency_lines(agency)
    return Document(kind="packet", template="packet", record_id=data.packet_id, title="Disclosure Packet",
                    agency=agency.name, agency_lines=lines, client_name=client.name, client_id=client.id,
                    client_dob=fmt_date(client.date_of_birth),
                    date_line=f"{p.name.capitalize()} packet for {data.recipient} "
                              f"\u00b7 disclosed {fmt_date(data.disclosure)}",
                    sections=tuple(sections), metadata={"record_id": data.packet_id, "kind": "packet"})
