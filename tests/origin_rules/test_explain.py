"""Structured explanations: reasons as data, rendered in English, Spanish and French."""

from __future__ import annotations

import json

import pytest

from origin_rules import bom_from_dict, determine_origin
from origin_rules.explain import _TEMPLATES, _WORDS, LANGUAGES, Reason, render
from tests.origin_rules.builders import NC50, bought, document, made
from tests.origin_rules.test_self_produced_choice import valve


def caliper() -> dict:
    """A good with a designated intermediate, a packing crate, an unknown-origin bolt."""
    return document(
        [made("caliper", "8708.30", other_product="35", rule=NC50),
         made("piston", "8708.30", other_product="10", intermediate=True, rule=NC50),
         bought("housing", "30", "originating"), bought("steel", "20", hs="7208.51"),
         bought("bolt", "5", "unknown", hs="7318.15"),
         bought("crate", "2", packing=True, hs="4415.10")],
        [("caliper", "piston", "1"), ("piston", "housing", "1"), ("piston", "steel", "1"),
         ("caliper", "bolt", "1"), ("caliper", "crate", "1")])


DOCUMENTS = {"caliper": caliper, "valve": valve}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_english_rendering_is_the_explanation(name):
    d = determine_origin(bom_from_dict(DOCUMENTS[name]()))
    assert d.explain("en") == list(d.explanation)
    assert len(d.reasons) == len(d.explanation)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_reason_renders_in_every_language(name, language):
    d = determine_origin(bom_from_dict(DOCUMENTS[name]()))
    lines = d.explain(language)
    assert all(lines)
    assert lines[-1].startswith({"en": "Conclusion: ", "es": "Conclusión: ",
                                 "fr": "Conclusion : "}[language])


def test_the_conclusion_in_spanish_and_french():
    d = determine_origin(bom_from_dict(valve()))
    assert d.explain("es")[-1] == ("Conclusión: 'valve' es ORIGINARIA, criterio B (producida "
                                   "con materiales no originarios que cumplen la regla).")
    assert d.explain("fr")[-1].startswith("Conclusion : 'valve' est ORIGINAIRE, critère B")


def test_reasons_are_data_with_their_references_and_serialise():
    d = determine_origin(bom_from_dict(caliper()))
    codes = [r.code for r in d.reasons]
    assert codes[0] == "rule"
    assert {"rvc.result", "intermediate.qualifies", "packing", "unknown"} <= set(codes)
    result = next(r for r in d.reasons if r.code == "rvc.result")
    assert result.values["method"] == "net_cost"
    assert result.reference == d.results[0].reference
    json.dumps(d.to_dict()["reasons"])  # plain JSON: texts and lists of texts


def test_every_catalogue_has_every_code_and_word():
    for language in LANGUAGES:
        assert set(_TEMPLATES[language]) == set(_TEMPLATES["en"]), language
        assert set(_WORDS[language]) == set(_WORDS["en"]), language


def test_a_value_that_is_data_stays_as_given():
    note = Reason("note", {"note": "texto del productor"})
    assert render(note, "fr") == "Note : texto del productor."


@pytest.mark.parametrize(("language", "words"), [
    ("en", "originating purchases counted as: melted and poured"),
    ("es", "compras originarias contadas como: melted and poured"),
    ("fr", "achats originaires comptés comme : melted and poured")])
def test_a_scenarios_steel_condition_is_said_in_each_language(language: str,
                                                              words: str) -> None:
    found = {"minimum": "90", "steel": "95", "steel_comparison": ">="}
    with_condition = Reason("detail.steel_aluminum", {**found, "condition": "melted and poured"})
    assert words in render(with_condition, language)
    assert "melted" not in render(Reason("detail.steel_aluminum", found), language)
    none = Reason("detail.steel_aluminum.none", {"minimum": "90", "condition": "melted and poured"})
    assert render(none, language).endswith(words)


def test_every_note_of_a_rules_selection_is_worded_in_each_language():
    """Each ``rule.note.*`` template, filled with the same values, gives a sentence of its
    own in Spanish and French, and the English words alone are what `render_note` gives.
    """
    from origin_rules.explain import render_note

    codes = [code for code in _TEMPLATES["en"] if code.startswith("rule.note.")]
    assert len(codes) >= 18
    values = {"hs": "8708.30", "others": "Table C", "end_use": "heavy_truck", "entry": "ex 8708.29",
              "aftermarket_reference": "s", "net_cost_only_reference": "r", "problem": "p",
              "section_reference": "s", "rule_reference": "r", "table": "B",
              "psr_reference": "GN", "valid_from": "2020-07-01", "valid_to": "2027-06-30",
              "source": "src", "cross_check": "", "doubt": "d", "chapter": "87",
              "kind": "note 1", "text": "t", "clause": "c", "goods": "g"}
    for code in codes:
        reason = Reason(code, values)
        english = render(reason, "en")
        assert english == f"Note: {render_note(reason)}."
        for language in ("es", "fr"):
            assert render(reason, language) != english, (code, language)
    until = Reason("rule.note.psr_applied", values)
    assert " to 2027-06-30;" in render(until, "en")
    assert " hasta el 2027-06-30;" in render(until, "es")
    assert " au 2027-06-30 ;" in render(until, "fr")
