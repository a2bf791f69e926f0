"""Standardized instruments. Scores and bands are computed from item answers, never typed in.

PHQ-9: 9 items 0-3, total 0-27; bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately
severe, 20-27 severe (rules.md risk-score-valid, S25). GAD-7: 7 items 0-3, total 0-21; bands 0-4
minimal, 5-9 mild, 10-14 moderate, 15-21 severe (S26). PCL-5: 20 items 0-4, total 0-80 (S28).
C-SSRS screener: risk level by Columbia's item logic (rules.md risk-cssrs, S23), each screen used within
its recall window (questions 1-5 ask about the past month, question 6b about the past 3 months).
"""
from __future__ import annotations

import calendar
from datetime import date as _date
from enum import Enum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, computed_field

from .base import Date, Identifier, Strict

Item03 = Annotated[int, Field(ge=0, le=3)]
Item04 = Annotated[int, Field(ge=0, le=4)]


class RiskLevel(str, Enum):
    none = "none"
    low = "low"
    moderate = "moderate"
    high = "high"

    @property
    def rank(self) -> int:
        return _RISK_RANK[self]


_RISK_RANK = {RiskLevel.none: 0, RiskLevel.low: 1, RiskLevel.moderate: 2, RiskLevel.high: 3}


def band(total: int, bands: tuple[tuple[int, str], ...]) -> str:
    """Name of the band whose lower bound is the largest not above ``total``."""
    name = bands[0][1]
    for lower, label in bands:
        if total >= lower:
            name = label
    return name


PHQ9_BANDS = ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe"))
GAD7_BANDS = ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe"))


class _Scale(Strict):
    id: Identifier | None = None
    date: Date
    administered_by: str | None = None

    @property
    def complete(self) -> bool:
        return all(item is not None for item in self.items)  # type: ignore[attr-defined]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int | None:
        """Sum of the items; None while any item is unanswered."""
        return sum(self.items) if self.complete else None  # type: ignore[attr-defined]


class PHQ9(_Scale):
    instrument: Literal["phq9"]
    items: list[Item03 | None] = Field(min_length=9, max_length=9)
    loinc_total: Literal["44261-6"] = Field(default="44261-6", exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def severity(self) -> str | None:
        return None if self.total is None else band(self.total, PHQ9_BANDS)

    @property
    def item9(self) -> int | None:
        return self.items[8]


class GAD7(_Scale):
    instrument: Literal["gad7"]
    items: list[Item03 | None] = Field(min_length=7, max_length=7)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def severity(self) -> str | None:
        return None if self.total is None else band(self.total, GAD7_BANDS)


class PCL5(_Scale):
    instrument: Literal["pcl5"]
    items: list[Item04 | None] = Field(min_length=20, max_length=20)


def add_months(day: _date, months: int) -> _date:
    """The same day ``months`` later (the month's last day when it has no such day: 31 Jan + 1 = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


#: The screener's questions, in order: (field, number as the form prints it).
CSSRS_QUESTIONS = (("wish_to_be_dead", "1"), ("suicidal_thoughts", "2"), ("thoughts_with_method", "3"),
                   ("intent", "4"), ("plan_with_intent", "5"), ("suicidal_behavior_lifetime", "6"),
                   ("behavior_past_3_months", "6b"))


class CSSRSScreener(Strict):
    """Columbia Suicide Severity Rating Scale, screener (past month unless noted).

    Skip logic (the form's own): questions 3, 4 and 5 are asked only after a yes to question 2, and
    each of them is then answered; "within the past 3 months" (6b) only after a yes to question 6.
    ``risk_level`` is the item logic over the answers given (it is part of the record's content hash,
    so it keeps its meaning); the rules use :meth:`level_on`, which counts an unanswered follow-up as
    yes and each part of the screen only within its recall window."""

    #: Recall windows: questions 1-5 ask about the past month, question 6b about the past 3 months. A
    #: screen stops telling the current level once its window has passed (Columbia screener, S23).
    IDEATION_MONTHS: ClassVar[int] = 1
    BEHAVIOR_MONTHS: ClassVar[int] = 3

    instrument: Literal["cssrs_screener"]
    id: Identifier | None = None
    date: Date
    administered_by: str | None = None
    wish_to_be_dead: bool = Field(description="Q1")
    suicidal_thoughts: bool = Field(description="Q2")
    thoughts_with_method: bool | None = Field(default=None, description="Q3, asked when Q2 is yes")
    intent: bool | None = Field(default=None, description="Q4, asked when Q2 is yes")
    plan_with_intent: bool | None = Field(default=None, description="Q5, asked when Q2 is yes")
    suicidal_behavior_lifetime: bool = Field(description="Q6")
    behavior_past_3_months: bool | None = Field(default=None, description="Q6b, asked when Q6 is yes")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def risk_level(self) -> RiskLevel:
        """High: Q4 or Q5 yes, or behaviour in the past 3 months. Moderate: Q3 yes, or behaviour
        longer ago. Low: Q1 or Q2 only. None: every answer no."""
        if self.intent or self.plan_with_intent or self.behavior_past_3_months:
            return RiskLevel.high
        if self.thoughts_with_method or self.suicidal_behavior_lifetime:
            return RiskLevel.moderate
        if self.wish_to_be_dead or self.suicidal_thoughts:
            return RiskLevel.low
        return RiskLevel.none

    @property
    def positive(self) -> bool:
        return self.risk_level is not RiskLevel.none

    # --- skip logic and recall windows (used by the rules; none of this is serialized) --------------
    def skip_errors(self) -> list[tuple[str, str]]:
        """(field, message) for each answer the form's skip logic does not allow or still requires.
        Answering "no" to a question that was not due is harmless and accepted."""
        errors: list[tuple[str, str]] = []
        for field, number in CSSRS_QUESTIONS[2:5]:
            answer = getattr(self, field)
            if answer and not self.suicidal_thoughts:
                errors.append((field, f"question {number} is answered yes, but it is asked only after a yes to "
                                      "question 2 (suicidal thoughts), which is no"))
            elif answer is None and self.suicidal_thoughts:
                errors.append((field, f"question 2 (suicidal thoughts) is yes, so question {number} must be "
                                      "answered; until it is, the screen counts it as yes"))
        if self.behavior_past_3_months and not self.suicidal_behavior_lifetime:
            errors.append(("behavior_past_3_months", "question 6b (within the past 3 months) is answered yes, but it "
                                                     "is asked only after a yes to question 6, which is no"))
        elif self.behavior_past_3_months is None and self.suicidal_behavior_lifetime:
            errors.append(("behavior_past_3_months", "question 6 (suicidal behaviour) is yes but 'within the past 3 "
                                                     "months' (6b) is unanswered: the screen counts as high risk until "
                                                     "it is answered"))
        return errors

    def _asked(self, answer: bool | None, after: bool) -> bool:
        """A follow-up answer, an unanswered one counting as yes when it was due (the worst case)."""
        return bool(answer) or (after and answer is None)

    def ideation_level(self) -> RiskLevel:
        """Level from questions 1-5 (past month)."""
        due = self.suicidal_thoughts
        if self._asked(self.intent, due) or self._asked(self.plan_with_intent, due):
            return RiskLevel.high
        if self._asked(self.thoughts_with_method, due):
            return RiskLevel.moderate
        if self.wish_to_be_dead or self.suicidal_thoughts:
            return RiskLevel.low
        return RiskLevel.none

    def behavior_level(self) -> RiskLevel:
        """Level from question 6: high in the past 3 months (or not said), moderate longer ago."""
        if self._asked(self.behavior_past_3_months, self.suicidal_behavior_lifetime):
            return RiskLevel.high
        return RiskLevel.moderate if self.suicidal_behavior_lifetime else RiskLevel.none

    def current_on(self, day: _date) -> bool:
        """Some part of the screen is still within its recall window on ``day``."""
        return day <= add_months(self.date, max(self.IDEATION_MONTHS, self.BEHAVIOR_MONTHS))

    def level_on(self, day: _date) -> RiskLevel:
        """The level the screen tells on ``day``: the parts still within their recall window, an
        unanswered follow-up counting as yes."""
        levels = [RiskLevel.none]
        if day <= add_months(self.date, self.IDEATION_MONTHS):
            levels.append(self.ideation_level())
        if day <= add_months(self.date, self.BEHAVIOR_MONTHS):
            levels.append(self.behavior_level())
        return max(levels, key=lambda level: level.rank)


Assessment = Annotated[PHQ9 | GAD7 | PCL5 | CSSRSScreener, Field(discriminator="instrument")]
