"""CPT code groups of the psychiatry section that the note rules, and the index of a run's notes by
client and day, share (AMA CPT; rules.md pt-*, crisis-time, ic-90785, eval-9079x)."""
from __future__ import annotations

PSYCHOTHERAPY = ("90832", "90834", "90837")
ADDON = ("90833", "90836", "90838")  # psychotherapy with an E/M service
CRISIS, CRISIS_ADDON = "90839", "90840"
FAMILY = ("90846", "90847")
GROUP = "90853"
INTERACTIVE = "90785"
EVALUATION = ("90791", "90792")

#: Not billed on the day of crisis psychotherapy 90839 (CPT psychotherapy guidelines; NCCI edits).
CRISIS_EXCLUDES = (*EVALUATION, *PSYCHOTHERAPY, *ADDON, *FAMILY, GROUP)
#: Psychotherapy not billed on the day of a diagnostic evaluation 90791/90792 (crisis: see above).
EVALUATION_EXCLUDES = (*PSYCHOTHERAPY, *ADDON, *FAMILY, GROUP)
#: The codes a same-day rule compares across a client's notes of one day.
SAME_DAY = frozenset((CRISIS, *CRISIS_EXCLUDES))
#: A day matters to the same-day rules only when one of its notes bills one of these.
SAME_DAY_TRIGGERS = frozenset((CRISIS, *EVALUATION))


def is_em(code: str) -> bool:
    """Evaluation and management codes (99202-99499)."""
    return code.isdigit() and 99202 <= int(code) <= 99499
