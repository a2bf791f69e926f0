"""The completeness rules. Importing this package registers them all."""
from . import addendum, note, part2, plan, plan_before_service, risk, signatures, states, telehealth, u21  # noqa: F401
