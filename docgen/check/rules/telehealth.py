"""Telehealth: delivery, place of service and modifiers agree; where the patient and the clinician were;
Medicare's place of service and audio-only conditions (profile parameters)."""
from __future__ import annotations

from ...model import Delivery, ProgressNote
from ...model.note import TELEHEALTH_POS, SiteKind
from ..registry import NOTE, rule

#: Modifiers that say a service was delivered by telehealth: video (95 CPT, GT institutional CAH) and
#: audio-only (93 CPT, FQ RHC/FQHC, GQ store-and-forward in demonstrations).
VIDEO_MODIFIERS = ("95", "GT")
AUDIO_MODIFIERS = ("93", "FQ")
TELEHEALTH_MODIFIERS = (*VIDEO_MODIFIERS, *AUDIO_MODIFIERS, "GQ")


def _missing(note: ProgressNote, wanted: list[str]) -> list[str]:
    """The codes of ``note`` that carry none of the modifiers ``wanted``."""
    return [code for code, modifiers in note.lines if not set(modifiers) & set(wanted)]


@rule("telehealth", applies_to=[NOTE], severity="blocker",
      source=["CMS place-of-service codes 02 and 10 [cms-pos-codes]",
              "42 CFR 410.78(a)(3): audio-only mental health with the patient at home [cfr-42-410.78]"],
      summary="Delivery, place of service and telehealth modifiers agree (POS 10: the patient at home); where the "
              "profile asks: a telehealth place of service, a modifier on each code, the patient at home and the "
              "reason for audio-only, and where the patient and the clinician were",
      pos_codes=[], video_modifiers=[], audio_modifiers=[], audio_home_only=False, audio_reason=False,
      locations=False)
def telehealth(note: ProgressNote, ctx):
    p = ctx.params
    flagged = sorted({m for _, modifiers in note.lines for m in modifiers if m in TELEHEALTH_MODIFIERS})
    if note.delivery is Delivery.in_person:
        if note.place_of_service in TELEHEALTH_POS:
            yield ("place_of_service", f"place of service {note.place_of_service} is telehealth, but the note says "
                                       "the session was in person (delivery)")
        if flagged:
            yield "cpt_codes", f"telehealth modifier {', '.join(flagged)} on a session delivered in person"
        return
    audio = note.delivery is Delivery.telehealth_audio
    wrong = [m for m in flagged if m in (VIDEO_MODIFIERS if audio else AUDIO_MODIFIERS)]
    if wrong:
        yield ("cpt_codes", f"modifier {', '.join(wrong)} says {'video' if audio else 'audio-only'}, but the session "
                            f"was {'audio-only' if audio else 'by video'} (delivery)")
    where = note.patient_location
    if where is not None and note.place_of_service == "10" and where.kind is not SiteKind.home:
        yield "place_of_service", f"place of service 10 is the patient's home; the patient was at: {where.kind.value}"
    if where is not None and note.place_of_service == "02" and where.kind is SiteKind.home:
        yield "place_of_service", "the patient was at home: the place of service is 10, not 02"
    if p["pos_codes"] and note.place_of_service not in p["pos_codes"]:
        yield ("place_of_service", f"telehealth is billed with place of service {' or '.join(p['pos_codes'])} for "
                                   f"this payer; {note.place_of_service} given")
    wanted = p["audio_modifiers"] if audio else p["video_modifiers"]
    if wanted:
        missing = _missing(note, wanted)
        if missing:
            yield ("cpt_codes", f"{'audio-only' if audio else 'video'} telehealth: modifier {' or '.join(wanted)} "
                                f"missing on {', '.join(missing)}")
    if audio and p["audio_home_only"] and where is not None and where.kind is not SiteKind.home:
        yield ("patient_location", "audio-only telehealth is covered only with the patient at home; the patient "
                                   f"was at: {where.kind.value}")
    if audio and p["audio_reason"] and not (note.audio_only_reason or "").strip():
        yield ("audio_only_reason", "audio-only telehealth: the note does not say why video was not used (the "
                                    "client cannot use, or does not consent to, video)")
    if p["locations"]:
        if where is None:
            yield "patient_location", "telehealth: the note does not record where the patient was"
        if note.clinician_location is None:
            yield "clinician_location", "telehealth: the note does not record where the clinician was"
