"""The pages' languages: message catalogues (Spanish, English, French) and locale formats.

Every word a page shows comes from a catalogue, ``ledger/web/messages/<lang>.toml`` (TOML,
as the rule tables: duplicate keys are an error, strings are quoted), never from a
template; `tests/web/test_i18n.py` checks that every catalogue has every key and the same
``{placeholders}``. Dates, numbers and money are formatted by Babel with CLDR data.

Which language (`choose_language`): ``?lang=es|en|fr`` first (and it is remembered in a
cookie, so the next page keeps it), then that cookie, then the browser's
``Accept-Language`` by quality (RFC 9110 s.12.5.4), then Spanish, the language of most of
the people the pages are for. Formats follow one locale per language, that of the treaty
Party where it is spoken: es-MX, en-US, fr-CA.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Translator", "catalogue", "choose_language",
           "translator"]

LANGUAGES = ("es", "en", "fr")
DEFAULT_LANGUAGE = "es"
LOCALES = {"es": "es_MX", "en": "en_US", "fr": "fr_CA"}
"""The CLDR locale whose formats each language's pages use."""


class CatalogueError(RuntimeError):
    """A shipped catalogue is malformed (a packaging bug, caught by the test suite)."""


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise CatalogueError(f"message {name!r} must be text, not {type(value).__name__}")
    return flat


@cache
def catalogue(language: str) -> dict[str, str]:
    """The messages of `language`, by dotted key (``verdict.clear``), read once."""
    if language not in LANGUAGES:
        raise CatalogueError(f"no catalogue for {language!r}")
    text = (files("ledger.web") / "messages" / f"{language}.toml").read_text("utf-8")
    return _flatten(tomllib.loads(text))


def _accepted(header: str) -> list[str]:
    """Language ranges of an Accept-Language header, best first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The language of a page: ``?lang``, then the cookie, then Accept-Language."""
    for chosen in (query, cookie):
        if chosen in LANGUAGES:
            return chosen
    for tag in _accepted(accept or ""):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    """Messages and formats of one language, what templates call as ``t(...)``."""

    language: str

    @property
    def locale(self) -> Locale:
        """The CLDR locale of the formats."""
        return Locale.parse(LOCALES[self.language])

    def __call__(self, key: str, **values: object) -> str:
        """The message `key`, its ``{name}`` placeholders filled with `values`.

        A key missing from this catalogue falls back to English, then to the key itself,
        so a page never fails over a word (the catalogue test keeps that from shipping).
        """
        text = catalogue(self.language).get(key) or catalogue("en").get(key) or key
        return text.format_map(values) if values else text

    def has(self, key: str) -> bool:
        """Whether the catalogue has `key` (for optional, per-code messages)."""
        return key in catalogue(self.language)

    def date(self, value: date | str | None) -> str:
        """A date in the locale's long format ("16 de marzo de 2026"); text kept if not ISO."""
        if value is None:
            return ""
        if isinstance(value, str):
            try:
                return format_date(date.fromisoformat(value[:10]), format="long",
                                   locale=self.locale)
            except ValueError:
                return value
        return format_date(value, format="long", locale=self.locale)

    def moment(self, value: datetime | str | None) -> str:
        """A date and time in the locale's medium format, in UTC."""
        if value is None:
            return ""
        if isinstance(value, str):
            try:
                return self.moment(datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                return value
        return format_datetime(value, format="medium", tzinfo=UTC, locale=self.locale) + " UTC"

    def money(self, amount: Decimal | str, currency: str) -> str:
        """An amount of `currency` as the locale writes it ("MXN 33.88", "33,88 $ MXN")."""
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            return f"{amount} {currency}"
        return format_currency(value, currency, locale=self.locale)

    def number(self, value: Decimal | str | int, digits: int = 2) -> str:
        """A decimal number with the locale's separators, rounded to `digits` places."""
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        return format_decimal(number, format=pattern, locale=self.locale)


@cache
def translator(language: str) -> Translator:
    """The translator of `language` (one per language, shared)."""
    return Translator(language if language in LANGUAGES else DEFAULT_LANGUAGE)
