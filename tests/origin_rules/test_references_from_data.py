"""The legal references of a determination come from its rule set, not from the engine.

Every provision the engine's statements cite — the origin criteria, the de minimis, the
producer's s.3(8) choice, intermediate materials, accumulation, packing, the core parts,
a Table B or C part's tariff-shift alternative… — is a value of the rule set's
``[references]`` table (`origin_rules.rules.REFERENCE_KEYS`, built by
`tools/build_usmca_rules.py`), so a later rule set can cite anew and a determination
carries the citations of the rule set in force for it. Shown here by rule sets whose
references are changed: every citation the engine makes changes with them, in the
explanation, the reasons and the errors, in English, Spanish and French. The engine's own
notes are reasons with a code too, so every statement but a rule's own texts is worded
in each language.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from origin_rules import RuleBook, RuleDataError, bom_from_dict, determine_origin
from origin_rules.determination import Determination
from origin_rules.errors import OriginRulesError
from origin_rules.explain import _TEMPLATES, LANGUAGES, render
from origin_rules.rules import REFERENCE_KEYS, default_rule_book
from tests.origin_rules.builders import NC50, bought, document, made
from tests.origin_rules.test_explain import caliper
from tests.origin_rules.test_self_produced_choice import valve

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "origin_rules" / "data" / "usmca"
SHIPPED = (DATA / "2020-07-01.toml").read_text(encoding="utf-8")
PSR = [(f"usmca/psr/{p.name}", p.read_text(encoding="utf-8"))
       for p in sorted((DATA / "psr").glob("*.toml"))]


def with_references(text: str, cite: Callable[[str, str], str]) -> str:
    """The rule-set text with each value of ``[references]`` replaced by `cite(key, value)`."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("["):
            inside = line.strip() == "[references]"
        match = re.fullmatch(r'(\w+) = (".*")', line)
        if inside and match:
            line = f"{match[1]} = {json.dumps(cite(match[1], json.loads(match[2])))}"
        out.append(line)
    return "\n".join(out) + "\n"


def book(cite: Callable[[str, str], str], *extra: tuple[str, str]) -> RuleBook:
    return RuleBook.from_texts([("usmca/2020-07-01.toml", with_references(SHIPPED, cite)),
                                *extra], product_rules=PSR)


MARKED = book(lambda key, _: f"<<{key}>>")


def _json_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted([*(ROOT / "examples").glob("*.json"),
                        *(ROOT / "tests" / "assets").rglob("*.json")]):
        value = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(value, dict):
            value = value.get("document", value)
            if value.get("format") == "tmec-bom/1":
                yield path.relative_to(ROOT).as_posix(), value


def passenger_car_without_core_parts() -> dict[str, Any]:
    return document([made("car", "8703.23", other_product="800"), bought("seat", "100",
                                                                         hs="9401.20")],
                    [("car", "seat", "1")])


def two_layers_of_intermediates() -> dict[str, Any]:
    rvc40 = {"rvc": [{"method": "net_cost", "min": "40"}]}
    return document(
        [made("g", other_product="100", rule=NC50),
         made("outer", "8708.99", other_product="10", intermediate=True, rule=rvc40),
         made("inner", "8483.40", other_product="10", intermediate=True, rule=rvc40),
         bought("steel", "5")],
        [("g", "outer", "1"), ("outer", "inner", "1"), ("inner", "steel", "1")])


def all_originating() -> dict[str, Any]:
    return document([made("g", other_product="10", rule=NC50), bought("a", "5", "originating")],
                    [("g", "a", "1")])


def aftermarket_pads() -> dict[str, Any]:
    return document([made("pads", "8708.30", other_product="30"),
                     bought("plate", "20", hs="7208.51"), bought("friction", "50", hs="6813.81")],
                    [("pads", "plate", "1"), ("pads", "friction", "1")], end_use="aftermarket")


def chair(own: str, seat: str) -> dict[str, Any]:
    """A tariff-shift-only good whose one non-originating part is of its own subheading
    (criterion D: net cost only, SOR/2020-155 s.7(6))."""
    return document([made("chair", "9401.71", other_product=own, rule={"tariff_shift": "CTSH"},
                          transaction_value="125"),
                     bought("seat", seat, hs="9401.71")], [("chair", "seat", "1")])


CORPUS = {**dict(_json_documents()), "caliper": caliper(), "valve": valve(),
          "chair, short of criterion D": chair("30", "40"), "chair, criterion D": chair("60", "20"),
          "valve, inputs": valve("inputs"), "car": passenger_car_without_core_parts(),
          "layers": two_layers_of_intermediates(), "originating": all_originating(),
          "aftermarket": aftermarket_pads()}


def outcome(doc: dict[str, Any], rules: RuleBook) -> tuple[Determination | None, str]:
    """The determination (or None) and every text it or its refusal gives, in every
    language: the JSON output (reasons, explanation, references) and the renderings.
    """
    try:
        determination = determine_origin(bom_from_dict(json.loads(json.dumps(doc))),
                                         rules=rules)
    except OriginRulesError as error:
        return None, str(error)
    texts = [json.dumps(determination.to_dict(), ensure_ascii=False)]
    texts += [line for language in LANGUAGES for line in determination.explain(language)]
    return determination, "\n".join(texts)


def test_the_rule_set_gives_every_reference_the_engine_cites() -> None:
    (rule_set,) = default_rule_book().rule_sets
    assert set(rule_set.references) == set(REFERENCE_KEYS)
    assert all(rule_set.references.values())


def test_a_rule_set_without_a_reference_is_refused_naming_it() -> None:
    text = re.sub(r"\npacking = .*", "", SHIPPED)
    with pytest.raises(RuleDataError) as info:
        RuleBook.from_texts([("usmca/2020-07-01.toml", text)])
    assert info.value.key_path == "references.packing"
    unknown = SHIPPED.replace("[references]\n", '[references]\nshipping = "Art. 4.99"\n')
    with pytest.raises(RuleDataError) as info:
        RuleBook.from_texts([("usmca/2020-07-01.toml", unknown)])
    assert info.value.key_path == "references.shipping"


def test_every_citation_of_the_engine_comes_from_the_rule_set() -> None:
    """With each reference of the rule set replaced by a marker, every one of them shows
    up in what the corpus's determinations (or refusals) say: none is the engine's own.
    """
    cited: set[str] = set()
    for doc in CORPUS.values():
        cited |= set(re.findall(r"<<(\w+)>>", outcome(doc, MARKED)[1]))
    assert cited == set(REFERENCE_KEYS)


def test_the_marked_rule_set_changes_nothing_but_the_citations() -> None:
    for name, doc in CORPUS.items():
        shipped, marked = outcome(doc, default_rule_book())[0], outcome(doc, MARKED)[0]
        assert (shipped is None) == (marked is None), name
        if shipped is not None and marked is not None:
            assert (shipped.originating, shipped.criterion, shipped.results) == (
                marked.originating, marked.criterion, marked.results), name


def test_a_changed_reference_changes_the_explanation_in_every_language() -> None:
    amended = book(lambda key, value: "Art. 4.16 (as amended)" if key == "packing" else value)
    shipped = determine_origin(bom_from_dict(caliper()))
    changed = determine_origin(bom_from_dict(caliper()), rules=amended)
    before = next(r for r in shipped.reasons if r.code == "packing")
    after = next(r for r in changed.reasons if r.code == "packing")
    assert (before.reference, after.reference) == ("Art. 4.16", "Art. 4.16 (as amended)")
    assert "1 packing material(s) for shipment disregarded (Art. 4.16)." in shipped.explanation
    assert ("1 packing material(s) for shipment disregarded (Art. 4.16 (as amended))."
            in changed.explanation)
    for language in ("es", "fr"):
        assert any("(Art. 4.16 (as amended))" in line for line in changed.explain(language))
    rest = [r for r in changed.reasons if r.code != "packing"]
    assert rest == [r for r in shipped.reasons if r.code != "packing"]


#: A rule set of a later text (a test fixture): Table B at 80 %, and its own citations.
LATER = """
schema = 1
rule_set = "usmca/2027-07-01"
agreement = "USMCA / T-MEC / CUSMA"
title = "A later text (test fixture)"
valid_from = 2027-07-01
reference = "test fixture"

[de_minimis]
percent = "10"
reference = "later de minimis"

[criterion_d]
net_cost = "50"
transaction_value = "60"
excluded_chapters = ["61", "62", "63"]
reference = "later criterion D"

""" + "[references]\n" + "".join(f'{key} = "2027 {key}"\n' for key in REFERENCE_KEYS) + """
[steel_aluminum]
reference = "later steel"
[[steel_aluminum.threshold]]
valid_from = 2027-07-01
min = "70"

[[category]]
id = "table_B"
kind = "part"
table = "B"
title = "Table B (later text)"
end_use = ["passenger_vehicle", "light_truck"]
hs = ["8708.30"]
reference = "later Table B"
[[category.threshold]]
method = "net_cost"
valid_from = 2027-07-01
min = "80"
"""


def test_a_determination_cites_the_rule_set_in_force_for_it() -> None:
    rules = RuleBook.from_texts([("usmca/2020-07-01.toml", SHIPPED),
                                 ("usmca/2027-07-01.toml", LATER)])
    part = document([made("caliper", "8708.30", other_product="90"),
                     bought("crate", "2", packing=True, hs="4415.10"),
                     bought("grease", "1", indirect=True, hs="3403.99"), bought("pin", "8")],
                    [("caliper", "crate", "1"), ("caliper", "grease", "1"),
                     ("caliper", "pin", "1")], end_use="passenger_vehicle")
    before = determine_origin(bom_from_dict(part), as_of=date(2027, 6, 30), rules=rules)
    after = determine_origin(bom_from_dict(part), as_of=date(2027, 7, 1), rules=rules)
    cites = {d.rule_set: {r.code: r.reference for r in d.reasons} for d in (before, after)}
    assert cites["usmca/2020-07-01"]["packing"] == "Art. 4.16"
    assert cites["usmca/2027-07-01"]["packing"] == "2027 packing"
    assert cites["usmca/2020-07-01"]["indirect"] == "Art. 4.9"
    assert cites["usmca/2027-07-01"]["indirect"] == "2027 indirect"
    assert cites["usmca/2027-07-01"]["conclusion.originating"] == "2027 criterion_b"


# ---------------------------------------------------------------------------------------
# No citation in the engine's code


#: A legal citation: an article, a section of the regulations, an annex, a statute.
CITATION = re.compile(r"\b[Aa]rt\.\s?\d|SOR/|DORS/|\bs\.\d+\(|\bpar\. \d|\b(?:Annex|Anexo|"
                      r"annexe) \d|U\.S\.C|\bCFR\b|General Note \d")
ENGINE_FILES = [*sorted((ROOT / "origin_rules" / "engine").glob("*.py")),
                ROOT / "origin_rules" / "explain.py", ROOT / "origin_rules" / "determination.py",
                ROOT / "origin_rules" / "product_rule_engine.py"]


def _literals(path: Path) -> Iterator[tuple[int, str]]:
    """The string literals of a module that are not docstrings (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings):
            yield node.lineno, node.value


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: p.name)
def test_the_engine_and_its_catalogues_write_no_citation(path: Path) -> None:
    found = [f"{path.name}:{line}: {text[:80]!r}" for line, text in _literals(path)
             if CITATION.search(text)]
    assert not found


def test_rule_selection_writes_no_section_of_the_regulations() -> None:
    # rules.py still names Annex 4-B (the product-specific rules) in its messages; the
    # provisions it applies (s.14(14), (16), (18)) come from the rule set
    path = ROOT / "origin_rules" / "rules.py"
    assert not [text for _, text in _literals(path)
                if re.search(r"SOR/|\bs\.\d+\(|\b[Aa]rt\.\s?\d", text)]


# ---------------------------------------------------------------------------------------
# Every statement of the engine in every language

#: Codes whose sentence is a text of the rule data (a rule's notes and scope) or a
#: free-form note: rendered as given in every language.
DATA_TEXTS = {"rule.note", "rule.scope", "note"}
#: Pieces of other templates, not reasons of their own.
PIECES = {"rvc.under", "rvc.absorb", "rvc.needs", "rvc.contributor", "which.alternative",
          *(code for code in _TEMPLATES["en"] if code.startswith(("alternative.", "detail."))
            and code not in ("alternative.not_evaluated", "alternative.outcome",
                             "alternative.qualifies", "alternative.whichever"))}


def _reasons() -> Iterator[Any]:
    for doc in CORPUS.values():
        determination = outcome(doc, default_rule_book())[0]
        if determination is not None:
            yield from determination.reasons


def test_every_reason_of_the_engine_is_worded_in_spanish_and_french() -> None:
    codes = set()
    for reason in _reasons():
        codes.add(reason.code)
        if reason.code in DATA_TEXTS:
            continue
        english = render(reason, "en")
        for language in ("es", "fr"):
            assert render(reason, language) != english, (reason.code, language)
    # the corpus reaches most statements of the catalogue; the others are in test_explain
    assert codes >= {"rule", "rvc.result", "rvc.contributors", "rvc.de_minimis", "shift.met",
                     "shift.de_minimis", "shift.not_met", "shift.view", "criterion_d.applies",
                     "criterion_d.falls_short", "criterion_d.net_cost_only",
                     "alternative.outcome", "alternative.qualifies", "intermediate.qualifies",
                     "statement.used", "statement.vnm_only", "packing", "indirect",
                     "unknown", "requirement", "conclusion.originating",
                     "conclusion.not_originating"}, codes


def test_a_requirement_s_finding_is_worded_in_each_language() -> None:
    determination = outcome(passenger_car_without_core_parts(), default_rule_book())[0]
    assert determination is not None
    core = next(r for r in determination.reasons if r.code == "requirement"
                and r.values["name"] == "core_parts")
    assert core.values["detail_code"] == "detail.core_parts.none"
    assert "no Table A.2 core part" in render(core, "en")
    assert "ninguna parte esencial de la Table A.2" in render(core, "es")
    assert "aucune pièce essentielle de la Table A.2" in render(core, "fr")
    requirement = next(r for r in determination.requirements if r.name == "core_parts")
    assert requirement.detail in render(core, "en")


def test_the_notes_of_criterion_d_are_worded_in_each_language() -> None:
    determination = outcome(chair("30", "40"), default_rule_book())[0]
    assert determination is not None
    note = next(r for r in determination.reasons if r.code == "criterion_d.net_cost_only")
    assert render(note, "en").startswith("Note: Art. 4.2(d) by net cost only")
    assert render(note, "es").startswith("Nota: Art. 4.2(d) solo por costo neto")
    assert render(note, "fr").startswith("Note : Art. 4.2(d) au coût net seulement")
    assert "esta regla de solo cambio de clasificación" in render(note, "es")
