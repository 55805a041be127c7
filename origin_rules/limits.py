"""How much of a document the readers take before they refuse it: `ReadLimits`.

A BOM comes from whoever sends it, so every reader bounds what it reads — bytes, rows,
cells, the length of one string, the nesting of JSON, and for an Excel workbook what its
zip archive unpacks to — and raises `LimitError` naming the limit that was hit
(``sheet 'items' has more than 5000000 rows (limit max_rows = 5000000)``). Without these
bounds a 444 KB workbook (a shared-strings zip bomb) held a process for 71 s and 1.2 GB,
and ``tmec rvc /dev/zero`` read until the machine killed it (`docs/bom-format.md`,
"Read limits").

The limits are settings, not constants: every reader takes ``limits: ReadLimits``
(keyword-only, `DEFAULT_LIMITS` when omitted). This module is pure like the rest of
`origin_rules`: it reads no environment; the CLI builds its `ReadLimits` from
``TMEC_MAX_*`` variables (`cli.files.limits_from_env`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from origin_rules.errors import LimitError

__all__ = ["DEFAULT_LIMITS", "EXCEL_MAX_ROWS", "ReadLimits", "exceeded"]

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

#: Rows of one Excel worksheet (2**20): what Excel, LibreOffice and the OOXML row index
#: allow. A sheet that claims more is not a workbook any spreadsheet wrote.
EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Upper bounds on what a reader accepts; each one a positive integer.

    The defaults leave room for the largest BOMs the project measures (the 1M-item
    benchmark BOM: 256 MiB of JSON, 1M items and 1.7M lines) and refuse what no BOM needs
    long before memory or time run out.
    """

    #: Bytes of one document: a JSON text, one CSV table, an Excel file (1 GiB). Four times
    #: the 1M-item benchmark BOM (256 MiB); reading a JSON BOM takes about 7x its size in
    #: memory, so this is also about where an ordinary machine stops coping.
    max_document_bytes: int = GIB
    #: Bytes an Excel workbook's zip parts unpack to, all parts together, as the archive's
    #: directory declares them (1 GiB). Python's zipfile inflates no part beyond its
    #: declared size, so the declared total is a sound bound; a full Excel sheet of
    #: 1,048,576 rows of a BOM's dozen filled cells is about 400 MiB of XML.
    max_unpacked_bytes: int = GIB
    #: Unpacked-to-packed ratio of any one zip part above 1 MiB (100). The inflate-ratio
    #: guard of Apache POI (``ZipSecureFile``, minimum inflate ratio 0.01); spreadsheet XML
    #: compresses 5-30 times, a zip bomb a thousand times (deflate's maximum is about 1032).
    max_compression_ratio: int = 100
    #: Parts (files) in an Excel workbook's zip archive (10,000). A BOM workbook has about
    #: a dozen; each part listed costs time and memory before anything is inflated.
    max_zip_members: int = 10_000
    #: Rows of any one table: items or lines of a JSON document, records of a CSV table
    #: (blank ones included), rows of a worksheet (5,000,000): five times the benchmark's
    #: 1M items. A worksheet stops earlier in any case, at Excel's 1,048,576 rows.
    max_rows: int = 5_000_000
    #: Cells of any one CSV table or worksheet, blank cells of a row included (100,000,000):
    #: 20 columns on every one of `max_rows` rows; the 1M-item benchmark BOM as a table of
    #: every item column (34) has 34 million.
    max_cells: int = 100_000_000
    #: UTF-8 bytes of any one string the BOM keeps or a cell (65,536): twice what an Excel
    #: cell may hold (32,767 characters); an id, HS code or description is a line of text.
    max_string_bytes: int = 64 * KIB
    #: Nesting of JSON arrays and objects (64). A valid document nests 6 deep
    #: (document, items, item, rule, rvc, requirement); extensions get ten times that.
    max_json_depth: int = 64

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if type(value) is not int or value <= 0:
                # A programming error of the caller (the CLI validates what users give).
                raise ValueError(f"ReadLimits.{field.name} must be a positive integer, "
                                 f"got {value!r}")


#: The limits every reader applies unless given others.
DEFAULT_LIMITS = ReadLimits()


def exceeded(subject: str, limit: str, maximum: int, *, path: str | None = None) -> LimitError:
    """The `LimitError` for `subject` (``"sheet 'items' has more than 5 rows"``).

    The message ends with the limit's name and value, so that a user knows which setting
    to raise: ``sheet 'items' has more than 5 rows (limit max_rows = 5)``.
    """
    return LimitError(f"{subject} (limit {limit} = {maximum})", limit=limit, maximum=maximum,
                      path=path)
