"""Build origin_rules/data/usmca/2020-07-01.toml from the shared thresholds reference.

The source of every number and HS list is ../shared/reference/usmca_automotive_thresholds.json
(SOR/2020-155 Part 6, HTSUS GN 11), read from its copy in tools/data/ so that a clone alone
can rebuild and check the rule data. What this script adds is curation that the JSON leaves
to prose: which series applies to which table and end use, which methods each allows, and
the legal reference of each entry. Run it after the reference changes and review the diff:

    python tools/build_usmca_rules.py            # rewrite the data file
    python tools/build_usmca_rules.py --check    # exit 1 when the data file is stale

A treaty change (the 2026 joint review) is a *new* data file with a later valid_from, not an
edit of this one: rule sets are dated, and determinations name the rule set they used.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A copy of ../shared/reference/usmca_automotive_thresholds.json travels with the repository,
# so that the rule data can be rebuilt and checked from a clone alone; `make lint` checks
# the copy against the shared reference whenever that is beside the repository.
SOURCE = ROOT / "tools" / "data" / "usmca_automotive_thresholds.json"
TARGET = ROOT / "origin_rules" / "data" / "usmca" / "2020-07-01.toml"

PV_LT = ["passenger_vehicle", "light_truck"]



#: What the US content figure of a determination is and is not (origin_rules.engine.us_content).
US_CONTENT_STATEMENT = (
    "US content here is the value, in the good's total cost, of the materials the document "
    "says were produced in the United States (their country US) plus the producer's own "
    "costs when the producer produces in the United States; non-US content is the rest, "
    "materials of unstated country included. It is a sourcing indicator, not the US content "
    "of Section 232: under Proclamation 10908 the 25 % duty on USMCA-qualifying passenger "
    "vehicles and light trucks applies to the value of their non-US content as approved by "
    "the Department of Commerce under its procedures (90 FR 21450), and CBP's instructions "
    "(CSMS # 65649652, July 16, 2025) have the entry report that approved non-US content "
    "value (HTSUS 9903.94.03) and the US content as the entered value less it (9903.94.02). "
    "That US content is the value of parts wholly obtained, produced entirely or "
    "substantially transformed in the United States (usmca-rules.md s.4, from secondary "
    "summaries); a material's country of production in a BOM need not be where it was last "
    "substantially transformed, and the share here is of total cost, not of entered value. "
    "Not an origin criterion: USMCA origin is the RVC and the rule."
)
US_CONTENT_REFERENCE = (
    "Proclamation 10908 (90 FR 14705); Commerce, 90 FR 21450 (May 20, 2025); CBP CSMS "
    "# 65649652 (July 16, 2025)"
)

#: The provisions the engine's own statements cite (origin_rules.rules.REFERENCE_KEYS says
#: which statement each is for). Curated here, like every reference of this file: the
#: engine and its explanations cite these, never a provision of their own.
REFERENCES = {
    "criterion_b": "Art. 4.2(b)",
    "criterion_c": "Art. 4.2(c)",
    "criterion_d": "Art. 4.2(d)",
    "alternatives": "SOR/2020-155 s.3(6)",
    "self_produced_choice": "SOR/2020-155 s.3(8)",
    "shift_de_minimis": "Art. 4.12",
    "rvc_de_minimis": "Art. 4.12; SOR/2020-155 s.5(4)",
    "de_minimis_exclusions": "Annex 4-A",
    "method_choice": "Art. 4.5.5",
    "intermediate": "Art. 4.8",
    "one_layer_rule": "Art. 4.8; SOR/2020-155 s.8(6)",
    "accumulation": "Art. 4.11; SOR/2020-155 s.9",
    "accumulation_vnm_only": "SOR/2020-155 s.9(2)-(3)",
    "indirect": "Art. 4.9",
    "packing": "Art. 4.16",
    "core_parts": "SOR/2020-155 s.14(4)-(5), Tables A.1 and A.2",
    "core_parts_table": "Table A.2",
    "table_b_or_shift": "SOR/2020-155 s.14(14)",
    "table_c_or_shift": "SOR/2020-155 s.14(16)",
    "aftermarket": "SOR/2020-155 s.14(18)",
    "document_rule": "product-specific rule stated by the producer in the BOM (Annex 4-B)",
}


def q(text: str) -> str:
    """A TOML basic string."""
    return json.dumps(text, ensure_ascii=False)


def qlist(values: list[str]) -> str:
    return "[" + ", ".join(q(v) for v in values) + "]"


def series(values: dict[str, float | int] | None) -> list[tuple[date, str]]:
    """JSON year keys -> (valid_from, percent); each year applies from July 1."""
    if not values:
        return []
    out = []
    for year, pct in sorted(values.items()):
        start = date(2020, 7, 1) if year == "any" else date(int(year), 7, 1)
        out.append((start, format_pct(pct)))
    return out


def format_pct(value: float | int) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def hs_rows(table: dict) -> list[str]:
    return [row["hs"] for row in table["rows"]]


def normalise_hs(entries: list[str]) -> list[str]:
    """Split the Agreement's combined entries; national '.aa' items become 'ex' subheadings."""
    out: list[str] = []
    for entry in entries:
        for part in entry.replace(" and ", ", ").split(", "):
            part = part.strip()
            if " through " in part:
                lo, hi = part.split(" through ")
                out.append(f"{lo}-{hi}")
                continue
            pieces = part.removeprefix("ex ").split(".")
            if len(pieces) == 3 and pieces[2].isalpha():
                out.append(f"ex {pieces[0]}.{pieces[1]}")
            else:
                out.append(part)
    return list(dict.fromkeys(out))


def category(
    lines: list[str],
    *,
    id: str,
    kind: str,
    title: str,
    hs: list[str],
    reference: str,
    net_cost: list[tuple[date, str]],
    transaction_value: list[tuple[date, str]] | None = None,
    end_use: list[str] | None = None,
    table: str | None = None,
    requirements: list[str] | None = None,
    lvc: str | None = None,
    explicit_only: bool = False,
    valid_to: date | None = None,
    exclude_hs: list[str] | None = None,
    note: str | None = None,
) -> None:
    lines += ["", "[[category]]", f"id = {q(id)}", f"kind = {q(kind)}", f"title = {q(title)}"]
    if table:
        lines.append(f"table = {q(table)}")
    if end_use:
        lines.append(f"end_use = {qlist(end_use)}")
    lines.append(f"hs = {qlist(hs)}")
    if exclude_hs:
        lines.append(f"exclude_hs = {qlist(exclude_hs)}")
    if explicit_only:
        lines.append("explicit_only = true")
    if valid_to:
        lines.append(f"valid_to = {valid_to.isoformat()}")
    if requirements:
        lines.append(f"requirements = {qlist(requirements)}")
    if lvc:
        lines.append(f"labor_value_content = {q(lvc)}")
    lines.append(f"reference = {q(reference)}")
    if note:
        lines.append(f"note = {q(note)}")
    for method, values in (("net_cost", net_cost), ("transaction_value", transaction_value or [])):
        for start, pct in values:
            lines += [
                "",
                "[[category.threshold]]",
                f"method = {q(method)}",
                f"valid_from = {start.isoformat()}",
                f"min = {q(pct)}",
            ]


def build(data: dict) -> str:
    th = data["thresholds"]
    tables = data["hs_tables"]
    lines = [
        "# Generated by tools/build_usmca_rules.py from",
        "# shared/reference/usmca_automotive_thresholds.json; edit the generator, not this file.",
        "# A new rule set (e.g. after the 2026 joint review) is a new file with a later",
        "# valid_from.",
        "schema = 1",
        'rule_set = "usmca/2020-07-01"',
        'agreement = "USMCA / T-MEC / CUSMA"',
        f"title = {q(data['_meta']['title'])}",
        "valid_from = 2020-07-01",
        "reference = "
        + q(
            "USMCA Chapter 4 and Appendix to Annex 4-B (automotive goods), as enacted in the "
            "Uniform Regulations: Canada SOR/2020-155; US 19 CFR Part 182 App. A, "
            "19 U.S.C. 4531-4532, HTSUS General Note 11"
        ),
        f"sources = {qlist(data['_meta']['primary_sources'])}",
        "caveats = "
        + qlist(data["_meta"]["unconfirmed"] + [data["_meta"]["not_confirmed_against"]]),
        "",
        "[de_minimis]",
        'percent = "10"',
        'reference = "Art. 4.12; SOR/2020-155 s.5(1) (tariff shift), s.5(4) (RVC), s.5(1)(b) '
        '(de minimis materials stay in VNM)"',
    ]
    exclusions = [
        (["50-63"], "any", "Annex 4-A; SOR/2020-155 s.5(3): textiles and apparel of Chapters "
         "50-63 use the weight-based rule of s.5(6)-(10) instead"),
        (["01-27"], "same_subheading", "Annex 4-A; SOR/2020-155 s.5(3): a good of Chapters 1-27 "
         "unless the non-originating material is of a different subheading"),
        (["04.01-04.06"], "04.01-04.06", "Annex 4-A: dairy of 04.01-04.06"),
        (["1901.10", "1901.20", "1901.90", "2106.90", "21.05", "2202.99", "2309.90"],
         "04.01-04.06", "Annex 4-A: dairy materials into dairy preparations"),
        (["2009.11-2009.39", "2106.90", "2202.99"], "08.05",
         "Annex 4-A: citrus of 08.05 into citrus juices"),
        (["2101.11"], "09", "Annex 4-A: Chapter 9 materials into instant coffee"),
        (["15.01-15.08", "15.12", "15.14", "15.15"], "15",
         "Annex 4-A: Chapter 15 materials into fats and oils"),
        (["17.01-17.03"], "17.01", "Annex 4-A: sugar of 17.01"),
        (["1806.10"], "17", "Annex 4-A: Chapter 17 materials into cocoa powder 1806.10"),
        (["1806.10"], "18.05", "Annex 4-A: cocoa powder of 18.05 into 1806.10"),
        (["20.08"], "08", "Annex 4-A: Chapter 8 fruit (pears, peaches, apricots) into 20.08"),
        (["20.08"], "20", "Annex 4-A: Chapter 20 fruit (pears, peaches, apricots) into 20.08"),
        (["2009.90", "2106.90", "2202.99"], "20.09",
         "Annex 4-A: single juices of 20.09 into juice mixtures"),
        (["22.07-22.08"], "22.03-22.08", "Annex 4-A: beverages of 22.03-22.08 into 22.07/22.08"),
    ]
    for goods, materials, ref in exclusions:
        lines += ["", "[[de_minimis.exclusion]]", f"goods = {qlist(goods)}"]
        lines.append(f"materials = {q(materials)}" if materials in ("any", "same_subheading")
                     else f"materials = {qlist([materials])}")
        lines.append(f"reference = {q(ref)}")
    ts = th["tariff_shift_exception_same_subheading_or_unassembled"]
    lines += [
        "",
        "[criterion_d]",
        f"net_cost = {q(format_pct(ts['net_cost']['any']))}",
        f"transaction_value = {q(format_pct(ts['transaction_value']['any']))}",
        'excluded_chapters = ["61", "62", "63"]',
        f"reference = {q('Art. 4.2(d); ' + ts['source'] + '; 19 U.S.C. 4531(c)(1)(D)')}",
        '# The RVC of s.3(4)(a) is "determined in accordance with" s.7 (Art. 4.5; 19 U.S.C.',
        "# 4531(d)), and s.7(6) (4531(d)(5)) allows only the net cost method when the "
        "product-specific",
        "# rule gives no transaction value requirement: a tariff-shift-only rule, or a "
        "net-cost-only one,",
        "# leaves criterion D to net cost; the 60 % of s.3(4)(a) applies where the rule names "
        "a TV RVC.",
        "methods_reference = " + q("SOR/2020-155 s.3(4)(a), s.7(1) and s.7(6); Art. 4.2(d), "
                                   "Art. 4.5; 19 U.S.C. 4531(c)(1)(D), (d)(5)"),
        "",
        # Section 232 reads "U.S. content"; the engine's figure is a sourcing indicator and
        # says so (issue 10). CBP's and Commerce's texts as found: CSMS # 65649652.
        "[us_content]",
        "statement = " + q(US_CONTENT_STATEMENT),
        "reference = " + q(US_CONTENT_REFERENCE),
        "",
        "# What the engine's own statements cite (origin_rules.rules.REFERENCE_KEYS): a",
        "# determination's reasons carry these, from the rule set in force for it.",
        "[references]",
        *(f"{key} = {q(text)}" for key, text in REFERENCES.items()),
        "",
        # GN 11 final-year rules quoted in usmca-rules.md s.2.3: these product-specific rules
        # offer no transaction value method, so the tables' TV percentages cannot be used.
        "[[net_cost_only]]",
        'hs = ["8708.21"]',
        'reference = "HTSUS General Note 11, chapter 87: 8708.21 for PV/LT/HT, 70 % net cost; '
        'SOR/2020-155 s.7(6)"',
        "",
        "[[net_cost_only]]",
        'hs = ["8708.29"]',
        'tables = ["A.1"]',
        'reference = "HTSUS General Note 11, chapter 87: 8708.29 body stampings for PV/LT, '
        '75 % net cost; SOR/2020-155 s.7(6)"',
        "",
        "[[net_cost_only]]",
        'hs = ["8708.40"]',
        'reference = "HTSUS General Note 11, chapter 87: 8708.40 gear boxes, 75 % net cost for '
        'PV/LT, 70 % for HT; SOR/2020-155 s.7(6)"',
    ]

    sa = data["steel_aluminum_purchase"]
    lines += [
        "",
        "[steel_aluminum]",
        f"reference = {q(sa['source'] + '; 19 CFR 182.96-182.97')}",
        f"note = {q(sa['implementation_note'])}",
    ]
    for start, pct in series(sa["min_originating_share_pct"]):
        lines += ["", "[[steel_aluminum.threshold]]", f"valid_from = {start.isoformat()}",
                  f"min = {q(pct)}"]

    lvc = data["labor_value_content"]
    for lvc_id, key in (("passenger_vehicle", "passenger_vehicle"),
                        ("light_truck", "light_truck"), ("heavy_truck", "heavy_truck")):
        entry = lvc[key]
        lines += [
            "",
            "[[labor_value_content]]",
            f"id = {q(lvc_id)}",
            "max_technology_credit = "
            + q(format_pct(entry["max_high_wage_technology_credit_points"])),
            "max_assembly_credit = "
            + q(format_pct(entry["max_high_wage_assembly_credit_points"])),
            f"reference = {q(entry['source'])}",
        ]
        hwmme = entry["min_high_wage_material_and_manufacturing_points"]
        hwmme_series = series(hwmme) if isinstance(hwmme, dict) else [
            (date(2020, 7, 1), format_pct(hwmme))]
        totals = dict(series(entry["total"]))
        for start, _ in hwmme_series:
            totals.setdefault(start, totals[max(d for d in totals if d <= start)])
        mins = dict(hwmme_series)
        for start in sorted(totals):
            floor = mins.get(start) or mins[max(d for d in mins if d <= start)]
            lines += [
                "",
                "[[labor_value_content.threshold]]",
                f"valid_from = {start.isoformat()}",
                f"min = {q(totals[start])}",
                f"min_high_wage_material_and_manufacturing = {q(floor)}",
            ]

    # Column-1 parts of Table A.2 as they appear as materials of a vehicle: the HS of the
    # part itself (the first component row of each part), used by the core-parts check.
    core_part_hs = {
        "Engines": ["8407.33", "8407.34", "ex 8408.20"],
        "Transmissions": ["8708.40"],
        "Body and chassis": ["8707.10", "8707.90", "ex 8708.29", "ex 8708.99"],
        "Axles": ["8708.50"],
        "Suspension systems": ["8708.80"],
        "Steering systems": ["8708.94"],
        "Advanced batteries": ["8507.60", "ex 8507.80"],
    }
    for part in tables["A.2"]["parts"]:
        components = [c["component"] for c in part["components"]]
        lines += [
            "",
            "[[core_part]]",
            f"part = {q(part['part'])}",
            f"hs = {qlist(core_part_hs[part['part']])}",
            f"components = {qlist(components)}",
            'reference = "SOR/2020-155 s.14(4), Table A.2 column 1"',
        ]

    # Vehicles: net cost only (s.13). Order matters: the first category whose HS matches is
    # the default; the others are chosen with the document's vehicle.category.
    vehicle_requirements = ["core_parts", "steel_aluminum", "labor_value_content"]
    category(lines, id="passenger_vehicle", kind="vehicle", title="Passenger vehicle",
             hs=["8703.21-8703.90"], reference=th["passenger_vehicle"]["source"],
             net_cost=series(th["passenger_vehicle"]["net_cost"]),
             requirements=vehicle_requirements, lvc="passenger_vehicle",
             note=th["passenger_vehicle"]["scope"] + "; others of 8703.21-8703.90 take "
             "vehicle.category 'other_vehicle_62_5'")
    category(lines, id="light_truck", kind="vehicle", title="Light truck",
             hs=["8704.21", "8704.31"], reference=th["light_truck"]["source"],
             net_cost=series(th["light_truck"]["net_cost"]),
             requirements=vehicle_requirements, lvc="light_truck",
             note=th["light_truck"]["scope"])
    category(lines, id="heavy_truck", kind="vehicle", title="Heavy truck",
             hs=["8701.20", "8704.22", "8704.23", "8704.32", "8704.90"],
             reference=th["heavy_truck"]["source"],
             net_cost=series(th["heavy_truck"]["net_cost"]),
             requirements=["steel_aluminum", "labor_value_content"], lvc="heavy_truck",
             note=th["heavy_truck"]["scope"])
    category(lines, id="snow_golf_vehicle", kind="vehicle",
             title="Snowmobiles, golf carts and similar vehicles of 8703.10",
             hs=["8703.10"], reference="SOR/2020-155 s.13 table (8703.10)",
             net_cost=[(date(2020, 7, 1), "50")],
             transaction_value=[(date(2020, 7, 1), "60")])
    category(lines, id="other_vehicle_62_5", kind="vehicle",
             title="Other vehicles at 62.5 % (s.20(2))",
             hs=["87.02", "8703.21-8703.90", "8704.21", "8704.31"],
             reference=th["other_vehicles_62_5"]["source"],
             net_cost=series(th["other_vehicles_62_5"]["net_cost"]),
             note=th["other_vehicles_62_5"]["scope"] + "; 87.02 buses default here (15 or "
             "fewer persons); buses for 16 or more persons take 'other_vehicle_60'")
    category(lines, id="other_vehicle_60", kind="vehicle",
             title="Other vehicles at 60 % (s.20(3))",
             hs=["87.01", "87.02", "8704.10", "8704.22", "8704.23", "8704.32", "8704.90",
                 "87.05", "87.06"],
             reference=th["other_vehicles_60"]["source"],
             net_cost=series(th["other_vehicles_60"]["net_cost"]),
             note=th["other_vehicles_60"]["scope"])
    category(lines, id="other_vehicle_new_plant_or_refit", kind="vehicle",
             title="Other vehicles from a new or refitted plant (s.20(8))",
             hs=["87.01-87.05"], explicit_only=True,
             reference=th["other_vehicles_new_plant_or_refit"]["source"],
             net_cost=series(th["other_vehicles_new_plant_or_refit"]["net_cost"]),
             note=th["other_vehicles_new_plant_or_refit"]["conditions"])
    asr = th["alternative_staging_regime_vehicle"]
    category(lines, id="alternative_staging_regime", kind="vehicle",
             title="Alternative staging regime, passenger vehicles and light trucks (s.19)",
             hs=["8703.21-8703.90", "8704.21", "8704.31"], explicit_only=True,
             valid_to=date(2025, 6, 30), reference=asr["source"],
             net_cost=series(asr["net_cost"]),
             requirements=["steel_aluminum"],
             note=asr["applies_to"] + "; exempt from core parts; LVC 25 % (not encoded)")

    # Parts, original equipment (s.14-15, s.20); first matching table is the default when an
    # 'ex' entry makes the table ambiguous (strictest first).
    a1 = th["table_A1_core_parts_for_PV_LT"]
    category(lines, id="table_A1", kind="part", table="A.1", end_use=PV_LT,
             title="Table A.1 - core parts for passenger vehicles and light trucks",
             hs=normalise_hs(hs_rows(tables["A.1"])), reference=a1["source"] + "; s.14(2)",
             net_cost=series(a1["net_cost"]), transaction_value=series(a1["transaction_value"]),
             note="originating only if the RVC requirement is met; tariff shift alone is not "
             "enough (s.14(2)); Li-ion batteries of 8507.60 may also qualify under Sch. 1 "
             "(not encoded)")
    b = th["table_B_principal_parts_for_PV_LT"]
    category(lines, id="table_B", kind="part", table="B", end_use=PV_LT,
             title="Table B - principal parts for passenger vehicles and light trucks",
             hs=normalise_hs(hs_rows(tables["B"])), reference=b["source"] + "; s.14(14)",
             net_cost=series(b["net_cost"]), transaction_value=series(b["transaction_value"]),
             note="the product-specific rule's tariff-shift alternative also applies "
             "(s.14(14)): the Table's RVC or a tariff-shift-only alternative of the rule")
    c = th["table_C_complementary_parts_for_PV_LT"]
    category(lines, id="table_C", kind="part", table="C", end_use=PV_LT,
             title="Table C - complementary parts for passenger vehicles and light trucks",
             hs=normalise_hs(hs_rows(tables["C"])), reference=c["source"] + "; s.14(16)",
             net_cost=series(c["net_cost"]), transaction_value=series(c["transaction_value"]),
             note="the product-specific rule's tariff-shift alternative also applies "
             "(s.14(16)): the Table's RVC or a tariff-shift-only alternative of the rule")
    d = th["table_D_principal_parts_for_heavy_truck"]
    category(lines, id="table_D", kind="part", table="D", end_use=["heavy_truck"],
             title="Table D - principal parts for heavy trucks",
             hs=normalise_hs(hs_rows(tables["D"])), reference=d["source"],
             net_cost=series(d["net_cost"]), transaction_value=series(d["transaction_value"]),
             note=d["note"])
    e = th["table_E_complementary_parts_for_heavy_truck"]
    category(lines, id="table_E", kind="part", table="E", end_use=["heavy_truck"],
             title="Table E - complementary parts for heavy trucks",
             hs=normalise_hs(hs_rows(tables["E"])), reference=e["source"],
             net_cost=series(e["net_cost"]), transaction_value=series(e["transaction_value"]),
             note="TV only if the corresponding product-specific rule includes a transaction "
             "value method (s.15(3))")
    ov62 = th["other_vehicles_62_5"]
    category(lines, id="other_vehicle_engines_transmissions", kind="part", table="F",
             end_use=["other_vehicle"],
             title="Engines and gear boxes for other vehicles (s.20(2)-(3))",
             hs=["84.07", "84.08", "8708.40"], reference=ov62["source"],
             net_cost=series(ov62["net_cost"]),
             note="62.5 % for vehicles of s.20(2); engines and gear boxes for vehicles of "
             "s.20(3) need 60 % (the stricter figure is applied)")
    ov60 = th["other_vehicles_60"]
    category(lines, id="table_F", kind="part", table="F", end_use=["other_vehicle"],
             title="Table F - parts for other vehicles",
             hs=normalise_hs(hs_rows(tables["F"])),
             exclude_hs=["8482.10-8482.80", "8483.20", "8483.30"],
             reference=ov60["source"] + "; Table F",
             net_cost=series(ov60["net_cost"]),
             note="Table F goods subject to an RVC requirement, for use as original equipment "
             "in vehicles of s.20(2)(a)-(g) or (3)(a); 8482.10-8482.80, 8483.20 and 8483.30 "
             "are excepted")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the data file is stale")
    args = parser.parse_args()
    text = build(json.loads(SOURCE.read_text(encoding="utf-8")))
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run tools/build_usmca_rules.py",
                  file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
