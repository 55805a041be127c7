"""The SME page's chart, drawn on the server as SVG: value by origin, and by material.

One chart per RVC method, from the engine's figures (`ledger.web.determination_view`):

* **by origin**: one unit's RVC base as a bar, its originating (regional) part and its
  non-originating materials (VNM), with the threshold marked on it;
* **by material**: the non-originating materials that weigh most (the engine's
  contributors), each a bar of its VNM, and the rest of the VNM as one more bar.

Readable without colour (WCAG 2.1 SC 1.4.1): non-originating value is hatched, the
threshold is a dashed line, and every bar carries its amount in words beside it. The SVG
is an image with a ``<title>`` and a ``<desc>`` that says the same figures in a sentence
(``role="img"``, ``aria-labelledby``), and the page repeats them in a table. Every text
from the document (item ids, HS codes) is escaped (`markupsafe.escape`); the markup has no
``style`` attribute and no script, so the pages' Content-Security-Policy holds.

Drawn for a phone: 320 units wide, each label on its own line above its bar.
"""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

from ledger.web.determination_view import MethodView, money, percent
from ledger.web.i18n import Translator

__all__ = ["WIDTH", "method_chart"]

WIDTH = 320
_BAR = 28
_MATERIAL_BAR = 14
_MATERIAL_WIDTH = 170  # the longest material bar; its amount is written after it
_LABEL_CHARS = 44
_ORIGINATING = "#11602d"
_HATCH_INK = "#8a4b00"
_HATCH_PAPER = "#fde9cf"
_INK = "#1b1f24"


def _n(value: float) -> str:
    """A coordinate, short and locale-free."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, words: str, *, anchor: str = "start", bold: bool = False
          ) -> str:
    weight = ' font-weight="700"' if bold else ""
    shown = words if len(words) <= _LABEL_CHARS + 16 else words[:_LABEL_CHARS + 15] + "…"
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="13" text-anchor="{anchor}" '
            f'fill="{_INK}"{weight}>{escape(shown)}</text>')


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(width, 0.0))}" '
            f'height="{_n(height)}" fill="{fill}" stroke="{_INK}" stroke-width="0.5"/>')


def _fraction(part: Decimal, whole: Decimal) -> float:
    # Geometry only (a bar's share of the chart's width); every amount printed is Decimal.
    if whole <= 0:
        return 0.0
    return float(min(max(part / whole, Decimal(0)), Decimal(1)))


def method_chart(method: MethodView, t: Translator, currency: str, chart_id: str) -> Markup:
    """The SVG of one method's chart; `chart_id` makes its ids unique in the page."""
    result = method.result
    hatch = f"url(#{chart_id}-hatch)"
    parts: list[str] = []
    y = 16.0
    parts.append(_text(0, y, t("sme.chart.by_origin"), bold=True))
    top = y + 10
    originating = _fraction(result.base - result.vnm, result.base) * WIDTH
    parts.append(_rect(0, top, originating, _BAR, _ORIGINATING))
    parts.append(_rect(originating, top, WIDTH - originating, _BAR, hatch))
    threshold_x = _fraction(result.threshold, Decimal(100)) * WIDTH
    parts.append(f'<line x1="{_n(threshold_x)}" y1="{_n(top - 6)}" x2="{_n(threshold_x)}" '
                 f'y2="{_n(top + _BAR + 6)}" stroke="{_INK}" stroke-width="2.5" '
                 'stroke-dasharray="5 3"/>')
    y = top + _BAR + 22
    anchor = "end" if threshold_x > WIDTH / 2 else "start"
    parts.append(_text(threshold_x, y, t("sme.chart.threshold", threshold=method.threshold),
                       anchor=anchor))
    vnm_share = Decimal(100) - result.rvc if result.base > 0 else Decimal(0)
    legend = [
        (_ORIGINATING, t("sme.chart.originating"),
         f"{method.originating_value} · {method.rvc}"),
        (hatch, t("sme.chart.non_originating"),
         f"{method.vnm} · {percent(t, vnm_share)}"),
    ]
    for fill, name, amount in legend:
        y += 26
        parts.append(_rect(0, y - 12, 14, 14, fill))
        parts.append(_text(22, y, name))
        y += 17
        parts.append(_text(22, y, amount))
    y += 24
    parts.append(f'<line x1="0" y1="{_n(y - 5)}" x2="14" y2="{_n(y - 5)}" stroke="{_INK}" '
                 'stroke-width="2.5" stroke-dasharray="5 3"/>')
    parts.append(_text(22, y, t("sme.chart.headroom" if method.has_room else "sme.chart.shortfall",
                             amount=method.headroom_amount)))
    if method.contributors:
        y += 34
        parts.append(_text(0, y, t("sme.chart.by_material"), bold=True))
        largest = max(c.vnm_value for c in method.contributors)
        rest = result.vnm - sum((c.vnm_value for c in method.contributors), Decimal(0))
        rows = [(f"{c.item} ({c.hs})", c.vnm_value, f"{c.vnm} · {c.share}")
                for c in method.contributors]
        if rest > 0:
            share = rest * 100 / result.vnm
            rows.append((t("sme.chart.other_materials"), rest,
                         f"{money(t, rest, currency)} · {percent(t, share)}"))
        for label, value, amount in rows:
            y += 24
            parts.append(_text(0, y, label))
            bar = _fraction(value, max(largest, rest)) * _MATERIAL_WIDTH
            parts.append(_rect(0, y + 6, bar, _MATERIAL_BAR, hatch))
            parts.append(_text(bar + 6, y + 18, amount))
            y += 20
    height = y + 12
    title = t("sme.chart.title", method=method.name)
    description = t("sme.chart.desc", method=method.name, originating=method.originating_value,
                    rvc=method.rvc, vnm=method.vnm, threshold=method.threshold) + " " + \
        " ".join(t("sme.chart.desc_material", item=c.item, amount=c.vnm, share=c.share)
                 for c in method.contributors)
    pattern = (f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" '
               'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
               f'<rect width="6" height="6" fill="{_HATCH_PAPER}"/>'
               f'<line x1="0" y1="0" x2="0" y2="6" stroke="{_HATCH_INK}" stroke-width="3"/>'
               '</pattern></defs>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" '
           f'viewBox="0 0 {WIDTH} {_n(height)}" role="img" '
           f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
           f'<title id="{chart_id}-title">{escape(title)}</title>'
           f'<desc id="{chart_id}-desc">{escape(description.strip())}</desc>'
           f'{pattern}{"".join(parts)}</svg>')
    return Markup(svg)  # every text above went through escape()
