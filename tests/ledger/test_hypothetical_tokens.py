"""A what-if is never certified (issue 10): a determination made under a scenario is
refused for an origin token with a stable code, whatever its verdict, and through the CLI
with exit code 7 (refused by the ledger)."""

from __future__ import annotations

import pytest

from cli.errors import REFUSED, exit_code
from ledger.api.problems import status_for
from ledger.errors import HypotheticalRuleSetError
from origin_rules import bom_from_dict, determine_origin
from origin_rules.scenarios import default_catalogue
from tests.ledger.test_token import bom_document, issue


@pytest.mark.parametrize("name", ["rvc-82", "us-content-50", "steel-melted-poured-now"])
def test_a_determination_under_a_scenario_is_refused_for_a_token(name: str) -> None:
    bom = bom_from_dict(bom_document())
    what_if = determine_origin(bom, rules=default_catalogue().book(name))
    assert what_if.originating  # the verdict does not matter: the rule set does
    with pytest.raises(HypotheticalRuleSetError) as error:
        issue(bom, what_if)
    assert error.value.code == "ledger.hypothetical_rule_set"
    assert f"usmca/scenario/{name}" in str(error.value)
    assert "rules in force" in str(error.value)


def test_the_same_document_under_the_rules_in_force_is_issued() -> None:
    bom = bom_from_dict(bom_document())
    issued = issue(bom, determine_origin(bom))
    assert issued.token["credentialSubject"]["determination"]["ruleSet"] == "usmca/2020-07-01"


def test_the_refusal_maps_to_refused_and_unprocessable() -> None:
    assert exit_code(HypotheticalRuleSetError.code) == REFUSED == 7
    assert status_for(HypotheticalRuleSetError.code) == 422
