"""Every registered rule has tests: a new rule without tests fails here."""
from __future__ import annotations

import inspect

import test_rules_addendum
import test_rules_note
import test_rules_part2
import test_rules_plan
import test_rules_risk
import test_rules_signatures
import test_rules_states
import test_telehealth
from docgen.check import RULES

MODULES = (test_rules_signatures, test_rules_note, test_rules_plan, test_rules_risk, test_rules_addendum,
           test_rules_states, test_telehealth, test_rules_part2)
COVERED = set().union(*(m.COVERED for m in MODULES))


def test_every_rule_is_covered():
    missing = set(RULES) - COVERED
    assert not missing, f"rules without tests: {sorted(missing)}"


def test_covered_ids_are_real_rules():
    assert not COVERED - set(RULES), f"tests claim unknown rules: {sorted(COVERED - set(RULES))}"


def test_each_covered_rule_has_a_passing_and_a_failing_assertion():
    for module in MODULES:
        source = inspect.getsource(module)
        for rule_id in module.COVERED:
            assert f'assert_passes("{rule_id}"' in source, f"{rule_id}: no passing case in {module.__name__}"
            assert f'assert_fails("{rule_id}"' in source, f"{rule_id}: no failing case in {module.__name__}"
