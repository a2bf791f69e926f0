"""42 CFR Part 2 (2024 rule) on the consents a Part 2 program keeps with the plan (rules.md p2-separate)."""
from __future__ import annotations

from ...model import ConsentType, TreatmentPlan
from ..registry import PLAN, rule


def _names(text: str | None, terms: list[str]) -> bool:
    lowered = (text or "").lower()
    return any(term in lowered for term in terms)


@rule("p2-separate", applies_to=[PLAN], severity="blocker",
      source=["42 CFR 2.31(b), (d): consents for SUD counseling notes and for legal proceedings stand apart "
              "[cfr-42-2.31]"],
      summary="In a Part 2 program, a consent for SUD counseling notes stands on its own form, and a consent for use "
              "in legal proceedings is combined with no other purpose (consents sharing an id are one form)",
      program_types=["substance_use", "co_occurring"],
      counseling_note_terms=["counseling note", "counselling note", "psychotherapy note", "process note"],
      proceeding_terms=["legal proceeding", "civil proceeding", "criminal proceeding", "administrative proceeding",
                        "legislative proceeding", "litigation", "testimony", "subpoena"],
      other_purpose_terms=["treatment", "payment", "operations", "billing", "insurance", "coordination", "continuity",
                           "employment", "research"])
def part2_separate(plan: TreatmentPlan, ctx):
    p = ctx.params
    if not (plan.agency.part2_program or plan.agency.program_type.value in p["program_types"]):
        return
    consents = list(enumerate(plan.consents))
    notes = {i for i, c in consents if c.type is ConsentType.psychotherapy_notes_authorization}
    legal = {i for i, c in consents if _names(c.purpose, p["proceeding_terms"])}
    forms: dict[str, list[int]] = {}
    for i, consent in consents:
        if consent.id is not None:
            forms.setdefault(consent.id, []).append(i)
    for form_id, members in forms.items():
        counseling = [i for i in members if i in notes]
        if counseling and len(counseling) < len(members):
            yield (f"consents[{counseling[0]}]",
                   f"consent form {form_id} combines consent for SUD counseling notes with other consents: it may "
                   "only be combined with another consent for SUD counseling notes (42 CFR 2.31(b))")
        proceedings = [i for i in members if i in legal]
        if proceedings and len(proceedings) < len(members):
            yield (f"consents[{proceedings[0]}]",
                   f"consent form {form_id} combines consent for use in legal proceedings with consent for another "
                   "purpose (42 CFR 2.31(d))")
    for i, consent in consents:
        if consent.type is ConsentType.part2 and _names(consent.information_description, p["counseling_note_terms"]):
            yield (f"consents[{i}].information_description",
                   "a general Part 2 consent names SUD counseling notes: they need a consent of their own (type "
                   "psychotherapy_notes_authorization, 42 CFR 2.31(b))")
        if i in legal and _names(consent.purpose, p["other_purpose_terms"]):
            yield (f"consents[{i}].purpose",
                   "consent for use in legal proceedings is combined with another purpose (42 CFR 2.31(d))")
