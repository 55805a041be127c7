"""A logged token as a person carries it: its QR code and its certification of origin (PDF).

The QR code holds the URL of the token's public verification page, ``/v/{digest}`` under
the service's public URL (what an officer's phone opens: `ledger.web.routes.verify`). The
PDF is the certification of origin of USMCA Art. 5.2 with the nine minimum data elements
of Annex 5-A, read from the signed token by the same code as the verification page
(`ledger.web.views.elements`), labelled in Spanish, English or French (Annex 5-A: a
certification may be in any of the three), and the QR code beside them. The PDF certifies
nothing by itself: the token, signed and logged, is the evidence, and the QR code is the
way from the paper to it.

Element 9's statement is the one the certifier signed. When it is the statement the
ledger signs by default (`ledger.token.CERTIFICATION_STATEMENT`, the wording of Annex 5-A
in English), the PDF prints that same statement in the PDF's language; any other wording
is printed as signed.

Text goes into the PDF in DejaVu Sans (Debian's ``fonts-dejavu-core``), embedded and
subset, so every name in a token prints as written (accents, any script DejaVu covers).
Without that font the PDF falls back to the standard Helvetica, which holds only
Latin-1: a character outside it is printed as "?" and a warning is logged once.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ledger.token import CERTIFICATION_STATEMENT
from ledger.web.i18n import Translator
from ledger.web.views import elements

__all__ = ["FONT_DIRECTORIES", "certificate_pdf", "qr_png", "qr_svg", "verification_url"]

log = logging.getLogger(__name__)

FONT_DIRECTORIES = (Path("/usr/share/fonts/truetype/dejavu"),
                    Path("/usr/local/share/fonts/truetype/dejavu"))
"""Where DejaVu Sans is looked for (Debian's ``fonts-dejavu-core`` installs the first)."""
#: Two faces only: parsing a face is most of a certificate's cost (~0.2 s each).
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
_QR_ERROR = "m"  # ISO/IEC 18004 level M: ~15 % of the code may be damaged (a folded page)


def verification_url(public_url: str, digest: str) -> str:
    """The URL the certificate's QR code opens: the token's verification page."""
    return f"{public_url.rstrip('/')}/v/{digest}"


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """The QR code of `url` as a PNG (`scale` pixels per module, the 4-module quiet zone)."""
    out = io.BytesIO()
    segno.make(url, error=_QR_ERROR, micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(url: str, t: Translator) -> bytes:
    """The QR code of `url` as a standalone SVG, titled in the language of `t`."""
    out = io.BytesIO()
    segno.make(url, error=_QR_ERROR, micro=False).save(
        out, kind="svg", scale=8, border=4, title=t("sme.qr.title"), desc=url,
        encoding="utf-8")
    return out.getvalue()


@cache
def _font_files(directories: tuple[Path, ...]) -> dict[str, Path] | None:
    for directory in directories:
        found = {style: directory / name for style, name in _FONT_FILES.items()}
        if all(path.is_file() for path in found.values()):
            return found
    log.warning("DejaVu Sans is not installed (fonts-dejavu-core): certificates are "
                "printed in Helvetica, Latin-1 only")
    return None


class _Document(FPDF):
    """The certificate's page: our fonts, and text made printable in them."""

    def __init__(self, fonts: dict[str, Path] | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="Letter")
        self.unicode = fonts is not None
        if fonts is not None:
            self.add_font("DejaVu", "", str(fonts[""]))
            self.add_font("DejaVu", "B", str(fonts["B"]))
        self.set_margins(16, 14, 16)
        self.set_auto_page_break(auto=True, margin=14)

    def use(self, *, bold: bool = False, size: float = 10) -> None:
        if self.unicode:
            self.set_font("DejaVu", "B" if bold else "", size)
        else:
            self.set_font("Helvetica", "B" if bold else "", size)

    def clean(self, text: str) -> str:
        if self.unicode:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def paragraph(self, text: str, *, height: float = 5, width: float = 0, **font: Any
                  ) -> None:
        self.use(**font)
        self.multi_cell(width, height, self.clean(text), align="L", new_x=XPos.LMARGIN,
                        new_y=YPos.NEXT)


def _statement_in(t: Translator, lines: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t("sme.pdf.statement") if line == CERTIFICATION_STATEMENT else line
                 for line in lines)


def certificate_pdf(token: Mapping[str, Any], digest: str, url: str, t: Translator, *,
                    printed_on: date, font_directories: tuple[Path, ...] = FONT_DIRECTORIES
                    ) -> bytes:
    """The certification of origin of `token` (logged as `digest`), in the language of
    `t`, with the QR code of `url` (its verification page).
    """
    subject = token.get("credentialSubject")
    shipment = subject.get("shipmentId") if isinstance(subject, Mapping) else None
    pdf = _Document(_font_files(tuple(font_directories)))
    pdf.set_title(pdf.clean(t("sme.pdf.title")))
    pdf.set_lang({"es": "es-MX", "en": "en-US", "fr": "fr-CA"}[t.language])
    pdf.set_creator("T-MEC origin ledger")
    pdf.add_page()
    qr_size = 42.0
    text_width = pdf.epw - qr_size - 6
    pdf.image(io.BytesIO(qr_png(url)), x=pdf.w - pdf.r_margin - qr_size, y=pdf.t_margin,
              w=qr_size, h=qr_size, alt_text=pdf.clean(t("sme.qr.title")))
    pdf.paragraph(t("sme.pdf.title"), height=9, width=text_width, bold=True, size=18)
    pdf.paragraph(t("sme.pdf.subtitle"), width=text_width, size=10)
    pdf.ln(2)
    pdf.paragraph(f"{t('verify.shipment')}: {shipment if isinstance(shipment, str) else ''}",
                  width=text_width, bold=True, size=11)
    pdf.paragraph(t("verify.token"), width=text_width, size=9)
    pdf.paragraph(digest, width=text_width, size=8)
    pdf.ln(1)
    pdf.paragraph(t("sme.pdf.scan"), width=text_width, size=9)
    pdf.paragraph(url, width=text_width, size=8)
    pdf.set_y(max(pdf.get_y(), pdf.t_margin + qr_size) + 6)
    pdf.paragraph(t("verify.elements"), height=7, bold=True, size=13)
    pdf.ln(1)
    for element in elements(token, t):
        lines = _statement_in(t, element.lines) if element.number == 9 else element.lines
        pdf.paragraph(f"{element.number}. {element.label}", height=5.5, bold=True, size=10)
        for line in lines:
            pdf.paragraph(line, height=4.6, size=9.5)
        pdf.ln(1.8)
    pdf.ln(1)
    pdf.set_draw_color(150, 150, 150)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.paragraph(t("sme.pdf.footer", date=t.date(printed_on)), height=4.5, size=8.5)
    return bytes(pdf.output())
