"""What the pages show, as typed values built from the API's own answers.

The pages compute nothing of their own: a verification is `Service.verify_logged` (the
offline `ledger.verify.verify` under the service's trust file), the nine data elements are
`ledger.api.context.certificate`, the checkpoint is the one in the bundle, read with
`ledger.policy.verify_checkpoint` under the same trust policy. This module only turns
those into what a person reads: each check in plain words in the page's language (the
verifier's own detail kept beside it), each Annex 5-A element labelled, money and dates
in the locale's format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.api.context import certificate
from ledger.errors import LedgerError
from ledger.policy import verify_checkpoint
from ledger.verify import Check, Decision, Outcome, TrustFile, Verification
from ledger.web.i18n import Translator

__all__ = ["CheckView", "CheckpointView", "Element", "VerificationView", "check_key",
           "checkpoint_view", "disclosed_lines", "elements", "verification_view"]

_SYMBOL = {Decision.CLEAR: "✓", Decision.REVIEW: "!", Decision.REJECT: "✗"}
_OUTCOME_SYMBOL = {Outcome.PASS: "✓", Outcome.WARN: "!", Outcome.FAIL: "✗", Outcome.SKIP: "–"}


def check_key(name: str) -> tuple[str, dict[str, str]]:
    """The catalogue key of a check's plain-words title, and its values.

    Check names are the verifier's (`ledger.verify`); a supplier's check is named after
    the supplier token (``supplier.<16 hex>``), the rest are fixed.
    """
    if name.startswith("supplier."):
        return "check.supplier", {"digest": name.partition(".")[2]}
    return "check." + name.replace(".", "_"), {}


@dataclass(frozen=True, slots=True)
class CheckView:
    """One check as a person reads it."""

    title: str
    outcome: str  # pass | warn | fail | skip (a CSS class and a word)
    outcome_word: str
    symbol: str
    detail: str  # the verifier's own words (English), shown as text


@dataclass(frozen=True, slots=True)
class Element:
    """One Annex 5-A data element: its number, label and lines of text."""

    number: int
    label: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckpointView:
    """The log checkpoint a bundle rests on and who cosigned it."""

    origin: str
    size: int
    root_hex: str
    cosigners: tuple[str, ...]  # the authorities' names, in the page's language
    problem: str  # why it could not be read under the trust policy, else ""


@dataclass(frozen=True, slots=True)
class VerificationView:
    """The verification page's content."""

    decision: str  # clear | review | reject
    verdict: str
    symbol: str
    reasons: tuple[str, ...]  # why, in plain words
    checks: tuple[CheckView, ...]
    digest: str | None
    shipment: str | None


def _check(check: Check, t: Translator) -> CheckView:
    key, values = check_key(check.name)
    title = t(key, **values) if t.has(key) else t("check.other", name=check.name)
    return CheckView(title, check.outcome.value, t(f"outcome.{check.outcome.value}"),
                     _OUTCOME_SYMBOL[check.outcome], check.detail)


def verification_view(result: Verification, t: Translator) -> VerificationView:
    """The decision, why, and every check of `result` in the words of `t`."""
    checks = tuple(_check(c, t) for c in result.checks)
    failing = [c for c in checks if c.outcome == Outcome.FAIL.value]
    warning = [c for c in checks if c.outcome == Outcome.WARN.value]
    if result.decision is Decision.CLEAR:
        reasons: tuple[str, ...] = (t("why.clear"),)
    else:
        reasons = tuple(t("why.failed", check=c.title) for c in failing) + tuple(
            t("why.warned", check=c.title) for c in warning)
    return VerificationView(result.decision.value, t(f"verdict.{result.decision.value}"),
                            _SYMBOL[result.decision], reasons, checks, result.token_digest,
                            result.shipment_id)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _party(value: object, t: Translator) -> tuple[str, ...]:
    if isinstance(value, str):  # a word instead of a party ("VARIOUS", ...)
        return (value,)
    if not isinstance(value, Mapping):
        return (t("element.not_given"),)
    lines = [_text(value.get(k)) for k in ("name", "title", "address", "taxId")]
    contact = " · ".join(x for x in (_text(value.get("phone")), _text(value.get("email"))) if x)
    return tuple(x for x in [*lines, contact] if x)


def elements(token: Mapping[str, Any], t: Translator) -> list[Element]:
    """The nine data elements of Annex 5-A, labelled, from the token's certificate."""
    shown = certificate(token)
    role = _text(shown.get("certifierRole"))
    good = shown.get("good") if isinstance(shown.get("good"), Mapping) else {}
    assert isinstance(good, Mapping)
    hs = _text(good.get("hsCode"))
    good_lines = [_text(good.get("description")),
                  t("element.hs", code=f"{hs[:4]}.{hs[4:]}" if len(hs) == 6 else hs)]
    if _text(good.get("invoiceNumber")):
        good_lines.append(t("element.invoice", number=_text(good["invoiceNumber"])))
    criterion = _text(shown.get("originCriterion"))
    period = shown.get("blanketPeriod")
    period_lines: tuple[str, ...] = (t("element.single_shipment"),)
    if isinstance(period, Mapping):
        period_lines = (t("element.period", start=t.date(_text(period.get("start"))),
                          end=t.date(_text(period.get("end")))),)
    signature = shown.get("authorizedSignature")
    signature_lines: tuple[str, ...] = (t("element.not_given"),)
    if isinstance(signature, Mapping):
        signature_lines = (t("element.signed_on", date=t.date(_text(signature.get("date")))),
                           _text(signature.get("statement")))
    criterion_key = f"criterion.{criterion}"
    return [
        Element(1, t("element.1"), (t(f"certifier_role.{role}") if t.has(
            f"certifier_role.{role}") else role,)),
        Element(2, t("element.2"), _party(shown.get("certifier"), t)),
        Element(3, t("element.3"), _party(shown.get("exporter"), t)),
        Element(4, t("element.4"), _party(shown.get("producer"), t) if "producer" in shown
                else (t("element.same_as_certifier") if role == "producer"
                      else t("element.not_given"),)),
        Element(5, t("element.5"), _party(shown.get("importer"), t)),
        Element(6, t("element.6"), tuple(x for x in good_lines if x)),
        Element(7, t("element.7"), (f"{criterion} — {t(criterion_key)}" if t.has(
            criterion_key) else criterion,)),
        Element(8, t("element.8"), period_lines),
        Element(9, t("element.9"), tuple(x for x in signature_lines if x)),
    ]


def checkpoint_view(bundle: Mapping[str, Any], trust: TrustFile, t: Translator
                    ) -> CheckpointView | None:
    """The bundle's checkpoint and the witnesses whose cosignatures verify under `trust`."""
    log = bundle.get("log")
    note = log.get("checkpoint") if isinstance(log, Mapping) else None
    if not isinstance(note, str):
        return None
    try:
        verified = verify_checkpoint(trust.policy, note)
    except LedgerError as exc:
        return CheckpointView("", 0, "", (), str(exc)[:300])
    names = tuple(t(f"authority.{n}") if t.has(f"authority.{n}") else n
                  for n in sorted(verified.cosignatures))
    point = verified.checkpoint
    return CheckpointView(point.origin, point.size, point.root_hash.hex(), names, "")


def disclosed_lines(bundle: Mapping[str, Any]) -> list[tuple[int, list[tuple[str, str]]]]:
    """The BOM lines a bundle discloses: (line number, [(field, value)]) for a table."""
    found = bundle.get("disclosures")
    rows: list[tuple[int, list[tuple[str, str]]]] = []
    if not isinstance(found, list):
        return rows
    for disclosure in found:
        if not isinstance(disclosure, Mapping) or not isinstance(disclosure.get("record"),
                                                                 Mapping):
            continue
        fields: list[tuple[str, str]] = []

        def walk(prefix: str, value: object, into: list[tuple[str, str]] = fields) -> None:
            if isinstance(value, Mapping):
                for key in sorted(value):
                    walk(f"{prefix}{key}.", value[key])
            elif value is not None:
                into.append((prefix.rstrip("."), str(value)))

        walk("", disclosure["record"])
        line = disclosure.get("line")
        rows.append((line if isinstance(line, int) else -1, fields))
    return rows

