"""Standardized instruments. Scores and bands are computed from item answers, never typed in.

PHQ-9: 9 items 0-3, total 0-27; bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately
severe, 20-27 severe (rules.md risk-score-valid, S25). GAD-7: 7 items 0-3, total 0-21; bands 0-4
minimal, 5-9 mild, 10-14 moderate, 15-21 severe (S26). PCL-5: 20 items 0-4, total 0-80 (S28).
C-SSRS screener: risk level by Columbia's item logic (rules.md risk-cssrs, S23).
"""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

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


class CSSRSScreener(Strict):
    """Columbia Suicide Severity Rating Scale, screener (past month unless noted)."""

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


Assessment = Annotated[PHQ9 | GAD7 | PCL5 | CSSRSScreener, Field(discriminator="instrument")]
