"""`RuleSet.rule_for` keeps the rules it selected: the same answer as selecting afresh,
errors every time, and nothing visible on the rule set itself."""

from __future__ import annotations

from datetime import date

import pytest

from origin_rules.bom import EndUse
from origin_rules.errors import NoApplicableRuleError
from origin_rules.rules import default_rule_book

DAY = date(2024, 3, 1)


def test_a_kept_rule_is_the_rule_selected_afresh() -> None:
    rules = default_rule_book().rule_set_on(DAY)
    for hs, end_use in (("8708.30", EndUse.PASSENGER_VEHICLE), ("8413.30", None),
                        ("8708.30", None), ("7318.15", EndUse.PASSENGER_VEHICLE)):
        first = rules.rule_for(hs, as_of=DAY, end_use=end_use)
        again = rules.rule_for(hs, as_of=DAY, end_use=end_use)
        fresh = rules._select_rule(hs, as_of=DAY, end_use=end_use, table=None,
                                   vehicle_category=None, provision=None, goods=None)
        assert again == first == fresh
    # a different argument is a different selection, not the kept one
    assert rules.rule_for("8708.30", as_of=DAY, end_use=EndUse.PASSENGER_VEHICLE) != \
        rules.rule_for("8708.30", as_of=DAY, end_use=None)


def test_an_error_is_raised_every_time_and_the_rule_set_compares_as_before() -> None:
    rules = default_rule_book().rule_set_on(DAY)
    for _ in range(2):
        with pytest.raises(NoApplicableRuleError, match="not listed in Table Z"):
            rules.rule_for("8708.30", as_of=DAY, end_use=EndUse.PASSENGER_VEHICLE, table="Z")
    assert rules == default_rule_book().rule_set_on(DAY)
    assert "_selected" not in repr(rules)
