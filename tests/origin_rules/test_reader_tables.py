"""`tmec-bom/1` as tables: a CSV pair and an Excel workbook (spec: "CSV and Excel").

The tables carry the same fields as the JSON document, nested ones flattened with dots, so
the CSV trio and the workbook of `tests/assets/boms/two_level.*` must give a
`BillOfMaterials` equal to the one of `two_level.json`. Errors name the file or sheet and
the row number a spreadsheet shows (header = row 1, blank rows skipped but counted).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from origin_rules.bom import BillOfMaterials, Method, TariffShift
from origin_rules.errors import BomError
from origin_rules.reader import parse_bom_csv, parse_bom_json, parse_bom_xlsx

BOMS = Path(__file__).resolve().parents[1] / "assets" / "boms"

Table = list[list[Any]]


def asset(name: str) -> str:
    return (BOMS / name).read_text(encoding="utf-8")


def table(name: str) -> Table:
    """A CSV asset as rows of cells, blank cells as None (as an empty spreadsheet cell)."""
    return [[cell or None for cell in row] for row in csv.reader(io.StringIO(asset(name)))]


def to_csv(rows: Sequence[Sequence[Any] | None]) -> str:
    """CSV text; a None row is written as an empty line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        if row is None:
            out.write("\n")
        else:
            writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue()


def workbook(sheets: dict[str, Sequence[Sequence[Any] | None]]) -> bytes:
    """An .xlsx file; a None row is left empty (it still takes a row number)."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row or (), start=1):
                if value is not None:
                    sheet.cell(row=number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def json_bom() -> BillOfMaterials:
    return parse_bom_json((BOMS / "two_level.json").read_bytes())


def csv_bom(**overrides: str | None) -> BillOfMaterials:
    return parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                         asset("two_level.document.csv"), overrides=overrides,
                         name="two_level")


def sheets() -> dict[str, Table]:
    return {"document": table("two_level.document.csv"), "items": table("two_level.items.csv"),
            "lines": table("two_level.lines.csv")}


def column(rows: Table, name: str) -> int:
    return rows[0].index(name)


def row_of(rows: Table, item_id: str) -> list[Any]:
    return next(row for row in rows[1:] if row and row[0] == item_id)


def assert_same_bom(actual: BillOfMaterials, expected: BillOfMaterials) -> None:
    """Field by field first, so that a difference is reported where it is."""
    assert list(actual.items) == list(expected.items)
    for item_id, item in expected.items.items():
        assert actual.items[item_id] == item, item_id
    assert list(actual.lines) == list(expected.lines)
    assert actual == expected


# ---------------------------------------------------------------------------------------
# The same document as JSON, CSV and Excel

def test_the_assets_describe_one_two_level_document() -> None:
    document = json.loads(asset("two_level.json"))
    bom = json_bom()
    assert bom.graph.has_edge("brake", "caliper")
    assert bom.graph.has_edge("caliper", "pad")
    assert {"costs", "rule"} <= document["items"][0].keys()
    assert "intermediate" in document["items"][1]
    header = table("two_level.items.csv")[0]
    for name in ("costs.excluded.royalties", "statement.type", "deductions.freight",
                 "evidence.token", "rule.tariff_shift", "rule.except", "rule.rvc.net_cost",
                 "intermediate", "packing", "indirect", "retail_packaging"):
        assert name in header


def test_the_csv_trio_reads_as_the_json_document() -> None:
    assert_same_bom(csv_bom(), json_bom())


def test_the_excel_workbook_reads_as_the_json_document() -> None:
    assert_same_bom(parse_bom_xlsx(workbook(sheets())), json_bom())


def test_the_flattened_columns_become_the_nested_fields() -> None:
    bom = csv_bom()
    brake = bom.items["brake"]
    assert brake.costs is not None
    assert brake.costs.excluded.royalties == Decimal("0.50")
    assert brake.costs.excluded.non_allowable_interest == Decimal("0.10")
    assert brake.rule is not None
    assert brake.rule.tariff_shift is TariffShift.CTH
    assert brake.rule.except_ == ("8708",)
    assert [(r.method, r.min) for r in brake.rule.rvc] == [
        (Method.NET_COST, Decimal(50)), (Method.TRANSACTION_VALUE, Decimal(60))]
    disc = bom.items["disc"]
    assert disc.evidence is not None
    assert disc.evidence.token == "sha256:9f2c4e1a7b3d5f60"
    assert disc.statement is not None
    assert disc.statement.vnm == Decimal("4.00")
    pad = bom.items["pad"]
    assert pad.deductions is not None
    assert pad.deductions.freight == Decimal("0.50")
    assert bom.items["caliper"].intermediate is True
    assert (bom.items["crate"].packing, bom.items["grease"].indirect,
            bom.items["sleeve"].retail_packaging) == (True, True, True)
    assert bom.producer is not None
    assert bom.producer.country == "MX"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("8708;8714", ("8708", "8714")), ("8708, 8714", ("8708", "8714")),
     ("87 8714.10", ("87", "871410")), ("8708.30", ("870830",))],
)
def test_rule_except_lists_several_prefixes(cell: str, expected: tuple[str, ...]) -> None:
    rows = table("two_level.items.csv")
    row_of(rows, "brake")[column(rows, "rule.except")] = cell
    bom = parse_bom_csv(to_csv(rows), asset("two_level.lines.csv"),
                        asset("two_level.document.csv"))
    assert bom.items["brake"].rule is not None
    assert bom.items["brake"].rule.except_ == expected


# ---------------------------------------------------------------------------------------
# Spreadsheet cells that are numbers, booleans or dates

def test_numeric_excel_cells_become_the_decimals_typed() -> None:
    book = sheets()
    items, lines = book["items"], book["lines"]
    row_of(items, "pad")[column(items, "unit_value")] = 12.5
    row_of(items, "bolt")[column(items, "unit_value")] = 0.4
    row_of(items, "brake")[column(items, "costs.period")] = 10
    row_of(items, "brake")[column(items, "rule.rvc.net_cost")] = 50
    lines[1][column(lines, "qty")] = 3
    lines[5][column(lines, "qty")] = 0.05
    bom = parse_bom_xlsx(workbook(book))
    assert str(bom.items["pad"].unit_value) == "12.5"
    assert str(bom.items["bolt"].unit_value) == "0.4"
    assert bom.items["brake"].costs is not None
    assert str(bom.items["brake"].costs.period) == "10"
    assert bom.items["brake"].rule is not None
    assert str(bom.items["brake"].rule.rvc[0].min) == "50"
    assert (bom.lines[0].child, str(bom.lines[0].qty)) == ("caliper", "3")
    assert str(bom.lines[4].qty) == "0.05"


@pytest.mark.parametrize(
    ("number", "text"),
    [(8708.3, "8708.30"), (6813.81, "6813.81"), (7318.15, "7318.15"), (4415.1, "4415.10"),
     (3403.99, "3403.99"), (8714.99, "8714.99")],
)
def test_an_hs_code_stored_as_a_number_is_restored_to_two_decimals(
    number: float, text: str
) -> None:
    book = sheets()
    items = book["items"]
    row_of(items, "pad")[column(items, "hs")] = number
    assert parse_bom_xlsx(workbook(book)).items["pad"].hs == text


@pytest.mark.parametrize("number", [8708, 8708.3099, 87.08])
def test_an_hs_code_number_that_cannot_be_restored_is_refused(number: float) -> None:
    book = sheets()
    items = book["items"]
    row_of(items, "pad")[column(items, "hs")] = number
    with pytest.raises(BomError) as caught:
        parse_bom_xlsx(workbook(book))
    message = str(caught.value)
    assert "sheet 'items' row 4" in message
    assert "'hs'" in message


@pytest.mark.parametrize("truth", ["true", "TRUE", "True", "yes", "Y", "x", "1", True, 1])
def test_boolean_cells_that_mean_true(truth: Any) -> None:
    book = sheets()
    items = book["items"]
    row_of(items, "crate")[column(items, "packing")] = truth
    assert parse_bom_xlsx(workbook(book)).items["crate"].packing is True


@pytest.mark.parametrize("falsehood", ["false", "no", "N", "0", False, 0, None])
def test_boolean_cells_that_mean_false(falsehood: Any) -> None:
    book = sheets()
    items = book["items"]
    row_of(items, "caliper")[column(items, "intermediate")] = falsehood
    assert parse_bom_xlsx(workbook(book)).items["caliper"].intermediate is False


def test_a_false_boolean_column_does_not_clash_with_the_kind_of_the_row() -> None:
    # A table has one column per field for every row: a bought row says "no" in the made
    # items' `intermediate` column and a made row "no" in `packing`. A false value is the
    # default and says nothing of the kind; only true values belong to one kind.
    rows = table("two_level.items.csv")
    for name in ("indirect", "packing", "retail_packaging", "intermediate"):
        at = column(rows, name)
        for row in rows[1:]:
            row[at] = row[at] or "no"
    bom = parse_bom_csv(to_csv(rows), asset("two_level.lines.csv"),
                        asset("two_level.document.csv"))
    assert_same_bom(bom, json_bom())


@pytest.mark.parametrize(("cell", "shown"), [("maybe", "'maybe'"), ("2", "'2'"),
                                             ("oui", "'oui'")])
def test_a_bad_boolean_is_refused_naming_file_row_and_column(cell: str, shown: str) -> None:
    rows = table("two_level.items.csv")
    row_of(rows, "crate")[column(rows, "packing")] = cell
    with pytest.raises(BomError) as caught:
        parse_bom_csv(to_csv(rows), asset("two_level.lines.csv"),
                      asset("two_level.document.csv"), name="two_level")
    assert str(caught.value) == (
        f"two_level.items.csv row 9, column 'packing': {shown} is not true or false")


def test_a_bad_boolean_number_in_excel_is_refused() -> None:
    book = sheets()
    items = book["items"]
    row_of(items, "crate")[column(items, "packing")] = 2
    with pytest.raises(BomError, match=r"^sheet 'items' row 9, column 'packing': '2' is not "
                                       r"true or false$"):
        parse_bom_xlsx(workbook(book))


def test_a_boolean_excel_cell_in_a_text_column_is_refused() -> None:
    book = sheets()
    items = book["items"]
    row_of(items, "pad")[column(items, "description")] = True
    with pytest.raises(BomError, match=r"sheet 'items' row 4, column 'description'"):
        parse_bom_xlsx(workbook(book))


def test_a_date_cell_in_the_document_sheet_is_the_date_typed() -> None:
    # Typing 2023-07-15 into a spreadsheet stores a date; as_of must read as that date.
    book = sheets()
    document = book["document"]
    next(row for row in document if row[0] == "as_of")[1] = datetime.datetime(2023, 7, 15)
    assert parse_bom_xlsx(workbook(book)).as_of == datetime.date(2023, 7, 15)


# ---------------------------------------------------------------------------------------
# Row numbers as a spreadsheet shows them

def with_bad_pad(rows: Table) -> Table:
    row_of(rows, "pad")[column(rows, "unit_value")] = "-8.00"
    return rows


def test_csv_errors_name_the_file_and_row() -> None:
    items = with_bad_pad(table("two_level.items.csv"))
    with pytest.raises(BomError) as caught:
        parse_bom_csv(to_csv(items), asset("two_level.lines.csv"),
                      asset("two_level.document.csv"), name="two_level")
    assert str(caught.value).startswith("item 'pad' (two_level.items.csv row 4), field "
                                        "'unit_value': must not be negative")
    assert caught.value.path == "items[2].unit_value"


def test_csv_blank_lines_are_skipped_but_counted() -> None:
    items = with_bad_pad(table("two_level.items.csv"))
    items[2:2] = [None, None]  # two blank lines before the caliper
    bom_rows = [*items[:1], None, *items[1:]]  # and one after the header
    with pytest.raises(BomError, match=r"two_level\.items\.csv row 7\b"):
        parse_bom_csv(to_csv(bom_rows), asset("two_level.lines.csv"),
                      asset("two_level.document.csv"), name="two_level")


def test_csv_blank_rows_made_of_separators_are_skipped_but_counted() -> None:
    # A spreadsheet saves an empty row as ",,,,": it is as blank as an empty line.
    items = table("two_level.items.csv")
    text = to_csv(items[:3]) + "," * (len(items[0]) - 1) + "\n" + to_csv(
        with_bad_pad(items)[3:])
    with pytest.raises(BomError, match=r"two_level\.items\.csv row 5\b"):
        parse_bom_csv(text, asset("two_level.lines.csv"), asset("two_level.document.csv"),
                      name="two_level")


def test_excel_errors_name_the_sheet_and_row_and_count_blank_rows() -> None:
    book = sheets()
    items = with_bad_pad(book["items"])
    book["items"] = [items[0], None, *items[1:3], None, None, *items[3:]]
    with pytest.raises(BomError) as caught:
        parse_bom_xlsx(workbook(book))
    assert str(caught.value).startswith("item 'pad' (sheet 'items' row 7), field "
                                        "'unit_value': must not be negative")
    assert caught.value.path == "items[2].unit_value"


def test_blank_rows_do_not_change_the_excel_document() -> None:
    book = sheets()
    book["items"] = [book["items"][0], None, *book["items"][1:], None]
    book["lines"] = [*book["lines"][:3], None, *book["lines"][3:]]
    assert_same_bom(parse_bom_xlsx(workbook(book)), json_bom())


def test_line_errors_name_the_lines_table_and_row() -> None:
    lines = table("two_level.lines.csv")
    lines[3][1] = "rotor"
    with pytest.raises(BomError) as caught:
        parse_bom_csv(asset("two_level.items.csv"), to_csv(lines),
                      asset("two_level.document.csv"), name="two_level")
    assert str(caught.value).startswith("two_level.lines.csv row 4, field 'child': \"rotor\"")
    assert caught.value.path == "lines[2].child"
    book = sheets()
    book["lines"][3][1] = "rotor"
    with pytest.raises(BomError, match=r"^sheet 'lines' row 4, field 'child'"):
        parse_bom_xlsx(workbook(book))


def test_a_document_field_given_twice_names_its_row() -> None:
    document = [*table("two_level.document.csv"), ["currency", "MXN"]]
    with pytest.raises(BomError, match=r"^two_level\.document\.csv row 10: field 'currency' "
                                       r"is given twice"):
        parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                      to_csv(document), name="two_level")
    book = sheets()
    book["document"] = document
    with pytest.raises(BomError, match=r"^sheet 'document' row 10: field 'currency'"):
        parse_bom_xlsx(workbook(book))


def test_the_default_csv_name_is_bom() -> None:
    with pytest.raises(BomError, match=r"bom\.items\.csv row 4"):
        parse_bom_csv(to_csv(with_bad_pad(table("two_level.items.csv"))),
                      asset("two_level.lines.csv"), asset("two_level.document.csv"))


# ---------------------------------------------------------------------------------------
# Table shape: sheets, headers, extra cells

@pytest.mark.parametrize("missing", ["items", "lines"])
def test_a_workbook_without_a_required_sheet_is_refused(missing: str) -> None:
    book = sheets()
    del book[missing]
    with pytest.raises(BomError) as caught:
        parse_bom_xlsx(workbook(book))
    assert f"no sheet named {missing!r}" in str(caught.value)
    assert "'document'" in str(caught.value)  # the sheets it does have


def test_sheet_names_ignore_case_and_surrounding_spaces() -> None:
    book = sheets()
    renamed = {"Document": book["document"], "ITEMS": book["items"], " Lines ": book["lines"]}
    assert_same_bom(parse_bom_xlsx(workbook(renamed)), json_bom())


def test_an_empty_sheet_is_refused() -> None:
    book: dict[str, Sequence[Sequence[Any] | None]] = {**sheets(), "lines": []}
    with pytest.raises(BomError, match="sheet 'lines' is empty"):
        parse_bom_xlsx(workbook(book))


def test_an_empty_csv_table_is_refused() -> None:
    with pytest.raises(BomError, match=r"two_level\.lines\.csv is empty"):
        parse_bom_csv(asset("two_level.items.csv"), "", name="two_level")


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not really", b"id,hs\n"],
                         ids=["empty", "broken zip", "csv text"])
def test_bytes_that_are_not_a_workbook_are_refused(data: bytes) -> None:
    with pytest.raises(BomError, match="not a readable Excel workbook"):
        parse_bom_xlsx(data)


def test_csv_cells_beyond_the_header_are_refused() -> None:
    items = table("two_level.items.csv")
    row_of(items, "pad").append("surplus")
    with pytest.raises(BomError, match=r"^two_level\.items\.csv row 4: the row has more cells "
                                       r"than the header has columns"):
        parse_bom_csv(to_csv(items), asset("two_level.lines.csv"),
                      asset("two_level.document.csv"), name="two_level")


def test_excel_cells_beyond_the_header_are_refused() -> None:
    # Same table, same rule as CSV: a value under no header is not silently dropped.
    book = sheets()
    row_of(book["items"], "pad").extend([None, "surplus"])
    with pytest.raises(BomError, match=r"sheet 'items' row 4"):
        parse_bom_xlsx(workbook(book))


def test_a_column_given_twice_is_refused() -> None:
    # Like a JSON key repeated in one object, a repeated column would silently hide one
    # of the two values.
    items = [[*row, row[1]] for row in table("two_level.items.csv")]
    row_of(items, "pad")[-1] = "6813.89"
    with pytest.raises(BomError, match="'hs'"):
        parse_bom_csv(to_csv(items), asset("two_level.lines.csv"),
                      asset("two_level.document.csv"), name="two_level")


def test_a_column_that_conflicts_with_a_nested_column_is_refused() -> None:
    items = [[*row, None] for row in table("two_level.items.csv")]
    items[0][-1] = "costs.period.q1"
    row_of(items, "brake")[-1] = "1.00"
    with pytest.raises(BomError, match=r"two_level\.items\.csv row 2: column 'costs\.period\.q1' "
                                       r"conflicts with column 'period'"):
        parse_bom_csv(to_csv(items), asset("two_level.lines.csv"),
                      asset("two_level.document.csv"), name="two_level")


def test_an_unknown_rvc_method_column_is_refused() -> None:
    items = [[*row, None] for row in table("two_level.items.csv")]
    items[0][-1] = "rule.rvc.build_down"
    row_of(items, "brake")[-1] = "35"
    with pytest.raises(BomError) as caught:
        parse_bom_csv(to_csv(items), asset("two_level.lines.csv"),
                      asset("two_level.document.csv"), name="two_level")
    assert '"build_down"' in str(caught.value)
    assert "two_level.items.csv row 2" in str(caught.value)


def test_unknown_columns_are_ignored_like_unknown_item_fields() -> None:
    items = [[*row, None] for row in table("two_level.items.csv")]
    items[0][-1] = "x-erp.part_no"
    row_of(items, "pad")[-1] = "P-0042"
    bom = parse_bom_csv(to_csv(items), asset("two_level.lines.csv"),
                        asset("two_level.document.csv"))
    assert_same_bom(bom, json_bom())


# ---------------------------------------------------------------------------------------
# Document fields: the `document` table and overrides (command-line options)

def test_document_fields_come_from_the_document_table() -> None:
    bom = csv_bom()
    assert (bom.good, bom.as_of, bom.currency, bom.method) == (
        "brake", datetime.date(2023, 7, 15), "USD", Method.NET_COST)
    assert bom.producer is not None
    assert (bom.producer.name, bom.producer.tax_id) == ("Frenos del Norte SA de CV",
                                                        "FNO010101AB1")


def test_overrides_replace_document_table_fields() -> None:
    bom = csv_bom(as_of="2024-01-01", currency="MXN", method="transaction_value")
    assert (bom.as_of, bom.currency, bom.method) == (
        datetime.date(2024, 1, 1), "MXN", Method.TRANSACTION_VALUE)


def test_overrides_set_to_none_leave_the_document_table_alone() -> None:
    assert_same_bom(csv_bom(as_of=None, currency=None, good=None), json_bom())


def test_without_a_document_table_the_overrides_give_the_top_level_fields() -> None:
    bom = parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                        overrides={"good": "brake", "currency": "USD", "as_of": "2023-07-15",
                                   "method": "net_cost"})
    expected = json_bom()
    assert (bom.good, bom.as_of, bom.currency, bom.method) == (
        expected.good, expected.as_of, expected.currency, expected.method)
    assert bom.items == expected.items
    assert bom.producer is None
    book = sheets()
    del book["document"]
    from_excel = parse_bom_xlsx(workbook(book), overrides={
        "good": "brake", "currency": "USD", "as_of": "2023-07-15", "method": "net_cost"})
    assert from_excel == bom


@pytest.mark.parametrize("missing", ["good", "as_of", "currency"])
def test_without_a_document_table_a_missing_field_is_named(missing: str) -> None:
    overrides = {"good": "brake", "currency": "USD", "as_of": "2023-07-15"}
    del overrides[missing]
    with pytest.raises(BomError) as caught:
        parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                      overrides=overrides)
    assert caught.value.path == missing
    assert f"field {missing!r} is required" in str(caught.value)


def test_a_bad_override_is_named_like_a_document_field() -> None:
    with pytest.raises(BomError) as caught:
        csv_bom(as_of="2024-02-30")
    assert caught.value.path == "as_of"


def test_the_format_row_of_the_document_table_is_checked() -> None:
    document = table("two_level.document.csv")
    document[1][1] = "tmec-bom/2"
    with pytest.raises(BomError) as caught:
        parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                      to_csv(document))
    assert caught.value.path == "format"


def test_unknown_document_table_fields_are_kept_in_extensions() -> None:
    document = [*table("two_level.document.csv"), ["erp_batch", "B-2023-07"]]
    bom = parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                        to_csv(document))
    assert bom.extensions == {"erp_batch": "B-2023-07"}


def test_a_csv_with_a_utf8_byte_order_mark_is_read() -> None:
    bom = parse_bom_csv("\ufeff" + asset("two_level.items.csv"),
                        "\ufeff" + asset("two_level.lines.csv"),
                        "\ufeff" + asset("two_level.document.csv"))
    assert_same_bom(bom, json_bom())


def test_invalid_csv_is_refused_with_the_file_name() -> None:
    too_long = "x" * (csv.field_size_limit() + 1)  # the csv module's own limit
    with pytest.raises(BomError, match=r"two_level\.lines\.csv: not valid CSV"):
        parse_bom_csv(asset("two_level.items.csv"), f"parent,child,qty\nbrake,{too_long},2\n",
                      asset("two_level.document.csv"), name="two_level")


# ---------------------------------------------------------------------------------------
# The vehicle block as dotted rows of the document table (as tools/bom_to_tables.py
# writes it): the tables carry everything the JSON document does


def _bom_to_tables() -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "tools" / "bom_to_tables.py"
    spec = importlib.util.spec_from_file_location("bom_to_tables", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", ["X10_lvc_light_truck_caps_credit.json",
                                  "X11_steel_purchases_69_percent.json"])
def test_a_vehicle_document_reads_the_same_from_its_tables(case: str, tmp_path: Path) -> None:
    from origin_rules import determine_origin

    path = Path(__file__).resolve().parents[1] / "assets" / "cases" / case
    document = json.loads(path.read_text(encoding="utf-8"))["document"]
    assert document.get("vehicle")
    _bom_to_tables().write_tables(document, tmp_path / "vehicle")
    texts = [(tmp_path / f"vehicle.{part}.csv").read_text(encoding="utf-8")
             for part in ("items", "lines", "document")]
    expected = parse_bom_json(json.dumps(document))
    for bom in (parse_bom_csv(*texts, name="vehicle"),
                parse_bom_xlsx((tmp_path / "vehicle.xlsx").read_bytes())):
        assert bom.vehicle == expected.vehicle
        assert bom.extensions == expected.extensions
        assert determine_origin(bom).to_dict() == determine_origin(expected).to_dict()


def test_a_vehicle_row_beside_its_dotted_rows_is_refused() -> None:
    document = [*table("two_level.document.csv"), ["vehicle", "light truck"],
                ["vehicle.category", "light_truck"]]
    with pytest.raises(BomError, match=r"row 11: field 'vehicle\.category' cannot be given "
                                       r"with a field 'vehicle' \(two_level\.document\.csv "
                                       r"row 10\)"):
        parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                      to_csv(document), name="two_level")
    twice = [*table("two_level.document.csv"), ["vehicle.steel_aluminum.steel.total", "1"],
             ["vehicle.steel_aluminum.steel.total", "2"]]
    with pytest.raises(BomError, match=r"row 11: field 'vehicle\.steel_aluminum\.steel\.total' "
                                       r"is given twice"):
        parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                      to_csv(twice), name="two_level")
