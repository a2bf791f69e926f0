"""Compose: build the format-neutral :class:`Document` of a checked record."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, time
from enum import Enum
from pathlib import Path

from ..findings import Finding, Severity
from ..model import PHQ9, Addendum, CSSRSScreener, ProgressNote, SignatureMethod, SignerRole, TreatmentPlan
from ..model.assessments import GAD7_BANDS, PHQ9_BANDS
from .blocks import Block, Bullets, Chart, Document, Fields, Notice, Para, Section, Series, SignatureLine, Table
from .wording import enum_words, finding_words, place_of_service, role_words, where, yes_no

__all__ = ["compose", "document_title", "Document", "Section", "Para", "Fields", "Bullets", "Table", "Chart",
           "SignatureLine", "Notice", "fmt_date", "agency_lines"]

ROLE_LABEL = {role: role_words(role) for role in SignerRole}
NBSP = "\u00a0"  # between a date and its time: never broken apart at the end of a line


def fmt_date(day: date | None) -> str:
    return day.strftime("%m/%d/%Y") if day else ""


def fmt_time(moment: time | None) -> str:
    return moment.strftime("%H:%M") if moment else ""


def label(value: Enum | str | None) -> str:
    """An enum value in words (:func:`.wording.enum_words`)."""
    return enum_words(value)


def _fields(pairs: Iterable[tuple[str, str | None]], heading: str = "") -> Fields | None:
    rows = tuple((k, v) for k, v in pairs if v not in (None, ""))
    return Fields(rows, heading) if rows else None


def _blocks(*blocks: Block | None) -> tuple[Block, ...]:
    return tuple(b for b in blocks if b is not None)


def _section(key: str, title: str, *blocks: Block | None) -> Section | None:
    kept = _blocks(*blocks)
    return Section(key, title, kept) if kept else None


# --- shared sections ----------------------------------------------------------------------------
def _assessment_blocks(assessments: Sequence) -> tuple[Block, ...]:
    scales = [a for a in assessments if not isinstance(a, CSSRSScreener)]
    screens = [a for a in assessments if isinstance(a, CSSRSScreener)]
    blocks: list[Block] = []
    if scales:
        rows = []
        for a in sorted(scales, key=lambda s: (s.date, s.instrument)):
            name = {"phq9": "PHQ-9", "gad7": "GAD-7", "pcl5": "PCL-5"}[a.instrument]
            total = "incomplete" if a.total is None else str(a.total)
            severity = getattr(a, "severity", None) or ""
            extra = f"item 9: {a.item9}" if isinstance(a, PHQ9) and a.item9 else ""
            rows.append((fmt_date(a.date), name, total, severity.capitalize() if severity else "", extra))
        blocks.append(Table(("Date", "Instrument", "Total", "Severity", "Note"), tuple(rows),
                            (0.16, 0.16, 0.12, 0.26, 0.30)))
        for instrument, name, maximum, bands in (("phq9", "PHQ-9", 27, PHQ9_BANDS), ("gad7", "GAD-7", 21, GAD7_BANDS)):
            points = tuple((fmt_date(a.date), a.total) for a in sorted(scales, key=lambda s: s.date)
                           if a.instrument == instrument and a.total is not None)
            if len(points) >= 2:
                spans = tuple((low, (bands[i + 1][0] - 1) if i + 1 < len(bands) else maximum, band_name)
                              for i, (low, band_name) in enumerate(bands))
                blocks.append(Chart(f"{name} over time", Series(name, points, maximum, spans)))
    for screen in screens:
        answers = [("Wish to be dead", screen.wish_to_be_dead), ("Suicidal thoughts", screen.suicidal_thoughts),
                   ("Thoughts with method", screen.thoughts_with_method), ("Intent", screen.intent),
                   ("Plan with intent", screen.plan_with_intent),
                   ("Suicidal behavior (lifetime)", screen.suicidal_behavior_lifetime),
                   ("Behavior in past 3 months", screen.behavior_past_3_months)]
        text = "; ".join(f"{q}: {'yes' if a else 'no'}" for q, a in answers if a is not None)
        blocks.append(Para(f"{text}. Screener risk level: {label(screen.risk_level)}.",
                           label=f"C-SSRS screener, {fmt_date(screen.date)}"))
    return tuple(blocks)


def _risk_fields(risk, heading: str = "") -> Fields | None:
    if risk is None:
        return None
    return _fields([
        ("Date", fmt_date(risk.date)), ("Method", risk.method), ("Overall risk level", label(risk.level)),
        ("Ideation", risk.ideation), ("Plan", risk.plan), ("Intent", risk.intent), ("Behaviors", risk.behaviors),
        ("Risk factors", risk.risk_factors), ("Protective factors", risk.protective_factors),
        ("Mitigation", risk.mitigation), ("Follow-up", risk.follow_up),
    ], heading)


def _clinician_of(doc, sig):
    """The record's clinician who made ``sig`` (by signer id, else by name), or None."""
    staff = list(getattr(doc, "clinicians", None) or [getattr(doc, "clinician", None)])
    return next((c for c in staff if c is not None and sig.signer_id is not None and c.id == sig.signer_id),
                next((c for c in staff if c is not None and sig.signer_id is None and c.name == sig.name), None))


def signature_text(sig, doc=None) -> str:
    """How a signature reads on the page (rules.md sig-electronic); a clinician's NPI (from ``doc``,
    the record) on a line of its own."""
    who = sig.name + (f", {sig.credentials}" if sig.credentials else "")
    when = fmt_date(sig.date) + (f"{NBSP}{fmt_time(sig.time)}" if sig.time else "")
    verb = {SignatureMethod.electronic: "Electronically signed by", SignatureMethod.handwritten_scan: "Signed by",
            SignatureMethod.wet_ink: "Signed in ink by", SignatureMethod.typed: "Typed name (not a signature):",
            SignatureMethod.stamp: "Stamped by"}[sig.method]
    text = f"{verb} {who}" + (f" on {when}" if when else "")
    clinician = _clinician_of(doc, sig) if doc is not None else None
    if clinician is not None and clinician.npi:
        text += f"\nNPI {clinician.npi}"
    if sig.attestation is not None:
        text += f"\nAttestation by {sig.attestation.by}, {fmt_date(sig.attestation.date)}: {sig.attestation.text}"
    return text


def _image(path: str | None, assets: Path | None) -> str | None:
    if not path:
        return None
    candidate = Path(path) if Path(path).is_absolute() or assets is None else assets / path
    return str(candidate)


def _signature_section(doc, required: Sequence[SignerRole], assets: Path | None = None) -> Section:
    lines: list[SignatureLine] = []
    present = set()
    order = [SignerRole.clinician, SignerRole.supervisor, SignerRole.psychiatrist, SignerRole.client,
             SignerRole.guardian, SignerRole.other]
    for role in order:
        for sig in (s for s in doc.signatures if s.role is role):
            lines.append(SignatureLine(ROLE_LABEL[role], signature_text(sig, doc), True, _image(sig.image, assets),
                                       role.value))
            present.add(role)
        if role in required and role not in present:
            lines.append(SignatureLine(ROLE_LABEL[role], "", False, key=role.value))
    return Section("signatures", "Signatures", tuple(lines))


def _required_roles(doc, findings: Sequence[Finding], signers: Sequence[str] = ()) -> list[SignerRole]:
    """Who gets a signature line: ``signers`` (the roles the profile requires, from the check), or
    without them the default profile's (the author; the client, or a minor's guardian, on plans);
    and the supervisor when a co-signature is due or given."""
    if signers:
        roles = [SignerRole(role) for role in signers]
    else:
        roles = [SignerRole.clinician]
        if doc.kind == "treatment_plan":
            roles.append(SignerRole.guardian if doc.client.age_on(doc.service_date) < 18 else SignerRole.client)
    cosign = (any(f.rule == "sig-cosign" for f in findings)
              or any(s.role is SignerRole.supervisor for s in doc.signatures))
    if cosign and SignerRole.supervisor not in roles:
        roles.append(SignerRole.supervisor)
    return roles


def agency_lines(agency) -> tuple[str, ...]:
    """The lines under an agency's name in a header: program, address, phone, NPI."""
    return tuple(x for x in (agency.program, (agency.address or "").replace("\n", ", "), agency.phone,
                             f"NPI {agency.npi}" if agency.npi else None) if x)


def _header(doc) -> tuple[str, tuple[str, ...]]:
    return doc.agency.name, agency_lines(doc.agency)


def _missing(findings: Sequence[Finding], record=None) -> tuple[Notice, ...]:
    """A draft's list of what is missing: each blocker in words (:mod:`.wording`), its rule apart."""
    return tuple(Notice(finding_words(f.path, f.message, record), f.rule)
                 for f in findings if f.severity is Severity.blocker)


def _target(baseline: str | None, target: str | None) -> str:
    """An objective's baseline and target, either of which may be missing."""
    if baseline and target:
        return f"Baseline {baseline} \u2192 target {target}"
    if target:
        return f"Target {target}"
    return f"Baseline {baseline}" if baseline else ""


# --- treatment plan -----------------------------------------------------------------------------
def _plan_sections(plan: TreatmentPlan, findings: Sequence[Finding], assets: Path | None,
                   signers: Sequence[str] = ()) -> tuple[Section, ...]:
    c = plan.client
    author = plan.author
    guardian = f"{c.guardian.name} ({c.guardian.relationship})" if c.guardian else None
    ident = _fields([
        ("Client", c.name), ("Client ID", c.id),
        ("Date of birth", f"{fmt_date(c.date_of_birth)} (age {c.age_on(plan.plan_date)})"),
        ("Gender / pronouns", " / ".join(x for x in (c.gender, c.pronouns) if x)), ("Preferred language",
         (c.preferred_language or "") + (" (interpreter needed)" if c.interpreter_needed else "")),
        ("Guardian", guardian),
        ("Payer", f"{plan.payer.name}" + (f", member {plan.payer.member_id}" if plan.payer.member_id else "")),
        ("Level of care", label(plan.level_of_care)), ("Intake date", fmt_date(plan.intake_date)),
        ("Authorized", fmt_date(plan.authorization_date) if plan.authorization_date else None),
        ("Plan date", fmt_date(plan.plan_date)),
        ("Plan type", " of ".join(x for x in (label(plan.plan_type), plan.previous_plan_id) if x)
         if plan.previous_plan_id or plan.plan_type.value != "initial" else None),
        ("Next review", fmt_date(plan.next_review_date)),
        ("Primary clinician", f"{author.name}, {author.credentials}" + (f" ({author.title})" if author.title else "")),
    ])
    h = plan.history
    history = _fields([
        ("Psychosocial", h.psychosocial), ("Onset of symptoms", h.symptom_onset),
        ("Psychiatric history", h.psychiatric_history), ("Treatment history", h.treatment_history),
        ("Medical conditions", h.medical_conditions), ("Medications", "\n".join(h.medications)),
        ("Substance use", h.substance_use), ("Family history", h.family_history), ("Sleep", h.sleep),
        ("Diet", h.diet), ("Activity", h.activity), ("Culture and values", h.culture_and_values),
        ("Education / employment", h.education_employment), ("Living situation", h.living_situation),
        ("Legal", h.legal),
    ])
    concerns = (Para(plan.presenting_concerns) if plan.presenting_concerns else None,
                Para(plan.presenting_concerns_client_words, "quote", "In the client's words")
                if plan.presenting_concerns_client_words else None)
    dx = _diagnosis_table(plan.diagnoses)
    person = (Para(plan.client_vision, "quote", "The person's vision") if plan.client_vision else None,
              Bullets("Strengths", tuple(plan.strengths)) if plan.strengths else None,
              Bullets("Needs", tuple(plan.needs)) if plan.needs else None,
              Bullets("Barriers", tuple(plan.barriers)) if plan.barriers else None,
              Bullets("Preferences", tuple(plan.preferences)) if plan.preferences else None,
              Bullets("Supports", tuple(plan.supports)) if plan.supports else None)
    goals = tuple((g.id, label(g.category), g.statement, g.client_words or "", fmt_date(g.target_date))
                  for g in plan.goals)
    objectives = tuple((g.id, o.id, o.description,
                        "\n".join(x for x in (o.measure, _target(o.baseline, o.target)) if x),
                        fmt_date(o.target_date), label(o.status))
                       for g in plan.goals for o in g.objectives)
    interventions = tuple((g.id, label(i.modality) + (f" ({i.therapy_type.value})" if i.therapy_type else ""),
                           i.description,
                           ", ".join(x for x in (i.frequency, f"{i.session_minutes} min" if i.session_minutes else None,
                                                 i.duration) if x), i.responsible or "")
                          for g in plan.goals for i in g.interventions)
    progress = tuple((g.id, fmt_date(p.date), p.summary, p.rating or "") for g in plan.goals for p in g.progress)
    goal_blocks = (
        Table(("Goal", "Category", "Goal statement", "In the person's words", "Target date"), goals,
              (0.07, 0.15, 0.36, 0.27, 0.15), "Goals") if goals else None,
        Table(("Goal", "Objective", "Description", "Measure", "Target date", "Status"), objectives,
              (0.07, 0.11, 0.30, 0.23, 0.14, 0.15), "Objectives") if objectives else None,
        Table(("Goal", "Modality", "Intervention", "Frequency / amount / duration", "Responsible"), interventions,
              (0.07, 0.18, 0.34, 0.22, 0.19), "Interventions") if interventions else None,
        Table(("Goal", "Date", "Progress", "Rating"), progress,
              (0.08, 0.14, 0.62, 0.16), "Progress") if progress else None,
    )
    mn = plan.medical_necessity
    necessity = _fields([(name.capitalize(), getattr(mn, name)) for name in mn.COMPONENTS]) if mn else None
    safety = _safety_fields(plan.safety_plan)
    consents = Table(("Consent", "Signed by", "Date signed", "Expires"),
                     tuple((label(x.type),
                            (x.signed_by or "not signed") + (f" ({label(x.signer_role)})" if x.signer_role else ""),
                            fmt_date(x.date_signed), fmt_date(x.expires) or (x.expiration_event or ""))
                           for x in plan.consents), (0.30, 0.34, 0.16, 0.20)) if plan.consents else None
    discharge = _fields([("Discharge criteria", plan.discharge_criteria),
                         ("Projected length of stay", plan.projected_length_of_stay)])
    sections = [
        _section("identifying", "Identifying information", ident),
        _section("history", "History and assessment", history),
        _section("concerns", "Presenting concerns", *concerns),
        _section("diagnoses", "Diagnoses", dx),
        _section("person", "Strengths, needs and preferences", *person),
        _section("goals", "Goals, objectives and interventions", *goal_blocks),
        _section("measures", "Measurement-based care", *_assessment_blocks(plan.assessments)),
        _section("risk", "Risk assessment", _risk_fields(plan.risk_assessment)),
        _section("safety", "Safety plan", safety),
        _section("necessity", "Medical necessity", necessity),
        _section("consents", "Consents", consents),
        _section("discharge", "Discharge and transition", discharge),
        _signature_section(plan, _required_roles(plan, findings, signers), assets),
    ]
    return tuple(s for s in sections if s is not None)


# --- progress note ------------------------------------------------------------------------------
SECTION_TITLES = {"subjective": "Subjective", "objective": "Objective", "assessment": "Assessment", "plan": "Plan",
                  "behavior": "Behavior", "intervention": "Intervention", "response": "Response", "data": "Data",
                  "goal": "Goal"}


def _diagnosis_table(diagnoses: Sequence) -> Table | None:
    """Diagnoses as a table: code, description, primary or secondary (and status), supporting evidence."""
    if not diagnoses:
        return None
    return Table(("Code", "Diagnosis", "Type", "Supporting evidence"),
                 tuple((d.code, d.description or "", ("Primary" if d.primary else "Secondary")
                        + (f", {d.status}" if d.status else ""), d.supporting_evidence or "") for d in diagnoses),
                 (0.12, 0.33, 0.17, 0.38))


def _safety_fields(sp) -> Fields | None:
    """A Stanley-Brown safety plan, section by section."""
    if sp is None:
        return None
    return _fields([
        ("Warning signs", "\n".join(sp.warning_signs)), ("Internal coping strategies", "\n".join(sp.internal_coping)),
        ("People and places for distraction", "\n".join(sp.social_distraction)),
        ("People to ask for help", "\n".join(sp.help_contacts)),
        ("Professionals and crisis lines", "\n".join(sp.professional_contacts)),
        ("Making the environment safe", "\n".join(sp.lethal_means)), ("Date", fmt_date(sp.date)),
    ])


def _location(where) -> str | None:
    """Where the patient or clinician was in a telehealth session, in words."""
    if where is None:
        return None
    parts = [label(where.kind), where.state or "", where.description or ""]
    return ", ".join(p for p in parts if p)


def _note_sections(note: ProgressNote, findings: Sequence[Finding], assets: Path | None,
                   signers: Sequence[str] = ()) -> tuple[Section, ...]:
    c = note.client
    author = note.author
    minutes = note.clock_minutes
    times = ""
    if note.start_time and note.end_time:
        times = f"{fmt_time(note.start_time)}\u2013{fmt_time(note.end_time)}" + (f" ({minutes} min)" if minutes else "")
    elif note.start_time or note.end_time:
        times = f"from {fmt_time(note.start_time)}" if note.start_time else f"until {fmt_time(note.end_time)}"
    if note.psychotherapy_minutes is not None:
        times += ("; " if times else "") + f"psychotherapy {note.psychotherapy_minutes} min"
    session = _fields([
        ("Client", c.name), ("Client ID", c.id), ("Date of birth", fmt_date(c.date_of_birth)),
        ("Date of service", fmt_date(note.session_date)), ("Time", times), ("Service", label(note.service_type)),
        ("Delivery", label(note.delivery)),
        ("Place of service", place_of_service(note.place_of_service)),
        ("Patient's location", _location(note.patient_location)),
        ("Clinician's location", _location(note.clinician_location)),
        ("Reason for audio only", note.audio_only_reason),
        ("Participants", "; ".join(f"{p.name} ({p.role})" for p in note.participants)),
        ("Group size", str(note.group_size) if note.group_size else None),
        ("CPT codes", ", ".join(note.cpt_codes)),
        ("Interactive complexity", ", ".join(label(f) for f in note.interactive_complexity_factors)),
        ("Modalities", ", ".join(note.modalities)),
        ("Clinician", f"{author.name}, {author.credentials}"), ("Treatment plan", note.plan_id),
        ("Payer", note.payer.name + (f", member {note.payer.member_id}" if note.payer.member_id else "")),
    ])
    goals = Table(("Goal", "Objectives", "Progress"),
                  tuple((g.goal_id, ", ".join(g.objective_ids), g.progress or "") for g in note.goals_addressed),
                  (0.15, 0.25, 0.60)) if note.goals_addressed else None
    body = [Section(name, SECTION_TITLES[name], (Para(getattr(note, name) or ""),)) for name in note.sections]
    risk_update = _fields([("Risk level", label(note.risk_update.level)), ("Summary", note.risk_update.summary),
                           ("Changed since last session", yes_no(note.risk_update.changed_since_last))],
                          "Risk update") if note.risk_update else None
    ev = note.evaluation
    evaluation = _fields([(part[:1].upper() + part[1:], getattr(ev, name)) for name, part in ev.PARTS.items()]) \
        if ev else None
    sections = [
        _section("session", "Session", session),
        _section("diagnoses", "Diagnoses", _diagnosis_table(note.diagnoses)),
        _section("evaluation", "Diagnostic evaluation", evaluation),
        _section("goals", "Plan goals addressed", goals),
        *body,
        _section("prognosis", "Prognosis", Para(note.prognosis) if note.prognosis else None),
        _section("measures", "Measures", *_assessment_blocks(note.assessments)),
        _section("risk", "Risk", risk_update, _risk_fields(note.risk_assessment, "Risk assessment")),
        _section("safety", "Safety plan", _safety_fields(note.safety_plan)),
        _signature_section(note, _required_roles(note, findings, signers), assets),
    ]
    return tuple(s for s in sections if s is not None)


# --- addendum -----------------------------------------------------------------------------------
ORIGINAL_TITLE = {"treatment_plan": "Treatment Plan", "progress_note": "Progress Note"}


def _addendum_sections(add: Addendum, findings: Sequence[Finding], assets: Path | None,
                       signers: Sequence[str] = ()) -> tuple[Section, ...]:
    c = add.client
    author = add.author
    ref = add.original
    about = _fields([
        ("Client", c.name), ("Client ID", c.id), ("Date of birth", fmt_date(c.date_of_birth)),
        ("Addendum date", fmt_date(add.date) + (f" {fmt_time(add.time)}" if add.time else "")),
        ("Author", f"{author.name}, {author.credentials}" + (f" ({author.title})" if author.title else "")),
        ("Payer", add.payer.name + (f", member {add.payer.member_id}" if add.payer.member_id else "")
         if add.payer else None),
    ])
    original = _fields([
        ("Document", ORIGINAL_TITLE[ref.kind.value]), ("Record ID", ref.id), ("Date", fmt_date(ref.date)),
        ("Content hash (SHA-256)", ref.sha256),
    ])
    changes = Table(("Section", "Change"), tuple((where(item.section or ""), item.change) for item in add.changes),
                    (0.28, 0.72)) if add.changes else None
    sections = [
        _section("addendum", "Addendum", about),
        _section("original", "Original document", original),
        _section("changes", "Changes", changes),
        _section("reason", "Reason", Para(add.reason) if add.reason and add.reason.strip() else None),
        _signature_section(add, _required_roles(add, findings, signers), assets),
    ]
    return tuple(s for s in sections if s is not None)


def document_title(record) -> str:
    """The title a record's document carries: "Treatment Plan", "Progress Note (SOAP)",
    "Addendum to Treatment Plan of 09/22/2026"."""
    if isinstance(record, TreatmentPlan):
        return "Treatment Plan"
    if isinstance(record, Addendum):
        return f"Addendum to {ORIGINAL_TITLE[record.original.kind.value]} of {fmt_date(record.original.date)}"
    return f"Progress Note ({record.format.value.upper()})"


def compose(record: TreatmentPlan | ProgressNote | Addendum, findings: Sequence[Finding] = (), profile: str = "",
            draft: bool = False, assets: Path | None = None, signers: Sequence[str] = ()) -> Document:
    """The document for ``record``. ``draft`` marks it as a draft listing the blockers in ``findings``.
    ``assets``: the folder signature image paths are relative to (the record file's folder).
    ``signers``: the roles the profile requires a signature of (``RecordResult.signers``): each gets
    a line, signed or not.
    Psychotherapy process notes (``psychotherapy_notes``) are never composed into a document."""
    agency, lines = _header(record)
    c = record.client
    title = document_title(record)
    if isinstance(record, TreatmentPlan):
        template = "treatment_plan"
        date_line = f"Plan date: {fmt_date(record.plan_date)}"
        sections = _plan_sections(record, findings, assets, signers)
    elif isinstance(record, Addendum):
        template = "addendum"
        date_line = f"Addendum date: {fmt_date(record.date)}"
        sections = _addendum_sections(record, findings, assets, signers)
    else:
        template = record.format.value
        date_line = f"Date of service: {fmt_date(record.session_date)}"
        sections = _note_sections(record, findings, assets, signers)
    metadata = {"record_id": record.id, "kind": record.kind, "profile": profile}
    return Document(kind=record.kind, template=template, record_id=record.id, title=title, agency=agency,
                    agency_lines=lines, client_name=c.name, client_id=c.id, client_dob=fmt_date(c.date_of_birth),
                    date_line=date_line, sections=sections, draft=draft,
                    missing=_missing(findings, record) if draft else (), metadata=metadata)
