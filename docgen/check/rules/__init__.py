"""The completeness rules. Importing this package registers them all."""
from . import addendum, note, plan, plan_before_service, risk, signatures, states, u21  # noqa: F401
