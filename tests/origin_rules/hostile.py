"""Hostile inputs built by hand: workbooks from zipfile and handwritten XML, and the like.

openpyxl cannot write the files an attacker writes (a shared-strings table of millions of
strings, a sheet of millions of empty rows and no ``<dimension>``, truncated XML), so these
builders write the parts of an .xlsx themselves. `minimal_workbook` is a valid BOM
workbook in the same hand-written form, the baseline every attack departs from.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

#: The two_level BOM of tests/assets/boms as rows, the shape `minimal_workbook` writes.
ITEMS = [
    ["id", "hs", "description", "kind", "unit_value", "origin", "costs.other_product",
     "rule.rvc.net_cost"],
    ["brake", "8708.30", "brake assembly", "made", None, None, "20.00", "50"],
    ["pad", "6813.81", "brake pad", "bought", "8.00", "non_originating", None, None],
]
LINES = [["parent", "child", "qty"], ["brake", "pad", "2"]]
DOCUMENT = [["field", "value"], ["good", "brake"], ["as_of", "2023-07-15"],
            ["currency", "USD"]]


def content_types(sheets: int, shared_strings: bool) -> bytes:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{SHEET_TYPE}"/>'
        for n in range(1, sheets + 1))
    if shared_strings:
        overrides += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{STRINGS_TYPE}"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>' + overrides + "</Types>").encode()


def package_parts(titles: Sequence[str], shared_strings: bool) -> dict[str, bytes]:
    """Every part of a workbook but its sheets (and shared strings)."""
    sheets = "".join(f'<sheet name="{title}" sheetId="{n}" r:id="rId{n}"/>'
                     for n, title in enumerate(titles, start=1))
    relationships = "".join(
        f'<Relationship Id="rId{n}" Type="{RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(titles) + 1))
    if shared_strings:
        relationships += (f'<Relationship Id="rId{len(titles) + 1}" Type="{RELS}/sharedStrings" '
                          'Target="sharedStrings.xml"/>')
    return {
        "[Content_Types].xml": content_types(len(titles), shared_strings),
        "_rels/.rels": (f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
                        f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
                        "</Relationships>").encode(),
        "xl/workbook.xml": (f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>{sheets}'
                            "</sheets></workbook>").encode(),
        "xl/_rels/workbook.xml.rels": (f'<Relationships xmlns="{PACKAGE_RELS}">'
                                       f"{relationships}</Relationships>").encode(),
    }


def sheet_xml(rows: Iterable[Sequence[str | None]], *, dimension: str | None = None) -> bytes:
    """A worksheet of inline-string cells (no shared strings needed)."""
    parts = [f'<worksheet xmlns="{MAIN}">']
    if dimension:
        parts.append(f'<dimension ref="{dimension}"/>')
    parts.append("<sheetData>")
    for number, row in enumerate(rows, start=1):
        cells = "".join("<c/>" if value is None else
                        f'<c t="inlineStr"><is><t>{escape(value)}</t></is></c>'
                        for value in row)
        parts.append(f'<row r="{number}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode()


def write_zip(parts: dict[str, bytes | Iterable[bytes]], *, level: int = 6) -> bytes:
    """An archive of `parts`; a part given as chunks is streamed (never held whole)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in parts.items():
            if isinstance(content, bytes):
                archive.writestr(name, content)
            else:
                with archive.open(name, "w", force_zip64=True) as part:
                    for chunk in content:
                        part.write(chunk)
    return out.getvalue()


def minimal_workbook(items: bytes | None = None, lines: bytes | None = None,
                     document: bytes | None = None, **extra: bytes | Iterable[bytes]) -> bytes:
    """The hand-written BOM workbook, with any part replaced (``items=...`` etc.)."""
    parts: dict[str, bytes | Iterable[bytes]] = {
        **package_parts(["document", "items", "lines"], "xl/sharedStrings.xml" in extra),
        "xl/worksheets/sheet1.xml": document if document is not None else sheet_xml(DOCUMENT),
        "xl/worksheets/sheet2.xml": items if items is not None else sheet_xml(ITEMS),
        "xl/worksheets/sheet3.xml": lines if lines is not None else sheet_xml(LINES),
    }
    parts.update(extra)
    return write_zip(parts)


def shared_strings_bomb(strings: int = 25_000_000) -> bytes:
    """A workbook whose shared-strings table is `strings` one-letter strings.

    25 million (the default) make 425 MB of XML that deflate to about 1 MB: openpyxl reads
    the whole table into a list when it opens the file (the reported attack, a 444 KB file,
    ran 71 s and took 1.2 GB).
    """
    def table() -> Iterable[bytes]:
        yield f'<sst xmlns="{MAIN}" count="{strings}" uniqueCount="{strings}">'.encode()
        block = b"<si><t>x</t></si>" * 100_000
        for _ in range(strings // 100_000):
            yield block
        yield b"</sst>"

    return minimal_workbook(**{"xl/sharedStrings.xml": table()})


def empty_rows_sheet(rows: int = 5_000_000, *, numbered: bool = False) -> Iterable[bytes]:
    """A sheet of a header and `rows` empty rows, without a ``<dimension>``.

    Unnumbered rows (``<row/>``) deflate about 700 times (the reported attack: 706 KB, 77 s);
    numbered ones (``<row r="12345"/>``) only about 7 times, so that the compression-ratio
    guard does not see them and only counting the rows can stop them.
    """
    yield (f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c t="inlineStr"><is><t>id</t>'
           "</is></c></row>").encode()
    block = 100_000
    for start in range(2, rows + 2, block):
        count = min(block, rows + 2 - start)
        if numbered:
            yield "".join(f'<row r="{n}"/>' for n in range(start, start + count)).encode()
        else:
            yield b"<row/>" * count
    yield b"</sheetData></worksheet>"


def billion_laughs(levels: int = 8) -> bytes:
    """The items sheet with a description of nested entities: 10**levels "a"s from 1 KB."""
    names = [chr(ord("a") + n) for n in range(levels + 1)]
    entities = [f'<!ENTITY {names[0]} "aaaaaaaaaa">'] + [
        f'<!ENTITY {name} "{("&" + below + ";") * 10}">'
        for below, name in itertools.pairwise(names)]
    sheet = sheet_xml(ITEMS).replace(b"brake pad", f"&{names[-1]};".encode())
    return (f'<?xml version="1.0"?><!DOCTYPE worksheet [{"".join(entities)}]>'.encode()
            + sheet)
