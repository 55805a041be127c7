"""The message catalogues and the locale formats (ledger.web.i18n).

Every catalogue has every key, with the same placeholders; every key a template or a view
asks for exists; every check the verifier can name has its plain words; the language is
chosen by ?lang, then the cookie, then Accept-Language; formats follow the locale.
"""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest

from ledger.web.i18n import LANGUAGES, catalogue, choose_language, translator
from ledger.web.views import check_key

ROOT = Path(__file__).resolve().parents[2]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_catalogue_has_every_key_with_the_same_placeholders() -> None:
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    every = set.union(*keys.values())
    for lang in LANGUAGES:
        assert every - keys[lang] == set(), f"{lang} lacks {sorted(every - keys[lang])}"
    for key in every:
        expected = _placeholders(catalogue("en")[key])
        for lang in LANGUAGES:
            assert _placeholders(catalogue(lang)[key]) == expected, (lang, key)


def test_no_catalogue_leaves_a_message_empty() -> None:
    for lang in LANGUAGES:
        empty = [k for k, v in catalogue(lang).items() if not v.strip()]
        assert empty == [], lang


def _used_keys() -> set[str]:
    """Literal keys the templates and the pages' modules ask for: t("...")."""
    sources = [p.read_text("utf-8") for p in (ROOT / "ledger" / "web").rglob("*")
               if p.suffix in (".html", ".py")]
    found: set[str] = set()
    for text in sources:
        found |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[A-Za-z0-9_]+)+)["']""", text))
        found |= set(re.findall(r"""PageProblem\(\d+, "([a-z_.]+)\"""", text))
        found |= set(re.findall(r"""FormInputError\("([a-z_.]+)\"""", text))
    return found


def test_every_key_the_pages_ask_for_exists() -> None:
    used = _used_keys()
    assert len(used) > 60  # the reader finds them
    missing = sorted(k for k in used if k not in catalogue("en"))
    assert missing == []


def _verifier_check_names() -> set[str]:
    """Every check name `ledger.verify` writes: literal names and the log.{name}.* ones."""
    source = (ROOT / "ledger" / "verify.py").read_text("utf-8")
    names = set(re.findall(r"""checks\.(?:add|run|value)\(\s*"([a-z_.]+)\"""", source))
    names |= {f"log.{n}.{what}" for n in ("token", "key", "status")
              for what in ("inclusion", "statement")}
    return names


def test_every_check_of_the_verifier_has_plain_words_in_every_language() -> None:
    names = _verifier_check_names()
    assert {"token.signature", "status.token", "checkpoint.signatures",
            "log.token.inclusion", "determination.recompute"} <= names
    for name in [*sorted(names), "supplier.0123456789abcdef"]:
        key, _ = check_key(name)
        for lang in LANGUAGES:
            assert key in catalogue(lang), (lang, name)


@pytest.mark.parametrize(("query", "cookie", "accept", "expected"), [
    ("fr", "en", "es-MX", "fr"),
    (None, "en", "fr-CA,fr;q=0.9", "en"),
    ("de", None, "fr-CA,fr;q=0.9,en;q=0.8", "fr"),
    (None, None, "de-DE,en;q=0.5,fr;q=0.7", "fr"),
    (None, None, "en-US;q=0,es;q=0.1", "es"),
    (None, None, "de, *;q=0.5", "es"),
    (None, "xx", None, "es"),
    (None, None, "en;q=abc,fr", "fr"),
])
def test_the_language_is_query_then_cookie_then_accept_language(
        query: str | None, cookie: str | None, accept: str | None, expected: str) -> None:
    assert choose_language(query, cookie, accept) == expected


def test_dates_and_money_follow_the_locale() -> None:
    day = date(2026, 3, 16)
    assert translator("es").date(day) == "16 de marzo de 2026"
    assert translator("en").date(day) == "March 16, 2026"
    assert translator("fr").date(day) == "16 mars 2026"
    money = {lang: translator(lang).money(Decimal("1234.5"), "MXN") for lang in LANGUAGES}
    assert len(set(money.values())) == 3  # three different ways of writing it
    assert "1,234.50" in money["en"]
    assert "1\u00a0234,50" in money["fr"] or "1\u202f234,50" in money["fr"]
    assert translator("es").number("73.509453") == "73.51"
    assert translator("fr").number("73.509453") == "73,51"
    assert translator("en").date("not a date") == "not a date"  # text from a document stays


def test_a_missing_key_falls_back_to_english_then_to_the_key() -> None:
    t = translator("fr")
    assert t("no.such.key") == "no.such.key"
    assert t("verdict.clear") == catalogue("fr")["verdict.clear"]


def test_the_catalogues_are_package_data() -> None:
    for lang in LANGUAGES:
        assert (files("ledger.web") / "messages" / f"{lang}.toml").is_file()
