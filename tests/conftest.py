"""Fixtures for the rule tests: fresh, complete records (see builders.py)."""
from __future__ import annotations

from datetime import date

import pytest

import builders


@pytest.fixture
def plan() -> dict:
    """A minimal complete treatment plan dict; mutate freely."""
    return builders.plan_dict()


@pytest.fixture
def note() -> dict:
    """A minimal complete progress note dict (serving ``plan``); mutate freely."""
    return builders.note_dict()


@pytest.fixture
def addendum() -> dict:
    """A minimal complete addendum to ``plan`` (TP-1001), naming it by its content hash; mutate freely."""
    return builders.addendum_dict()


@pytest.fixture
def as_of() -> date:
    return builders.AS_OF
