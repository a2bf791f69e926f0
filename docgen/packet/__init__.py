"""Insurer packets: one PDF with the plan(s), notes and evidence a recipient needs for a purpose, and
nothing more (issue #6).

    >>> from docgen.packet import build_packet
    >>> packet = build_packet(["fixtures/"], client="C-5001", purpose="claim",
    ...                       recipient="Superior HealthPlan", disclosure=date(2026, 11, 24))
    >>> packet.pdf[:5], [d["id"] for d in packet.manifest["documents"]]

Steps: check every record of the client (rules engine, its profile or ``profile``; each record
judged on its own date, the disclosure rules on the disclosure date); select the plans in force in
the period, the notes dated in it and the addenda to those documents written by its end; withhold
psychotherapy notes (hipaa-pn-split); refuse incomplete records (unless ``allow_draft``), unsigned
notes for payment (sig-before-claim), Part 2 records without a matching Part 2 consent (p2-consent)
and releases outside TPO without a valid HIPAA authorization (hipaa-auth-core, hipaa-auth-valid);
compose each record keeping only the sections the purpose needs (hipaa-min-nec); render them, then
the cover (re-rendered until its own page count is stable, so the index's page numbers are right);
assemble with bookmarks, page stamps and the JSON attachments. Same inputs and dates give the same
bytes. Encryption and signing are done by :func:`finish` (in that order), after every pypdf step.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from .. import __version__
from ..model import Addendum
from ..render.visible_text import display
from .policy import (
    PROCESS_NOTES,
    Policy,
    Refusal,
    changes_kept,
    check_authorization,
    check_part2,
    is_part2,
    is_psychotherapy_note,
    load_policy,
    record_json,
)

__all__ = ["build_packet", "finish", "Packet", "PacketRefused", "PacketError", "PolicyError", "Refusal",
           "RECORDS_JSON", "MANIFEST_JSON", "FHIR_JSON"]

RECORDS_JSON = "records.json"
MANIFEST_JSON = "manifest.json"
#: ``docgen packet --fhir``: the packet's records as a FHIR R4 Bundle, next to records.json.
FHIR_JSON = "records.fhir.json"


from ..errors import PacketError, PacketRefused, PolicyError  # noqa: E402


@dataclass
class Packet:
    pdf: bytes
    manifest: dict
    records: list[dict] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)  # always empty for a packet that was built
    bundle: dict | None = None  # with fhir=True: the FHIR Bundle attached
    payer: object = None  # the payer the cover names (for a CDex submission)
    provider_npi: str | None = None


def _json_bytes(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _in_force(plans: list, start: date, end: date) -> list:
    """Plans in force in [start, end]: dated on or before ``end`` and not superseded (by the client's
    next plan) before ``start``. A missed review does not end a plan (plan-review flags it instead)."""
    ordered = sorted(plans, key=lambda p: (p.plan_date, p.id))
    kept = []
    for i, plan in enumerate(ordered):
        later = [p.plan_date for p in ordered[i + 1:] if p.plan_date > plan.plan_date]
        until = (min(later) - timedelta(days=1)) if later else None
        if plan.plan_date <= end and (until is None or until >= start):
            kept.append(plan)
    return kept


def _order(result) -> tuple:
    """Plans first, then notes and addenda by date."""
    return result.kind != "treatment_plan", result.record.service_date, result.id


def _sig_before_claim(note, day: date) -> list[Refusal]:
    """sig-before-claim: a note sent for payment is signed by its clinician on or before the disclosure."""
    signed = [s for s in note.signatures if s.role.value == "clinician" and s.date is not None]
    if not signed:
        return [Refusal(note.id, "signatures", "sig-before-claim", "not signed by its clinician before the packet")]
    if min(s.date for s in signed) > day:
        return [Refusal(note.id, "signatures", "sig-before-claim",
                        f"signed {min(s.date for s in signed).isoformat()}, "
                        f"after the disclosure date {day.isoformat()}")]
    return []


def build_packet(paths: Iterable[str | os.PathLike], client: str, purpose: str, recipient: str,
                 period_from: date | None = None, period_to: date | None = None, profile: str | None = None,
                 allow_draft: bool = False, disclosure: date | None = None,
                 templates: str | os.PathLike | None = None, fhir: bool = False) -> Packet:
    """The packet for ``client`` as unencrypted, unsigned PDF bytes with its manifest. Raises
    :class:`PacketRefused` (nothing is made) or :class:`PacketError` (usage). ``fhir``: attach the
    records as a FHIR R4 Bundle too (``records.fhir.json``, minimum necessary as records.json)."""
    from ..check import load_profile  # noqa: PLC0415
    from ..compose import compose  # noqa: PLC0415
    from ..findings import Status  # noqa: PLC0415
    from ..load import source_file  # noqa: PLC0415
    from ..model.digest import content_hash  # noqa: PLC0415
    from ..pipeline import judge_paths  # noqa: PLC0415
    from ..render import Renderer, metadata_for  # noqa: PLC0415
    from .assemble import Part, assemble, sha256  # noqa: PLC0415
    from .cover import WITHHELD_PN, CoverData, Entry, compose_cover  # noqa: PLC0415

    day = disclosure or date.today()
    recipient = " ".join((recipient or "").split())
    if not recipient:
        raise PacketError("--recipient is empty")
    if period_from and period_to and period_from > period_to:
        raise PacketError("--from is after --to")
    # Each record is judged on its own date (a review due after the plan date is not past for the plan's
    # period); what the disclosure decides (consents, the Part 2 notice, sig-before-claim) uses ``day``.
    results = judge_paths(paths, profile=profile, as_of=None)  # a bad profile: ProfileError, a usage error
    mine = [r for r in results if r.client == client]
    refusals: list[Refusal] = [Refusal(r.id or "(no id)", f.path, f.rule, f.message)
                               for r in mine if r.status is Status.invalid for f in r.findings]
    valid = [r for r in mine if r.record is not None]
    if not valid and not refusals:
        raise PacketError(f"no record of client {client} in the input")
    plans_all = [r.record for r in valid if r.kind == "treatment_plan"]
    dates = [r.record.service_date for r in valid]
    start = period_from or (min(dates) if dates else day)
    end = period_to or day
    chosen_plans = {p.id for p in _in_force(plans_all, start, end)}
    picked, withheld = [], []
    for r in sorted(valid, key=_order):
        rec = r.record
        if r.kind == "treatment_plan" and rec.id not in chosen_plans:
            continue
        if r.kind == "progress_note" and not (start <= rec.session_date <= end):
            continue
        if r.kind == "addendum":
            continue  # below: once the documents it may amend are chosen
        if is_psychotherapy_note(rec):
            withheld.append((rec.id, rec.session_date, WITHHELD_PN))
            continue
        picked.append(r)
    # an addendum goes with the document it amends, when it was written by the end of the period
    chosen = {r.record.id for r in picked}
    picked = sorted(picked + [r for r in valid if r.kind == "addendum" and r.record.original.id in chosen
                              and r.record.date <= end], key=_order)
    # the packet's own settings: --profile, else the profile of its first record (all extend default)
    prof = load_profile(profile or (picked[0].profile if picked else "default"))  # ProfileError: usage
    policy: Policy = load_policy(prof)  # PolicyError (a PacketError): usage
    use = policy.purpose(purpose)
    if not picked and not refusals:
        refusals.append(Refusal("packet", "period", "packet",
                                f"no plan or note of client {client} "
                                f"between {start.isoformat()} and {end.isoformat()}"))
    for r in picked:
        if r.status is Status.incomplete and not allow_draft:
            refusals.extend(Refusal(r.record.id, f.path, f.rule, f.message) for f in r.blockers)
        if r.kind == "progress_note" and use.tpo == "payment":
            refusals.extend(_sig_before_claim(r.record, day))
    subject = picked[0].record.id if picked else "packet"
    part2_ids = [r.record.id for r in picked if is_part2(r.record, policy)]
    part2_consent = authorization = None
    if part2_ids:
        part2_consent, found = check_part2(plans_all, part2_ids, recipient, use, day, subject)
        refusals.extend(found)
    if use.tpo == "":
        authorization, found = check_authorization(plans_all, recipient, day, subject)
        refusals.extend(found)
    if refusals:
        raise PacketRefused(list(dict.fromkeys(refusals)))

    # --- render ---------------------------------------------------------------------------------
    renderer = Renderer(("pdf",), templates).pdf
    parts, entries, attached = [], [], []
    omitted: dict[str, tuple[str, ...]] = {}  # kind -> titles of the sections the purpose leaves out
    for r in picked:
        rec = r.record
        draft = r.status is Status.incomplete
        shown, changes_withheld = changes_kept(rec, use) if isinstance(rec, Addendum) else (rec, ())
        doc = compose(shown, r.findings, r.profile or "", draft=draft, assets=Path(source_file(r.source)).parent,
                      signers=r.signers)
        keep = set(use.sections(rec.kind))
        left_out = tuple(s.title for s in doc.sections if s.key not in keep) + tuple(
            f"changes to {title}" for title in changes_withheld)
        if left_out:
            kind = {"treatment_plan": "Treatment plan", "addendum": "Addenda"}.get(rec.kind, "Progress notes")
            omitted[kind] = tuple(dict.fromkeys(omitted.get(kind, ()) + left_out))
        doc = dataclasses.replace(doc, sections=tuple(s for s in doc.sections if s.key in keep))
        pdf, marks = renderer.render_with_sections(doc, metadata_for(rec, r.profile or "", content_hash(rec)),
                                                   rec.service_date.strftime("%Y%m%d"))
        title = f"{doc.title} {rec.id}"
        entries.append(Entry(rec, doc.title, draft, pages=_page_count(pdf), sections=marks))
        parts.append(Part(f"{title} ({rec.service_date.isoformat()})", pdf, [(t, i) for _k, t, i in marks]))
        data = record_json(rec, use)
        if PROCESS_NOTES in data:  # never: record_json leaves them out; a guard that -O cannot drop
            raise PacketError(f"record {rec.id}: psychotherapy notes would leave in records.json")
        attached.append(data)
    first = picked[0].record
    packet_id = f"PKT-{client}-{day.strftime('%Y%m%d')}-{use.name}"
    part2_notice = policy.notice(day) if part2_ids else None
    cover_data = CoverData(packet_id, use, recipient, day, (start, end), prof.name, entries, withheld,
                           part2_notice, part2_consent, authorization, omitted)
    latest_plan = max((e.record for e in entries if e.record.kind == "treatment_plan"),
                      key=lambda p: p.plan_date, default=None)
    payer = (latest_plan or first).payer
    cover_pages = 1
    for _attempt in range(5):  # the index's page numbers depend on the cover's own length
        page = cover_pages + 1
        for entry in entries:
            entry.first_page, page = page, page + entry.pages
        cover = compose_cover(cover_data, first.client, first.agency, payer)
        cover_pdf, cover_marks = renderer.render_with_sections(
            cover, {"title": f"Disclosure packet {packet_id}", "creator": f"docgen {__version__}"},
            day.strftime("%Y%m%d"))
        if _page_count(cover_pdf) == cover_pages:
            break
        cover_pages = _page_count(cover_pdf)
    parts.insert(0, Part("Packet cover", cover_pdf, [(t, i) for _k, t, i in cover_marks]))

    records_bytes = _json_bytes({"records": attached})
    attachments = {RECORDS_JSON: records_bytes}
    bundle = None
    if fhir:
        from ..fhir.export import export_client, to_json  # noqa: PLC0415

        exported = export_client(client, [r.record for r in picked], shape=lambda rec: record_json(rec, use),
                                 part2=lambda rec: is_part2(rec, policy))
        bundle = exported.bundle
        attachments[FHIR_JSON] = to_json(exported)
    manifest = {
        "docgen": __version__, "packet_id": packet_id, "client": client, "purpose": use.name, "tpo": use.tpo or None,
        "recipient": recipient, "period": {"from": start.isoformat(), "to": end.isoformat()},
        "disclosure_date": day.isoformat(), "profile": prof.name,
        # both there with Part 2 records (without a consent the packet was refused), neither without
        "part2": {"records": part2_ids, "notice": part2_notice.version, "consent": part2_consent.label}
        if part2_notice is not None and part2_consent is not None else None,
        "authorization": authorization.label if authorization else None,
        "cover_pages": cover_pages, "total_pages": cover_pages + sum(e.pages for e in entries),
        "documents": [{"id": e.record.id, "kind": e.record.kind, "title": e.title, "date": e.date.isoformat(),
                       "status": "draft" if e.draft else "final", "first_page": e.first_page, "pages": e.pages,
                       "content_sha256": content_hash(e.record),
                       "sections": [k for k, _t, _i in e.sections]} for e in entries],
        "withheld": [{"id": rid, "date": d.isoformat(), "reason": why} for rid, d, why in withheld],
        "attachments": {name: sha256(blob) for name, blob in attachments.items()},
    }
    info = {"/Title": f"Disclosure packet {packet_id}",
            "/Subject": f"packet; client {client}; purpose {use.name}; disclosed {day.isoformat()}",
            "/Author": display(first.agency.name), "/Creator": f"docgen {__version__}",
            "/Producer": f"docgen {__version__}",
            "/Keywords": f"docgen; packet={packet_id}; client={client}; purpose={use.name}",
            "/CreationDate": f"D:{day.strftime('%Y%m%d')}000000+00'00'",
            "/ModDate": f"D:{day.strftime('%Y%m%d')}000000+00'00'"}
    margin = renderer.style.margin_inch * 72
    pdf = assemble(parts, client, {**attachments, MANIFEST_JSON: _json_bytes(manifest)}, info, margin)
    provider = next((c.npi for e in entries for c in getattr(e.record, "clinicians", [])
                     if c.id == e.record.author_id and c.npi), None)  # the first author with an NPI (CDex)
    return Packet(pdf, manifest, attached, bundle=bundle, payer=payer, provider_npi=provider)


def _page_count(pdf: bytes) -> int:
    from pypdf import PdfReader  # noqa: PLC0415

    return len(PdfReader(io.BytesIO(pdf)).pages)


def finish(pdf: bytes, password: bytes | None = None, signer=None, sign_role: str | None = None) -> bytes:
    """The last steps, in this order: AES-256 encryption (with ``password``), then a certificate
    signature (``signer`` from :func:`docgen.sign.load_key`) over the encrypted file."""
    from .assemble import encrypt  # noqa: PLC0415

    if password is not None:
        pdf = encrypt(pdf, password)
    if signer is not None:
        pdf = signer.sign(pdf, role=sign_role, reason="Disclosure packet", password=password)
    return pdf
