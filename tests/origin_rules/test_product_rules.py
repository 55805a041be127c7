"""The parser of GN 11(o) rule texts: one test per shape, on rule texts of the data file."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from origin_rules.bom import EndUse, Method
from origin_rules.product_rules import (
    HsRange,
    Level,
    RvcClause,
    parse_provision,
    parse_rule_text,
)
from origin_rules.rules import default_rule_book

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tools" / "data" / "usmca_psr.jsonl"


@cache
def records() -> tuple[dict, ...]:
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


def parsed(provision: str, *, phase: int = 0):
    """The parse of the printed rule for `provision` (the `phase`-th record of it)."""
    record = [r for r in records() if r["provision"] == provision][phase]
    hs, _ = parse_provision(provision)
    return parse_rule_text(record["rule"], hs)


def only_branch(provision: str):
    text = parsed(provision)
    assert len(text.branches) == 1
    return text.branches[0]


class TestTariffShiftLevels:
    def test_change_of_chapter(self):
        # 7002.20: "A change to subheading 7002.20 from any other chapter."
        shift = only_branch("7002.20").shift
        assert shift is not None
        assert shift.level is Level.CHAPTER
        assert not shift.allows("700100", "700220")  # cullet of chapter 70
        assert shift.allows("250510", "700220")  # sand of chapter 25

    def test_change_of_heading(self):
        # 4017: "A change to heading 4017 from any other heading."
        shift = only_branch("4017").shift
        assert shift is not None
        assert shift.level is Level.HEADING
        assert not shift.allows("401700", "401700")
        assert shift.allows("400219", "401700")

    def test_change_of_subheading(self):
        # 8406.10: "A change to subheading 8406.10 from any other subheading."
        shift = only_branch("8406.10").shift
        assert shift is not None
        assert shift.level is Level.SUBHEADING
        assert shift.allows("840690", "840610")
        assert not shift.allows("840610", "840610")

    def test_change_of_tariff_item_needs_codes_long_enough_to_show_it(self):
        # 7321.90.10: "A change to tariff item 7321.90.10 from any other tariff item."
        shift = only_branch("7321.90.10").shift
        assert shift is not None
        assert shift.level is Level.TARIFF_ITEM
        assert shift.allows("73219020", "73219010")
        assert not shift.allows("73219010", "73219010")
        assert not shift.allows("732190", "73219010")  # six digits cannot show the change


class TestExceptions:
    def test_except_from_a_range_of_headings(self):
        # 4009.21: "... from any other heading, except from headings 4010 through 4017."
        shift = only_branch("4009.21").shift
        assert shift is not None
        assert shift.level is Level.HEADING
        assert [e.text for e in shift.exceptions] == ["4010-4017"]
        assert not shift.allows("401693", "400921")  # 4016 lies in the excepted range
        assert shift.allows("400219", "400921")

    def test_except_from_listed_headings(self):
        # 7316: "... from any other heading, except from headings 7312 or 7315."
        shift = only_branch("7316").shift
        assert shift is not None
        assert [e.text for e in shift.exceptions] == ["7312", "7315"]
        assert not shift.allows("731582", "731600")
        assert shift.allows("731300", "731600")

    def test_an_exception_of_tariff_items_catches_a_six_digit_material(self):
        # 8536.90 (A): "... except from tariff items 8538.90.10, 8538.90.30 or 8538.90.60"
        shift = parsed("8536.90").branches[0].shift
        assert shift is not None
        assert not shift.allows("85389010", "853690")
        assert shift.allows("85389080", "853690")
        assert not shift.allows("853890", "853690")  # may be one of the excepted items


class TestAlternatives:
    def test_rvc_alternative_with_both_methods(self):
        # 4005-4006: (A) CTH except from heading 4001; or (B) from heading 4001, whether
        # or not there is also a change from any other heading, RVC 35 % TV or 25 % NC.
        text = parsed("4005-4006")
        a, b = text.branches
        assert (a.label, b.label) == ("A", "B")
        assert a.rvc == ()
        assert a.shift is not None
        assert [e.text for e in a.shift.exceptions] == ["4001"]
        assert set(b.rvc) == {RvcClause(Method.TRANSACTION_VALUE, Decimal(35)),
                              RvcClause(Method.NET_COST, Decimal(25))}
        assert b.shift is not None
        assert b.shift.level is Level.HEADING
        assert [s.text for s in b.shift.sources] == ["4001"]
        assert b.shift.allows("400121", "400510")
        assert not a.shift.allows("400121", "400510")

    def test_net_cost_only(self):
        # 8705: "... provided there is a regional value content of not less than 60 percent
        # under the net cost method."
        branch = only_branch("8705")
        assert branch.rvc == (RvcClause(Method.NET_COST, Decimal(60)),)

    def test_whether_or_not_from_another_subheading_of_the_same_heading(self):
        # 8510.10-8510.30 (B): from subheading 8510.90, whether or not there is also a
        # change from any other heading: the parts of 8510.90 may be non-originating.
        shift = parsed("8510.10-8510.30").branches[1].shift
        assert shift is not None
        assert shift.allows("851090", "851010")
        assert not shift.allows("851020", "851010")
        assert shift.allows("850110", "851010")

    def test_no_change_in_tariff_classification(self):
        # 8708.40 for PV/LT: "(A) No change in tariff classification to a good of
        # subheading 8708.40, provided ... 75 percent under the net cost method."
        branch = only_branch("8708.40 (for use in a passenger vehicle or light truck)")
        assert branch.shift is None
        assert branch.rvc == (RvcClause(Method.NET_COST, Decimal(75)),)
        assert branch.scope == ("a good of subheading 8708.40 for use in a passenger vehicle "
                                "or light truck")


class TestGroupsAndRanges:
    def test_a_range_covers_every_heading_in_it(self):
        hs, use = parse_provision("4001.10-4002.99")
        assert hs == (HsRange("400110", "400299"),)
        assert hs[0].matches("400219")
        assert not hs[0].matches("400300")
        assert use.uses == ()
        assert not use.ex

    def test_including_another_heading_within_that_group(self):
        # 3916-3926: "... from any other heading, including another heading within that group."
        shift = only_branch("3916-3926").shift
        assert shift is not None
        assert shift.allows("392010", "392690")  # 3920 into 3926: within the group, allowed

    def test_any_heading_outside_that_group(self):
        # 4007-4008: "... from any heading outside that group."
        shift = only_branch("4007-4008").shift
        assert shift is not None
        assert not shift.allows("400700", "400811")  # 4007 into 4008 is inside the group
        assert shift.allows("400591", "400811")

    def test_source_with_its_description(self):
        # 8708.30 (B): "... from parts of mounted brake linings, brakes or servo-brakes of
        # subheadings 8708.30 or 8708.99, whether or not ..."
        shift = parsed("8708.30 (any other good)").branches[1].shift
        assert shift is not None
        (source,) = shift.sources
        assert source.description == "parts of mounted brake linings, brakes or servo-brakes"
        assert [r.text for r in source.hs] == ["8708.30", "8708.99"]


class TestProvisionsAndUses:
    def test_ex_provision_with_description_and_use(self):
        hs, use = parse_provision(
            "ex 8708.29 (body stamping for use in a passenger vehicle or light truck)")
        assert hs == (HsRange("870829", "870829"),)
        assert use.ex
        assert use.description == "body stamping"
        assert use.uses == (EndUse.PASSENGER_VEHICLE, EndUse.LIGHT_TRUCK)

    def test_use_qualifier_and_residual(self):
        _, pv_lt_ht = parse_provision(
            "8708.10 (for use in a passenger vehicle, light truck, or heavy truck)")
        assert set(pv_lt_ht.uses) == {EndUse.PASSENGER_VEHICLE, EndUse.LIGHT_TRUCK,
                                      EndUse.HEAVY_TRUCK}
        _, other = parse_provision("8708.10 (any other good)")
        assert other.residual
        assert other.uses == ()

    def test_tariff_item_provisions(self):
        hs, _ = parse_provision("4016.99.30, 4016.99.55")
        assert [r.text for r in hs] == ["4016.99.30", "4016.99.55"]

    def test_goods_descriptions_of_branches(self):
        branches = parsed("8708.30 (any other good)").branches
        assert [b.goods for b in branches] == ["mounted brake linings"] * 2 + [
            "any other good"] * 2

    def test_two_scopes_in_one_printed_rule(self):
        # 8708.92 (rule 42): (A)-(C) "For a good ... for use in a passenger vehicle, light
        # truck or heavy truck", then "(D) For any other good of subheading 8708.92:" (E)-(G)
        branches = parsed("8708.92").branches
        assert [b.label for b in branches] == ["A", "B", "C", "E", "F", "G"]
        assert branches[0].scope is not None
        assert "heavy truck" in branches[0].scope
        assert branches[3].scope == "any other good of subheading 8708.92"
        assert branches[2].rvc == (RvcClause(Method.NET_COST, Decimal(70)),)
        assert branches[5].rvc == (RvcClause(Method.NET_COST, Decimal(50)),)


class TestUnsupported:
    def test_polymer_content_condition(self):
        branch = only_branch("3901-3915")
        assert not branch.supported
        assert "originating polymer content" in branch.unsupported[0]
        assert parsed("3901-3915").status == "unsupported"

    def test_steel_by_weight_alternative_leaves_the_others(self):
        # 7317 from 2023-07-01: (a) CTH except 7208-7229/7301-7326; (b) ... "at least 70
        # percent by weight of the materials ... is originating"; (c) no change + RVC.
        text = parsed("7317", phase=1)
        a, b, c = text.branches
        assert a.supported
        assert c.supported
        assert not b.supported
        assert "by weight" in b.unsupported[0]
        assert text.status == "partial"
        assert set(c.rvc) == {RvcClause(Method.TRANSACTION_VALUE, Decimal(75)),
                              RvcClause(Method.NET_COST, Decimal(65))}

    def test_more_than_one_of_the_following(self):
        branch = only_branch("8456.10")
        assert "more than one of the following" in branch.unsupported[0]

    def test_compilers_note_is_kept_as_unsupported(self):
        text = parsed("8459.31")
        assert any("Compiler's note" in clause for clause in text.unsupported)
        assert text.status == "unsupported"

    def test_chapter_rule(self):
        record = next(r for r in records() if r["chapter"] == "40"
                      and r["provision"] == "chapter note")
        text = parse_rule_text(record["rule"], (HsRange.parse("40"),))
        assert text.status == "chapter_rule"
        assert text.chapter_rule == record["rule"]


class TestEveryRecord:
    def test_every_record_is_structured_or_explicitly_unsupported(self):
        counts: Counter[str] = Counter()
        for record in records():
            hs = ((HsRange.parse(record["chapter"]),) if record["provision"] == "chapter note"
                  else parse_provision(record["provision"])[0])
            text = parse_rule_text(record["rule"], hs)
            counts[text.status] += 1
            if text.status == "chapter_rule":
                continue
            assert text.branches or text.unsupported, record["provision"]
            for branch in text.branches:
                if branch.supported:
                    assert branch.shift is not None or branch.rvc or "No change" in branch.text
                else:
                    assert all(clause.strip() for clause in branch.unsupported)
            if text.status == "unsupported":
                assert text.unsupported or any(b.unsupported for b in text.branches)
        assert sum(counts.values()) == len(records()) == 570
        # the coverage the README reports: 483 structured, 26 with an alternative the
        # engine cannot evaluate, 44 unsupported, 17 chapter rules
        assert counts == Counter(structured=483, partial=26, unsupported=44, chapter_rule=17)

    def test_the_shipped_data_is_the_parse_of_its_own_text(self):
        table = default_rule_book().rule_sets[0].product_rules
        assert table is not None
        assert len(table.rules) == len(records())
        for rule in table.rules:
            text = parse_rule_text(rule.text, rule.hs)
            assert text.branches == rule.branches, rule.provision
            assert text.status == rule.status, rule.provision

    def test_the_shipped_data_keeps_the_references(self):
        table = default_rule_book().rule_sets[0].product_rules
        assert table is not None
        for record in records():
            matches = [r for r in table.rules
                       if r.chapter == record["chapter"] and r.provision == record["provision"]
                       and r.text == record["rule"]]
            assert len(matches) == 1, record["provision"]
            rule = matches[0]
            assert rule.gn11_number == record["gn11_number"]
            assert rule.cross_checked is record["cross_checked"]
            assert rule.source == record["source"]


@pytest.mark.parametrize("text", ["84.31", "8702.10.6", "7308.xx"])
def test_a_code_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError, match="not an HS"):
        HsRange.parse(text)



@settings(max_examples=300, deadline=None)
@given(digits=st.text("0123456789", min_size=2, max_size=10))
def test_a_rule_outside_the_goods_chapter_never_matches_it(digits: str) -> None:
    """`select` reads only the rules indexed under the good's chapter: every other rule of
    the file must be one that could not cover the code, so the answer is what reading
    every rule would give.
    """
    table = default_rule_book().rule_sets[0].product_rules
    assert table is not None
    candidates = set(map(id, table._candidates(digits)))
    for rule in table.rules:
        if rule.status != "chapter_rule" and id(rule) not in candidates:
            assert rule.match(digits)[1] is False, rule.provision


def test_the_chapter_index_holds_every_provision_rule_once_per_chapter() -> None:
    table = default_rule_book().rule_sets[0].product_rules
    assert table is not None
    indexed = {id(rule) for rules in table._by_chapter.values() for rule in rules}
    assert indexed == {id(r) for r in table.rules if r.status != "chapter_rule"}
    for rules in table._by_chapter.values():
        assert len(set(map(id, rules))) == len(rules)


def _outcome(table, hs: str, as_of, end_use):
    """What `select` answers for a code: the rule's identity, or the refusal's message."""
    try:
        rule = table.select(hs, as_of=as_of, end_use=end_use)
    except Exception as exc:  # the refusal itself is the answer compared
        return type(exc).__name__, str(exc)
    return rule.chapter, rule.provision, rule.text, rule.valid_from


def _fresh_source():
    """A source of the shipped PSR file that has parsed nothing yet."""
    from origin_rules.product_rule_table import ProductRuleSource

    loaded = default_rule_book().rule_sets[0].psr
    assert loaded is not None
    return ProductRuleSource(loaded.name, loaded.text)


def test_the_rules_of_one_chapter_select_as_the_whole_file_does() -> None:
    """`for_code` parses only the rules that reach the good's chapter (the start-up cost
    of `tmec rvc`); for every code the file names, at 2 to 10 digits, and every end use,
    its answer is the whole file's, refusals included (their list of covered chapters is
    the file's, not the one chapter's).
    """
    from datetime import date

    whole = default_rule_book().rule_sets[0].product_rules
    assert whole is not None
    lazy = _fresh_source()
    codes = {entry.low[:n] for rule in whole.rules for entry in rule.hs
             for n in (2, 4, 6, 8, 10) if len(entry.low) >= n}
    codes |= {"8708.30", "8708.99", "4009.31", "9401.20", "7007.11", "8544.30"}
    assert len(codes) > 400
    day = date(2026, 12, 1)
    for hs in sorted(codes):
        for end_use in (None, EndUse.PASSENGER_VEHICLE, EndUse.HEAVY_TRUCK):
            assert _outcome(lazy.for_code(hs), hs, day, end_use) == _outcome(
                whole, hs, day, end_use), (hs, end_use)
    assert lazy._table is None  # the whole file was never parsed on the way
    assert lazy.for_code("8708.30").chapters == whole.chapters
    assert len(lazy.for_code("8708.30").rules) < len(whole.rules) / 3


def test_a_chapter_table_keeps_the_chapter_rules_of_its_chapter() -> None:
    from datetime import date

    whole = default_rule_book().rule_sets[0].product_rules
    assert whole is not None
    lazy = _fresh_source()
    day = date(2026, 12, 1)
    for chapter in whole.chapters:
        assert lazy.for_code(chapter + "01").chapter_rules(chapter, day) == whole.chapter_rules(
            chapter, day)


def test_a_rule_whose_hs_range_crosses_into_another_chapter_is_read_for_both() -> None:
    """A rule is found by the chapters its HS entries reach, not only the one it is filed
    under (the whole table indexes it so; the shipped file has no such rule, so one of its
    rules is given a range from chapter 84 into chapter 85 here).
    """
    from datetime import date

    from origin_rules.product_rule_table import ProductRuleSource

    shipped = _fresh_source()
    head, _, rest = shipped.text.partition("\n[[rule]]\n")
    blocks = rest.split("\n[[rule]]\n")
    first = next(b for b in blocks if 'chapter = "84"' in b and "status = \"structured\"" in b)
    hs_line = next(line for line in first.splitlines() if line.startswith("hs = "))
    crossing = first.replace(hs_line, 'hs = ["8479-8501"]')
    source = ProductRuleSource("crossing.toml", head + "\n[[rule]]\n" + crossing)
    rules = source.for_code("8501.10").rules
    assert [r.hs[0].text for r in rules] == ["8479-8501"]
    assert source.for_code("8501.10").chapters == ("84",)
    day = date(2026, 12, 1)
    whole = ProductRuleSource("crossing.toml", head + "\n[[rule]]\n" + crossing).table
    assert _outcome(source.for_code("8501.10"), "8501.10", day, None) == _outcome(
        whole, "8501.10", day, None)
