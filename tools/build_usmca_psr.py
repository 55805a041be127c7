"""Build origin_rules/data/usmca/psr/2020-07-01.toml from the GN 11(o) transcription.

The source is ../shared/reference/psr/usmca_psr.jsonl (570 records of HTSUS General Note
11(o), chapters 39-40, 70, 73, 76, 83-85, 87, 94; see its README for coverage, sources and
their known flaws), read from its copy in tools/data/ so that a clone alone can rebuild
and check the data. Each record's rule text is parsed by `origin_rules.product_rules`
and written beside its verbatim text, with the provision, the GN 11 running number where
the source shows it, the source, `cross_checked`, and the dates it is in force:

    python tools/build_usmca_psr.py            # rewrite the data file, print coverage
    python tools/build_usmca_psr.py --check    # exit 1 when the data file is stale

Nothing is guessed here: a clause the parser does not understand stays in the data as an
unsupported clause, and the engine refuses to rest a determination on it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from origin_rules.product_rule_table import (  # noqa: E402
    PSR_SCHEMA,
    ProductRuleTable,
    ProductSpecificRule,
    rule_data,
)
from origin_rules.product_rules import HsRange, Use, parse_provision, parse_rule_text  # noqa: E402

SOURCE = ROOT / "tools" / "data" / "usmca_psr.jsonl"
TARGET = ROOT / "origin_rules" / "data" / "usmca" / "psr" / "2020-07-01.toml"
ENTRY_INTO_FORCE = date(2020, 7, 1)


def toml_value(value: Any) -> str:
    """A TOML value: strings, booleans, integers, dates, arrays and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def emit(lines: list[str], header: str, table: dict[str, Any]) -> None:
    """``[[header]]`` with its scalar keys, then its arrays of tables (lists of dicts)."""
    lines += ["", f"[[{header}]]"]
    nested = {k: v for k, v in table.items()
              if k == "branch" and isinstance(v, list)}
    for key, value in table.items():
        if key not in nested:
            lines.append(f"{key} = {toml_value(value)}")
    for key, rows in nested.items():
        for row in rows:
            emit(lines, f"{header}.{key}", row)


def effective(text: str | None) -> tuple[date, date | None]:
    """``2020-07-01 until 2023-07-01 (per source)`` -> (2020-07-01, 2023-06-30)."""
    if text is None:
        return ENTRY_INTO_FORCE, None
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}) (?:until (\d{4}-\d{2}-\d{2})|and thereafter)"
                         r"(?: \(per source\))?", text)
    if match is None:
        raise ValueError(f"effective {text!r} not understood")
    start = date.fromisoformat(match[1])
    end = date.fromisoformat(match[2]) - timedelta(days=1) if match[2] else None
    return start, end


def record_rule(record: dict[str, Any]) -> ProductSpecificRule:
    """One jsonl record as a parsed rule."""
    provision = record["provision"]
    if provision == "chapter note":
        hs: tuple[HsRange, ...] = (HsRange.parse(record["chapter"]),)
        use = Use()
    else:
        hs, use = parse_provision(provision)
    parsed = parse_rule_text(record["rule"], hs)
    start, end = effective(record.get("effective"))
    notes = [record[k] for k in ("preceding_rule_note", "gn11k_underscoring", "notes")
             if record.get(k)]
    if record.get("effective"):
        notes.append(f"in force: {record['effective']}")
    return ProductSpecificRule(
        chapter=record["chapter"], provision=provision, hs=hs, use=use, text=record["rule"],
        status=parsed.status, branches=parsed.branches, valid_from=start, valid_to=end,
        source=record["source"], cross_checked=record["cross_checked"],
        gn11_number=record["gn11_number"], unsupported=parsed.unsupported,
        preamble=parsed.preamble, cross_check=record.get("cross_check"), notes=tuple(notes),
    )


def build(records: list[dict[str, Any]]) -> str:
    rules = [record_rule(r) for r in records]
    seen: dict[tuple[str, str, date], int] = {}
    for n, rule in enumerate(rules):
        key = (rule.chapter, rule.provision, rule.valid_from)
        if key in seen and rule.status != "chapter_rule":
            raise ValueError(f"records {seen[key]} and {n} share provision {rule.provision!r} "
                             f"from {rule.valid_from}")
        seen[key] = n
    lines = [
        "# Generated by tools/build_usmca_psr.py from shared/reference/psr/usmca_psr.jsonl;",
        "# edit the generator or the source, not this file. `text` is the rule as printed",
        "# in the source; `branch` tables are its parse; `unsupported` clauses are never",
        "# applied.",
        f"schema = {PSR_SCHEMA}",
        'title = "USMCA / T-MEC / CUSMA product-specific rules of origin (Annex 4-B, HTSUS '
        'General Note 11(o)), automotive supply-chain chapters"',
        "valid_from = 2020-07-01",
        'reference = "USMCA Annex 4-B (product-specific rules of origin), as printed in HTSUS '
        'General Note 11(o); Canada SOR/2020-155 Schedule 1 deems Annex 4-B sections A-C its '
        'product-specific rules"',
        "sources = " + toml_value([
            "https://www.customsmobile.com/htsus?general_notes=usmca (stored excerpts)",
            "https://checkoutapi.com/htsus?general_notes=usmca (stored excerpts)",
            "github:piksen-digital/origynlx @c8c04ac85c127fb36f80691b721ff630688d0a95 "
            "(third-party transcription of GN 11, 2026 Rev. 15)",
        ]),
        "caveats = " + toml_value([
            "partial coverage: chapters 39-40, 70, 73, 76, 83-85, 87 and 94 only, and not "
            "every provision of them (e.g. ch. 84 rule 47, 8414.59-8414.80, is missing); a "
            "missing provision is not 'no rule'",
            "only rules with cross_checked = true were compared in full with a copy of GN 11; "
            "the others come from one third-party transcription known to contain errors",
            "the Automotive Appendix (GN 11(k)) percentages for original-equipment parts of "
            "Tables A.1-E replace these rules' percentages (rule set usmca/2020-07-01)",
        ]),
    ]
    source_ids = {source: f"s{n}" for n, source in
                  enumerate(dict.fromkeys(rule.source for rule in rules), start=1)}
    lines += ["", "# The source of each rule (`source` below is a key of this table).",
              "[record_source]"]
    lines += [f"{key} = {toml_value(source)}" for source, key in source_ids.items()]
    for rule in rules:
        emit(lines, "rule", rule_data(rule, source_ids))
    return "\n".join(lines) + "\n"


def coverage(text: str) -> str:
    table = ProductRuleTable.from_text(str(TARGET.relative_to(ROOT)), text)
    rows = ["| ch | records | structured | partly (an alternative unsupported) | unsupported "
            "| chapter rules | cross-checked |", "|---|---:|---:|---:|---:|---:|---:|"]
    totals: Counter[str] = Counter()
    for chapter, counts in sorted(table.coverage().items()):
        checked = sum(r.cross_checked for r in table.rules if r.chapter == chapter)
        total = sum(counts.values())
        totals.update(counts)
        totals["checked"] += checked
        rows.append(f"| {chapter} | {total} | {counts['structured']} | {counts['partial']} | "
                    f"{counts['unsupported']} | {counts['chapter_rule']} | {checked} |")
    rows.append(f"| all | {len(table.rules)} | {totals['structured']} | {totals['partial']} | "
                f"{totals['unsupported']} | {totals['chapter_rule']} | {totals['checked']} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the data file is stale")
    args = parser.parse_args()
    records = [json.loads(line) for line in SOURCE.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    text = build(records)
    ProductRuleTable.from_text(str(TARGET), text)  # the loader accepts what was written
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run tools/build_usmca_psr.py",
                  file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(records)} records)")
    print(coverage(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
