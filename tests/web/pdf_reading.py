"""Reading a certificate PDF back as its reader would: its text, and its QR code decoded.

The text comes from pypdf's extraction (the embedded font's ToUnicode map), with runs of
white space folded, so a label wrapped over two lines still reads as one. The QR code is
the page's image, extracted by pypdf as a Pillow image and decoded by ZXing (zxing-cpp),
not read from anything the PDF says about it.
"""

from __future__ import annotations

import io

import zxingcpp
from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """Every page's text, white space folded to single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def pdf_qr_codes(data: bytes) -> list[str]:
    """The text of every QR code found in the images of the PDF's pages."""
    reader = PdfReader(io.BytesIO(data))
    found: list[str] = []
    for page in reader.pages:
        for image in page.images:
            found += [code.text for code in zxingcpp.read_barcodes(image.image)
                      if code.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def folded(text: str) -> str:
    """`text` with its white space folded as `pdf_text` folds it."""
    return " ".join(text.split())
