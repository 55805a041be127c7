"""Read limits, decimal bounds and refused strings, reader by reader (`docs/bom-format.md`).

Each reader refuses what exceeds a bound of `ReadLimits` with a `LimitError` that names the
limit (``rules.limit_exceeded``), and the two JSON paths agree: the fast path refuses too
many rows itself, and for anything else it doubts it leaves the document to the exact
reader. The hostile workbooks of `hostile.py` are read in a subprocess under an address-
space limit, to show that refusing them takes bounded memory, not just an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin_rules import (
    DEFAULT_LIMITS,
    BillOfMaterials,
    BomError,
    LimitError,
    ReadLimits,
    bom_from_dict,
    determine_origin,
    parse_bom_csv,
    parse_bom_json,
    parse_bom_xlsx,
)
from origin_rules.bulk_reader import read_plain_json
from origin_rules.reader import csv_delimiter, nesting_exceeds, read_json_exactly
from tests.origin_rules import hostile
from tests.origin_rules.both_paths import same_bom

ROOT = Path(__file__).resolve().parents[2]
BOMS = ROOT / "tests" / "assets" / "boms"


def document() -> dict[str, Any]:
    return json.loads((BOMS / "two_level.json").read_text(encoding="utf-8"))


def asset(name: str) -> str:
    return (BOMS / name).read_text(encoding="utf-8")


def limits(**values: int) -> ReadLimits:
    return replace(DEFAULT_LIMITS, **values)


def refused_alike(text: str | bytes, limits: ReadLimits = DEFAULT_LIMITS) -> BomError:
    """The error of the exact reader, after checking that the public reader gives it too."""
    with pytest.raises(BomError) as exact:
        read_json_exactly(text, limits=limits)
    with pytest.raises(BomError) as public:
        parse_bom_json(text, limits=limits)
    assert type(public.value) is type(exact.value)
    if not isinstance(exact.value, LimitError):  # a limit may be seen first by the fast path
        assert str(public.value) == str(exact.value)
    assert "\n" not in str(exact.value)
    return exact.value


def accepted_alike(text: str | bytes, limits: ReadLimits = DEFAULT_LIMITS) -> BillOfMaterials:
    exact = read_json_exactly(text, limits=limits)
    assert same_bom(parse_bom_json(text, limits=limits), exact)
    return exact


# ---------------------------------------------------------------------------------------
# The settings


def test_the_defaults_are_the_documented_ones() -> None:
    documented_defaults = ReadLimits(
        max_document_bytes=2**30, max_unpacked_bytes=2**30, max_compression_ratio=100,
        max_zip_members=10_000, max_rows=5_000_000, max_cells=100_000_000,
        max_string_bytes=65_536, max_json_depth=64)
    assert documented_defaults == DEFAULT_LIMITS
    documented = (ROOT / "docs" / "bom-format.md").read_text(encoding="utf-8")
    for field in fields(ReadLimits):
        assert f"`{field.name}`" in documented, field.name


@pytest.mark.parametrize("field", [f.name for f in fields(ReadLimits)])
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
def test_a_limit_is_a_positive_integer(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"ReadLimits.{field} must be a positive integer"):
        ReadLimits(**{field: value})


def test_a_limit_error_is_a_bom_error_with_its_own_code() -> None:
    with pytest.raises(LimitError) as caught:
        parse_bom_json(json.dumps(document()), limits=limits(max_rows=3))
    error = caught.value
    assert isinstance(error, BomError)
    assert error.code == "rules.limit_exceeded"
    assert (error.limit, error.maximum) == ("max_rows", 3)
    assert str(error) == "the document has more than 3 items (limit max_rows = 3)"


# ---------------------------------------------------------------------------------------
# JSON


def test_a_document_over_max_document_bytes_is_refused_unread() -> None:
    text = json.dumps(document())
    accepted_alike(text, limits(max_document_bytes=len(text)))
    error = refused_alike(text, limits(max_document_bytes=len(text) - 1))
    assert isinstance(error, LimitError)
    assert error.limit == "max_document_bytes"


@pytest.mark.parametrize("table", ["items", "lines"])
def test_too_many_items_or_lines_are_refused_by_both_paths(table: str) -> None:
    doc = document()
    if table == "lines":  # a repeated line is summed: 10 lines for 8 items
        doc["lines"] += doc["lines"][-1:] * 3
    data = json.dumps(doc).encode()
    count = len(doc[table])
    assert read_plain_json(data, limits=limits(max_rows=count)) is not None
    with pytest.raises(LimitError, match=f"more than {count - 1} {table}"):
        read_plain_json(data, limits=limits(max_rows=count - 1))  # not read twice
    assert isinstance(refused_alike(data, limits(max_rows=count - 1)), LimitError)


@pytest.mark.parametrize("text", ["p" * 41, "é" * 21, "€" * 14], ids=["ascii", "2-byte", "3-byte"])
def test_a_string_over_max_string_bytes_is_refused_naming_the_field(text: str) -> None:
    doc = document()
    doc["items"][2]["description"] = text
    data = json.dumps(doc, ensure_ascii=False).encode()
    assert read_plain_json(data, limits=limits(max_string_bytes=40)) is None
    error = refused_alike(data, limits(max_string_bytes=40))
    assert isinstance(error, LimitError)
    assert str(error).startswith("item 'pad' (items[2]), field 'description': ")
    assert error.path == "items[2].description"
    accepted_alike(data, limits(max_string_bytes=len(text.encode())))


def test_a_long_text_within_the_limit_is_read_by_the_exact_reader() -> None:
    doc = document()
    doc["items"][2]["description"] = "p" * 20_000  # within 65,536 bytes, beyond the fast
    data = json.dumps(doc).encode()                # path's 16,384 characters
    assert read_plain_json(data) is None
    assert accepted_alike(data).items["pad"].description == "p" * 20_000


@pytest.mark.parametrize("where", ["id", "country", "producer", "extension", "evidence"])
def test_every_kept_string_is_bounded(where: str) -> None:
    doc = document()
    long = "x" * 100
    if where == "id":
        doc["items"][5]["id"] = doc["lines"][4]["child"] = long
    elif where == "country":
        doc["items"][2]["country"] = long
    elif where == "producer":
        doc["producer"]["name"] = long
    elif where == "extension":
        doc["erp"] = {"batches": [long]}
    else:
        doc["items"][4]["evidence"]["token"] = long
    error = refused_alike(json.dumps(doc), limits(max_string_bytes=99))
    assert isinstance(error, LimitError)
    assert error.limit == "max_string_bytes"


def test_deep_json_is_refused_before_it_is_decoded() -> None:
    doc = document()
    doc["erp"] = json.loads("[" * 58 + "]" * 58)  # the document is level 1: 59 in all
    accepted_alike(json.dumps(doc), limits(max_json_depth=59))
    error = refused_alike(json.dumps(doc), limits(max_json_depth=58))
    assert isinstance(error, LimitError)
    assert error.limit == "max_json_depth"
    # far deeper than Python's decoder can follow: the same words, no RecursionError
    assert "nested too deeply" in str(refused_alike("[" * 200_000 + "]" * 200_000))


def test_a_deep_value_in_a_delegated_item_is_refused() -> None:
    doc = document()
    doc["items"][3]["statement"]["note"] = json.loads("[" * 70 + "]" * 70)
    assert isinstance(refused_alike(json.dumps(doc)), LimitError)


def test_a_deep_extension_given_as_a_dict_is_refused_without_recursion() -> None:
    doc = document()
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    doc["erp"] = deep
    with pytest.raises(LimitError, match="field 'erp': nests more than 64 levels"):
        bom_from_dict(doc)


def depth(value: Any) -> int:
    """Reference: nesting of a decoded JSON value (a scalar is 0)."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:\n'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(alphabet='[]{}"\\ab', max_size=3), inner, max_size=4),
    max_leaves=30)


@given(json_values, st.integers(1, 12), st.booleans())
def test_nesting_on_the_text_is_the_nesting_of_the_value(
    value: Any, maximum: int, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert nesting_exceeds(text, maximum) == (depth(value) > maximum)


def test_a_json_number_of_many_digits_is_refused_in_our_words() -> None:
    text = json.dumps(document()).replace('"qty": "2"', '"qty": ' + "9" * 5000, 1)
    error = refused_alike(text)
    assert str(error).startswith("the JSON has a number of 5000 characters")
    assert "sys" not in str(error)
    doc = document()
    doc["erp"] = 10**60  # an extension may hold a number of sensible length
    assert accepted_alike(json.dumps(doc)).extensions["erp"] == 10**60


# ---------------------------------------------------------------------------------------
# Decimal bounds (15 digits before the point, 12 after)


@pytest.mark.parametrize("value", ["999999999999999.999999999999", "0.000000000001",
                                   "000000000000001", ".123456789012", "123456789012345."])
def test_decimal_strings_at_the_bounds_are_read(value: str) -> None:
    doc = document()
    doc["items"][2]["unit_value"] = value
    doc["items"][2]["deductions"] = {}
    doc["lines"][1]["qty"] = value
    bom = accepted_alike(json.dumps(doc))
    assert read_plain_json(json.dumps(doc).encode()) is not None  # the fast path takes it
    assert bom.items["pad"].unit_value == Decimal(value)
    determine_origin(bom).to_dict()


@pytest.mark.parametrize(
    ("value", "says"),
    [("1234567890123456", "more than 15 digits before the decimal point"),
     ("0000000000000001", "more than 15 digits before the decimal point"),
     ("1.1234567890123", "more than 12 digits after the decimal point"),
     ("9" * 56, "more than 15 digits before the decimal point")],
)
@pytest.mark.parametrize("field", ["items.2.unit_value", "lines.1.qty",
                                   "items.0.costs.period", "items.3.statement.amount",
                                   "items.0.rule.rvc.0.min"])
def test_decimal_strings_beyond_the_bounds_are_refused(value: str, says: str, field: str) -> None:
    doc = document()
    *steps, leaf = field.split(".")
    target: Any = doc
    for step in steps:
        target = target[int(step)] if step.isdigit() else target[step]
    target[int(leaf) if leaf.isdigit() else leaf] = value
    error = refused_alike(json.dumps(doc))
    assert type(error) is BomError
    assert says in str(error)
    assert f"field '{leaf}'" in str(error)


def test_a_decimal_written_with_a_comma_gets_a_hint() -> None:
    doc = document()
    doc["items"][2]["unit_value"] = "8,00"
    assert "write decimals with a point (12.50), not a comma" in str(
        refused_alike(json.dumps(doc)))


# ---------------------------------------------------------------------------------------
# Lone surrogates


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ud83d x", "x \\ude00"])
def test_lone_surrogates_are_refused_by_both_paths(escape: str) -> None:
    text = json.dumps(document()).replace("brake pad", f"brake pad {escape}")
    assert read_plain_json(text.encode()) is None
    error = refused_alike(text)
    assert "item 'pad' (items[2]), field 'description'" in str(error)
    assert "lone UTF-16 surrogate" in str(error)
    str(error).encode("utf-8")  # the message itself prints


def test_a_str_with_a_lone_surrogate_is_refused() -> None:
    text = json.dumps(document(), ensure_ascii=False).replace("brake pad", "brake pad \ud800")
    assert "lone UTF-16 surrogate" in str(refused_alike(text))


def test_a_surrogate_pair_is_a_character() -> None:
    text = json.dumps(document()).replace("brake pad", "brake pad \\ud83d\\ude97")
    assert accepted_alike(text).items["pad"].description == "brake pad \U0001f697"


def test_a_lone_surrogate_in_a_small_top_level_value_is_refused_by_both_paths() -> None:
    text = json.dumps(document()).replace("Frenos del Norte", "Frenos \\ud800")
    assert read_plain_json(text.encode()) is None
    assert "field 'producer', field 'name'" in str(refused_alike(text))


def test_a_lone_surrogate_in_an_ignored_field_is_ignored() -> None:
    doc = document()
    doc["items"][2]["note"] = "\ud800"
    accepted_alike(json.dumps(doc))


# ---------------------------------------------------------------------------------------
# Messages stay one short line


def test_a_megabyte_value_is_cut_in_the_message() -> None:
    doc = document()
    doc["items"][2]["hs"] = "6" * 1_000_000
    error = refused_alike(json.dumps(doc), limits(max_string_bytes=2_000_000))
    assert len(str(error)) < 300
    assert "(1000000 characters)" in str(error)


def test_a_huge_integer_given_to_bom_from_dict_is_described_not_printed() -> None:
    doc = document()
    doc["items"][2]["unit_value"] = 10**10_000
    with pytest.raises(BomError, match="got a number of more than 60 digits"):
        bom_from_dict(doc)


# ---------------------------------------------------------------------------------------
# CSV


def test_the_delimiter_is_the_one_the_header_uses() -> None:
    assert csv_delimiter("id,hs,description\n1;2;3\n") == ","
    assert csv_delimiter("id;hs;description\n1,2,3\n") == ";"
    assert csv_delimiter("field;value") == ";"
    assert csv_delimiter("id") == ","


def test_a_semicolon_trio_reads_as_the_comma_trio() -> None:
    def semicolons(name: str) -> str:
        return asset(name).replace(",", ";")

    expected = parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                             asset("two_level.document.csv"))
    got = parse_bom_csv(semicolons("two_level.items.csv"), semicolons("two_level.lines.csv"),
                        semicolons("two_level.document.csv"))
    assert same_bom(got, expected)


@pytest.mark.parametrize(
    ("limit", "value", "says"),
    [("max_rows", 8, "two_level.items.csv has more than 8 rows"),
     ("max_cells", 200, "two_level.items.csv has more than 200 cells"),
     ("max_string_bytes", 22, "two_level.items.csv row 6, column 'evidence.token'"),
     ("max_document_bytes", 1000, "two_level.items.csv has more than 1000 bytes")],
)
def test_csv_tables_are_bounded(limit: str, value: int, says: str) -> None:
    with pytest.raises(LimitError) as caught:
        parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                      name="two_level", limits=limits(**{limit: value}),
                      overrides={"good": "brake", "as_of": "2024-01-01", "currency": "USD"})
    assert caught.value.limit == limit
    assert says in str(caught.value)


def test_blank_csv_rows_count_against_max_rows() -> None:
    items = asset("two_level.items.csv") + "\n" * 20
    with pytest.raises(LimitError, match="more than 20 rows"):
        parse_bom_csv(items, asset("two_level.lines.csv"), asset("two_level.document.csv"),
                      limits=limits(max_rows=20))


def test_empty_cells_beyond_the_header_are_ignored() -> None:
    items = "\n".join(line + ",," for line in asset("two_level.items.csv").splitlines())
    expected = parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"),
                             asset("two_level.document.csv"))
    assert same_bom(parse_bom_csv(items, asset("two_level.lines.csv"),
                                  asset("two_level.document.csv")), expected)


def test_a_csv_whose_first_row_is_blank_is_refused() -> None:
    with pytest.raises(BomError, match=r"bom\.items\.csv row 1 is blank"):
        parse_bom_csv("\n" + asset("two_level.items.csv"), asset("two_level.lines.csv"),
                      asset("two_level.document.csv"))


# Found by the long fuzz run (make fuzz), each a traceback before:

def test_a_producer_field_next_to_producer_subfields_is_refused() -> None:
    document = asset("two_level.document.csv").replace("producer.name,", "producer\n.name,")
    with pytest.raises(BomError, match=r"bom\.document\.csv row 9: field 'producer\.country' "
                                       r"cannot be given with a field 'producer' "
                                       r"\(bom\.document\.csv row 7\)"):
        parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"), document)


def test_items_given_in_the_document_table_are_refused() -> None:
    document = asset("two_level.document.csv") + "items,x\n"
    with pytest.raises(BomError, match="items come from their own table"):
        parse_bom_csv(asset("two_level.items.csv"), asset("two_level.lines.csv"), document)


def test_a_huge_number_in_the_hs_column_is_refused() -> None:
    cells = hostile.sheet_xml(hostile.ITEMS).replace(
        b'<c t="inlineStr"><is><t>6813.81</t></is></c>', b"<c><v>1e300</v></c>")
    with pytest.raises(BomError, match="HS code stored as the number 1e"):
        parse_bom_xlsx(hostile.minimal_workbook(items=cells))


def test_a_zip_of_an_unknown_version_is_not_a_readable_workbook() -> None:
    book = bytearray(hostile.minimal_workbook())
    directory = book.rfind(b"PK\x01\x02")
    book[directory + 6] = 84  # "version needed to extract": 8.4, which zipfile refuses
    with pytest.raises(BomError, match="not a readable Excel workbook"):
        parse_bom_xlsx(bytes(book))


# ---------------------------------------------------------------------------------------
# Excel


def test_the_hand_written_workbook_is_a_valid_bom() -> None:
    bom = parse_bom_xlsx(hostile.minimal_workbook())
    assert (bom.good, list(bom.items)) == ("brake", ["brake", "pad"])


def test_a_header_cell_of_spaces_names_no_column() -> None:
    items = [[*row, "   "] for row in hostile.ITEMS]
    items[1][-1] = "ignored, like any cell under no column name"
    bom = parse_bom_xlsx(hostile.minimal_workbook(items=hostile.sheet_xml(items)))
    assert list(bom.items) == ["brake", "pad"]


def test_a_workbook_of_too_many_parts_is_refused() -> None:
    extra = {f"xl/media/image{n}.png": b"x" for n in range(20)}
    book = hostile.minimal_workbook(**extra)
    parse_bom_xlsx(book, limits=limits(max_zip_members=30))
    with pytest.raises(LimitError, match="more than 10 parts"):
        parse_bom_xlsx(book, limits=limits(max_zip_members=10))


def test_a_workbook_that_unpacks_to_too_much_is_refused() -> None:
    book = hostile.minimal_workbook(**{"xl/media/blob.bin": os.urandom(300_000)})
    with pytest.raises(LimitError, match="unpacks to more than 200000 bytes"):
        parse_bom_xlsx(book, limits=limits(max_unpacked_bytes=200_000))


def test_a_part_that_unpacks_too_many_times_its_size_is_refused() -> None:
    book = hostile.minimal_workbook(**{"xl/media/zeros.bin": bytes(5_000_000)})
    with pytest.raises(LimitError) as caught:
        parse_bom_xlsx(book)
    assert caught.value.limit == "max_compression_ratio"
    assert "'xl/media/zeros.bin' unpacks to" in str(caught.value)
    parse_bom_xlsx(book, limits=limits(max_compression_ratio=10**6))


def test_rows_and_cells_are_counted_in_the_xml_before_openpyxl() -> None:
    rows = [*hostile.ITEMS, *(["spare", "7318.15"] for _ in range(20_000))]  # over 1 MiB
    book = hostile.minimal_workbook(items=hostile.sheet_xml(rows))
    with pytest.raises(LimitError, match=r"part 'xl/worksheets/sheet2\.xml' has more than "
                                         r"3000 rows"):
        parse_bom_xlsx(book, limits=limits(max_rows=3000))
    with pytest.raises(LimitError, match="has more than 5000 cells"):
        parse_bom_xlsx(book, limits=limits(max_cells=5000))


def test_a_prefixed_sheet_is_counted_too() -> None:
    rows = hostile.sheet_xml([*hostile.ITEMS, *(["x" * 30] for _ in range(20_000))])
    prefixed = rows.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=").replace(
        b"</worksheet>", b"</x:worksheet>")
    for tag in (b"sheetData", b"row", b"c", b"is", b"t"):
        prefixed = prefixed.replace(b"<" + tag, b"<x:" + tag).replace(b"</" + tag,
                                                                      b"</x:" + tag)
    with pytest.raises(LimitError, match="more than 3000 rows"):
        parse_bom_xlsx(hostile.minimal_workbook(items=prefixed),
                       limits=limits(max_rows=3000))


def test_a_dimension_cannot_pad_every_row_to_16384_cells() -> None:
    book = hostile.minimal_workbook(items=hostile.sheet_xml(hostile.ITEMS,
                                                            dimension="A1:XFD1048576"))
    bom = parse_bom_xlsx(book, limits=limits(max_cells=100))
    assert list(bom.items) == ["brake", "pad"]


def test_a_cell_over_max_string_bytes_is_refused() -> None:
    rows = [hostile.ITEMS[0], ["brake", "8708.30", "b" * 500, "made"], hostile.ITEMS[2]]
    with pytest.raises(LimitError, match=r"sheet 'items' row 2, column 'description'"):
        parse_bom_xlsx(hostile.minimal_workbook(items=hostile.sheet_xml(rows)),
                       limits=limits(max_string_bytes=400))


def test_a_computed_cell_with_binary_digits_is_refused_with_its_digits() -> None:
    cells = hostile.sheet_xml(hostile.ITEMS).replace(
        b'<c t="inlineStr"><is><t>8.00</t></is></c>', b"<c><v>0.30000000000000004</v></c>")
    with pytest.raises(BomError, match=r'"0\.30000000000000004" has more than 12 digits after'):
        parse_bom_xlsx(hostile.minimal_workbook(items=cells))


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9])
def test_truncated_sheet_xml_is_a_bom_error(cut: float) -> None:
    for dimension in (None, "A1:H3"):
        sheet = hostile.sheet_xml(hostile.ITEMS, dimension=dimension)
        with pytest.raises(BomError, match="ParseError"):
            parse_bom_xlsx(hostile.minimal_workbook(items=sheet[: int(len(sheet) * cut)]))


def test_an_entity_expansion_in_a_sheet_is_a_bom_error() -> None:
    # expat (2.4 and later) refuses the amplification, or defusedxml (which openpyxl uses
    # when it is installed, as the dev extra's pypdf/zxing tools bring it) refuses the
    # entity declaration itself; either way openpyxl's error becomes ours, naming why.
    with pytest.raises(BomError, match=r"not a readable Excel workbook.*"
                                       r"(amplification|declares entities)"):
        parse_bom_xlsx(hostile.minimal_workbook(items=hostile.billion_laughs()))


# ---------------------------------------------------------------------------------------
# Bounded memory: the hostile workbooks read under an address-space limit

RUN_ONE_READER = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
    from origin_rules import ReadLimits, parse_bom_xlsx
    from origin_rules.errors import OriginRulesError
    data = open(sys.argv[1], "rb").read()
    try:
        parse_bom_xlsx(data, limits=ReadLimits(max_compression_ratio=int(sys.argv[2])))
    except OriginRulesError as exc:
        print(type(exc).__name__, exc.code, exc)
    else:
        print("accepted")
    print("peak KiB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""")


NO_RATIO_GUARD = 10**9


@pytest.mark.parametrize(
    ("attack", "ratio", "expected"),
    [
        pytest.param(hostile.shared_strings_bomb, 100, "LimitError rules.limit_exceeded",
                     id="shared-strings bomb"),
        pytest.param(lambda: hostile.minimal_workbook(items=hostile.empty_rows_sheet()), 100,
                     "LimitError rules.limit_exceeded", id="5M empty rows"),
        pytest.param(lambda: hostile.minimal_workbook(
            items=hostile.empty_rows_sheet(numbered=True)), 100, "BomError rules.bom_invalid",
            id="5M numbered empty rows"),
        # Without the ratio guard the counts in the XML still stop both bombs.
        pytest.param(hostile.shared_strings_bomb, NO_RATIO_GUARD, "BomError rules.bom_invalid",
                     id="shared-strings bomb, no ratio guard"),
        pytest.param(lambda: hostile.minimal_workbook(items=hostile.empty_rows_sheet()),
                     NO_RATIO_GUARD, "BomError rules.bom_invalid",
                     id="5M empty rows, no ratio guard"),
    ],
)
def test_a_hostile_workbook_is_refused_in_bounded_memory(
    tmp_path: Path, attack: Any, ratio: int, expected: str
) -> None:
    book = tmp_path / "attack.xlsx"
    book.write_bytes(attack())
    done = subprocess.run([sys.executable, "-c", RUN_ONE_READER, str(book), str(ratio)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(expected), done.stdout
    peak_kib = int(done.stdout.split("peak KiB")[1])
    assert peak_kib < 512 * 1024, done.stdout  # far below the 1.5 GiB allowed
