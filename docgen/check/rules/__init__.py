"""The completeness rules. Importing this package registers them all."""
from . import addendum, note, part2, plan, risk, signatures, telehealth  # noqa: F401
