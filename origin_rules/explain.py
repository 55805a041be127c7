"""Structured explanations: every statement of a determination as a reason, in three languages.

A `Reason` is data: a stable `code`, its `values` (text: ids, decimal strings, dates, HS
codes, codes of methods and shifts — never prose of the engine's) and the legal
`reference` it rests on. `render(reason, language)` turns it into a sentence from the
message catalogue of that language (``en``, ``es``, ``fr``: the three languages of a
certification of origin); the English rendering is the determination's `explanation`, so
the web pages and the API can speak the user's language from the same data.

What stays in the language it came in: texts that are data rather than the engine's
words — a rule's title and notes, a category's scope, a vehicle requirement's detail and
the free-form notes some mechanisms still return (code ``note``) — are values, rendered as
given. The catalogues' sentences name the provisions they state (e.g. "Art. 4.16"); each
reason also carries its reference as data.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LANGUAGES", "Reason", "Value", "render", "render_all"]

#: A value of a reason: a text, or records of texts (e.g. the largest VNM contributors,
#: each ``(item, hs, vnm, share)``).
Value = str | tuple[tuple[str, ...], ...]

#: Languages of the catalogues (Annex 5-A: a certification may be in English, Spanish or
#: French).
LANGUAGES = ("en", "es", "fr")


@dataclass(frozen=True, slots=True)
class Reason:
    """One statement of a determination: a code, its values, its legal reference."""

    code: str
    values: Mapping[str, Value] = field(default_factory=dict)
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"code": self.code, "values": {k: _json(v) for k, v in self.values.items()},
                "reference": self.reference}


def _json(value: Value) -> Any:
    return value if isinstance(value, str) else [list(entry) for entry in value]


# --------------------------------------------------------------------------- catalogues

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "net_cost": "net cost", "transaction_value": "transaction value",
        "CC": "change of chapter", "CTH": "change of tariff heading",
        "CTSH": "change of tariff subheading", "and": "and", "or": "or",
        "in_force_from": "in force from",
        "base.net_cost": "net cost = total cost - excluded costs",
        "base.transaction_value": "transaction value less international shipping",
        "meets": "meets", "falls_short": "falls short of",
        "met": "met", "not_met": "NOT met", "not_evaluated": "not evaluated",
        "req.not_met": "not met", "req.not_evaluated": "not evaluated",
        "rule_not_met": "the product-specific requirement is not met",
        "criterion.B": "produced from non-originating materials that satisfy the rule",
        "criterion.C": "produced exclusively from originating materials",
        "criterion.D": "Art. 4.2(d)",
        "view.document": "as the document chooses",
        "view.favourable": "the favourable view, the document stating no choice",
        "none": "none",
        "core_parts": "core parts", "steel_aluminum": "steel aluminum",
        "labor_value_content": "labor value content",
        "us_content": "US content",
    },
    "es": {
        "net_cost": "costo neto", "transaction_value": "valor de transacción",
        "CC": "cambio de capítulo", "CTH": "cambio de partida arancelaria",
        "CTSH": "cambio de subpartida arancelaria", "and": "y", "or": "o",
        "in_force_from": "vigente desde",
        "base.net_cost": "costo neto = costo total - costos excluidos",
        "base.transaction_value": "valor de transacción menos el envío internacional",
        "meets": "cumple", "falls_short": "no alcanza",
        "met": "cumplido", "not_met": "NO cumplido", "not_evaluated": "no evaluado",
        "req.not_met": "no cumplido", "req.not_evaluated": "no evaluado",
        "rule_not_met": "no se cumple la regla específica de origen",
        "criterion.B": "producida con materiales no originarios que cumplen la regla",
        "criterion.C": "producida exclusivamente con materiales originarios",
        "criterion.D": "Art. 4.2(d)",
        "view.document": "según lo elige el documento",
        "view.favourable": "la opción favorable, pues el documento no elige",
        "none": "ninguno",
        "core_parts": "partes esenciales", "steel_aluminum": "acero y aluminio",
        "labor_value_content": "valor de contenido laboral",
        "us_content": "contenido estadounidense",
    },
    "fr": {
        "net_cost": "coût net", "transaction_value": "valeur transactionnelle",
        "CC": "changement de chapitre", "CTH": "changement de position tarifaire",
        "CTSH": "changement de sous-position tarifaire", "and": "et", "or": "ou",
        "in_force_from": "en vigueur depuis le",
        "base.net_cost": "coût net = coût total - coûts exclus",
        "base.transaction_value": "valeur transactionnelle moins l'expédition internationale",
        "meets": "atteint", "falls_short": "n'atteint pas",
        "met": "respectée", "not_met": "NON respectée", "not_evaluated": "non évaluée",
        "req.not_met": "non respectée", "req.not_evaluated": "non évaluée",
        "rule_not_met": "la règle d'origine spécifique n'est pas respectée",
        "criterion.B": "produite à partir de matières non originaires qui satisfont à la "
                       "règle",
        "criterion.C": "produite exclusivement à partir de matières originaires",
        "criterion.D": "art. 4.2d)",
        "view.document": "selon le choix du document",
        "view.favourable": "l'option favorable, le document ne choisissant pas",
        "none": "aucune",
        "core_parts": "pièces essentielles", "steel_aluminum": "acier et aluminium",
        "labor_value_content": "teneur en valeur-travail",
        "us_content": "contenu américain",
    },
}

_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "scenario": "HYPOTHETICAL: evaluated under scenario {name} ({title}), rule set "
                    "{rule_set}: the rules in force of {based_on} with {changes} change(s), "
                    "as if in force on {as_of}; a what-if, not a determination "
                    "of origin: no origin token can be issued on it.",
        "rule": "Rule: {title} [{reference}], rule set {rule_set}, on {as_of}: {needs}.",
        "rule.note": "Note: {note}.",
        "rule.scope": "Scope: {note}.",
        "rvc.result": "{method:W}{under}: base {base} ({method:base}), VNM {vnm}, RVC {rvc} % "
                      "{verdict:w} {threshold} % (margin {margin} points); {room}.",
        "rvc.under": " (Art. 4.2(d) threshold, {reference})",
        "rvc.absorb": "it can absorb {amount} {currency} more of non-originating materials "
                      "before failing",
        "rvc.needs": "it needs {amount} {currency} less of non-originating materials to pass",
        "rvc.contributors": "Largest VNM under {method:w}: {shown}.",
        "rvc.contributor": "{item} ({hs}) {vnm} = {share} %",
        "rvc.de_minimis": "RVC de minimis (Art. 4.12; SOR/2020-155 s.5(4)): all "
                          "non-originating materials are at most {percent} % of the "
                          "transaction value or total cost, so the RVC requirement need not "
                          "be met.",
        "shift.view": "Self-produced materials taken as the materials that undergo the tariff "
                      "shift (SOR/2020-155 s.3(8)), {chosen_by:w}: {taken}; every other "
                      "self-produced material is looked through to its inputs.",
        "shift.met": "Tariff shift {required}: every non-originating material changes "
                     "classification as required.",
        "shift.de_minimis": "Tariff shift {required}: {failing} do not shift, but their value "
                            "{value} is within the de minimis of {percent} % (Art. 4.12); "
                            "their value stays in VNM.",
        "shift.not_met": "Tariff shift {required}: not met by {failing} (value {value}, above "
                         "the de minimis or excluded from it by Annex 4-A).",
        "note": "Note: {note}.",
        "intermediate.qualifies": "Intermediate material {item!r} (designated, Art. 4.8) "
                                  "qualifies under {rule} and enters at its total cost "
                                  "{cost} as originating.",
        "intermediate.fails": "Intermediate material {item!r} (designated, Art. 4.8) does not "
                              "qualify under {rule}: its whole total cost {cost} is "
                              "non-originating; without the designation it would be traced "
                              "instead.",
        "statement": "{note}",
        "packing": "{count} packing material(s) for shipment disregarded (Art. 4.16).",
        "indirect": "{count} indirect material(s) treated as originating (Art. 4.9).",
        "unknown": "{count} material(s) of unknown origin counted as non-originating.",
        "requirement": "Vehicle requirement {label} [{reference}]: {status:w}: {detail}.",
        "conclusion.originating": "Conclusion: {good!r} is ORIGINATING, criterion "
                                  "{criterion} ({words}).",
        "conclusion.not_originating": "Conclusion: {good!r} is NOT originating: {reasons}.",
    },
    "es": {
        "scenario": "HIPOTÉTICO: evaluado conforme al escenario {name} ({title}), conjunto "
                    "de reglas {rule_set}: las reglas vigentes de {based_on} con {changes} "
                    "cambio(s), como si estuvieran vigentes al {as_of}; una "
                    "simulación, no una determinación de origen: no puede emitirse ningún "
                    "token de origen con ella.",
        "rule": "Regla: {title} [{reference}], conjunto de reglas {rule_set}, al {as_of}: "
                "{needs}.",
        "rule.note": "Nota: {note}.",
        "rule.scope": "Alcance: {note}.",
        "rvc.result": "{method:W}{under}: base {base} ({method:base}), VMN {vnm}, VCR {rvc} % "
                      "{verdict:w} {threshold} % (margen {margin} puntos); {room}.",
        "rvc.under": " (umbral del Art. 4.2(d), {reference})",
        "rvc.absorb": "admite {amount} {currency} más de materiales no originarios antes de "
                      "no cumplir",
        "rvc.needs": "necesita {amount} {currency} menos de materiales no originarios para "
                     "cumplir",
        "rvc.contributors": "Mayor VMN por {method:w}: {shown}.",
        "rvc.contributor": "{item} ({hs}) {vnm} = {share} %",
        "rvc.de_minimis": "De minimis del VCR (Art. 4.12; SOR/2020-155 s.5(4)): todos los "
                          "materiales no originarios suman como máximo el {percent} % del "
                          "valor de transacción o del costo total, por lo que no se exige el "
                          "VCR.",
        "shift.view": "Materiales de fabricación propia considerados como los materiales que "
                      "cumplen el cambio de clasificación (SOR/2020-155 s.3(8)), "
                      "{chosen_by:w}: {taken}; los demás materiales de fabricación propia se "
                      "examinan por sus insumos.",
        "shift.met": "Cambio de clasificación {required}: todos los materiales no originarios "
                     "cambian de clasificación como se exige.",
        "shift.de_minimis": "Cambio de clasificación {required}: {failing} no cambian, pero su "
                            "valor {value} está dentro del de minimis del {percent} % "
                            "(Art. 4.12); su valor se mantiene en el VMN.",
        "shift.not_met": "Cambio de clasificación {required}: no lo cumplen {failing} (valor "
                         "{value}, por encima del de minimis o excluido por el Anexo 4-A).",
        "note": "Nota: {note}.",
        "intermediate.qualifies": "Material intermedio {item!r} (designado, Art. 4.8) califica "
                                  "conforme a {rule} y entra por su costo total {cost} como "
                                  "originario.",
        "intermediate.fails": "Material intermedio {item!r} (designado, Art. 4.8) no califica "
                              "conforme a {rule}: todo su costo total {cost} es no originario; "
                              "sin la designación se rastrearía.",
        "statement": "{note}",
        "packing": "{count} material(es) de empaque para embarque no considerados "
                   "(Art. 4.16).",
        "indirect": "{count} material(es) indirecto(s) tratados como originarios (Art. 4.9).",
        "unknown": "{count} material(es) de origen desconocido contados como no originarios.",
        "requirement": "Requisito del vehículo {label} [{reference}]: {status:w}: {detail}.",
        "conclusion.originating": "Conclusión: {good!r} es ORIGINARIA, criterio {criterion} "
                                  "({words}).",
        "conclusion.not_originating": "Conclusión: {good!r} NO es originaria: {reasons}.",
    },
    "fr": {
        "scenario": "HYPOTHÉTIQUE : évalué selon le scénario {name} ({title}), ensemble de "
                    "règles {rule_set} : les règles en vigueur de {based_on} avec {changes} "
                    "changement(s), comme si elles étaient en vigueur le {as_of} "
                    "; une simulation, pas une détermination de l'origine : "
                    "aucun jeton d'origine ne peut être émis sur cette base.",
        "rule": "Règle : {title} [{reference}], ensemble de règles {rule_set}, au {as_of} : "
                "{needs}.",
        "rule.note": "Note : {note}.",
        "rule.scope": "Portée : {note}.",
        "rvc.result": "{method:W}{under} : base {base} ({method:base}), VMNO {vnm}, TVR {rvc} % "
                      "{verdict:w} {threshold} % (marge {margin} points) ; {room}.",
        "rvc.under": " (seuil de l'art. 4.2d), {reference})",
        "rvc.absorb": "il peut absorber {amount} {currency} de plus de matières non "
                      "originaires avant d'échouer",
        "rvc.needs": "il lui faut {amount} {currency} de moins de matières non originaires "
                     "pour réussir",
        "rvc.contributors": "Principales VMNO selon la méthode du {method:w} : {shown}.",
        "rvc.contributor": "{item} ({hs}) {vnm} = {share} %",
        "rvc.de_minimis": "De minimis de la TVR (art. 4.12; DORS/2020-155 par. 5(4)) : toutes "
                          "les matières non originaires font au plus {percent} % de la valeur "
                          "transactionnelle ou du coût total ; la TVR n'est donc pas exigée.",
        "shift.view": "Matières autoproduites considérées comme les matières qui subissent le "
                      "changement de classification (DORS/2020-155 par. 3(8)), "
                      "{chosen_by:w} : {taken} ; les autres matières autoproduites sont "
                      "examinées par leurs intrants.",
        "shift.met": "Changement de classification {required} : toutes les matières non "
                     "originaires changent de classification comme exigé.",
        "shift.de_minimis": "Changement de classification {required} : {failing} ne changent "
                            "pas, mais leur valeur {value} reste dans la règle de minimis de "
                            "{percent} % (art. 4.12) ; leur valeur reste dans la VMNO.",
        "shift.not_met": "Changement de classification {required} : non respecté par "
                         "{failing} (valeur {value}, au-delà du de minimis ou exclue par "
                         "l'annexe 4-A).",
        "note": "Note : {note}.",
        "intermediate.qualifies": "Matière intermédiaire {item!r} (désignée, art. 4.8) "
                                  "admissible selon {rule} ; elle entre à son coût total "
                                  "{cost} comme originaire.",
        "intermediate.fails": "Matière intermédiaire {item!r} (désignée, art. 4.8) non "
                              "admissible selon {rule} : tout son coût total {cost} est non "
                              "originaire ; sans la désignation elle serait retracée.",
        "statement": "{note}",
        "packing": "{count} matière(s) d'emballage pour l'expédition non prises en compte "
                   "(art. 4.16).",
        "indirect": "{count} matière(s) indirecte(s) considérées comme originaires "
                    "(art. 4.9).",
        "unknown": "{count} matière(s) d'origine inconnue comptées comme non originaires.",
        "requirement": "Exigence du véhicule {label} [{reference}] : {status:w} : {detail}.",
        "conclusion.originating": "Conclusion : {good!r} est ORIGINAIRE, critère {criterion} "
                                  "({words}).",
        "conclusion.not_originating": "Conclusion : {good!r} n'est PAS originaire : "
                                      "{reasons}.",
    },
}


class _Formatter(string.Formatter):
    """`{x:w}` looks the value up in the language's words, `{x:W}` capitalises it, and
    `{x:base}` gives the RVC base of a method; any other field is the value itself.
    """

    def __init__(self, words: Mapping[str, str]) -> None:
        self.words = words

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "w":
            return self.words.get(str(value), str(value))
        if format_spec == "W":
            word = self.words.get(str(value), str(value))
            return word[:1].upper() + word[1:]
        if format_spec == "base":
            return self.words[f"base.{value}"]
        return str(super().format_field(value, format_spec))


def _needs(values: Mapping[str, Any], words: Mapping[str, str], language: str) -> str:
    """What the rule asks: its shift and its thresholds, in the language's words.

    A product-specific rule's alternatives, and its shift's own label, are the rule's
    text (English, as HTSUS GN 11 prints it): shown as they are, the label in English
    only, the shift's code name in the other languages.
    """
    thresholds = ", ".join(
        f"{words[method]} {minimum} %" + (f" ({words['in_force_from']} {start})" if start
                                           else "")
        for method, minimum, start in values["thresholds"])
    if values.get("alternatives"):
        return str(values["alternatives"])
    code, label = values["shift"], values.get("shift_label") or ""
    if language == "en" and label:
        shift: str | None = f"{label} ({code})"
    else:
        shift = f"{words.get(code) or label or code} ({code})" if code else None
    if shift and thresholds and values["combine"] == "any":
        return f"{shift} {words['or']} RVC {thresholds}"
    return f" {words['and']} ".join(filter(None, [shift, thresholds and f"RVC {thresholds}"]))


def render(reason: Reason, language: str = "en") -> str:
    """The sentence of `reason` in `language` (one of `LANGUAGES`)."""
    templates, words = _TEMPLATES[language], _WORDS[language]
    formatter = _Formatter(words)
    values: dict[str, Any] = dict(reason.values)
    code = reason.code
    if code == "rule":
        values["needs"] = _needs(values, words, language)
        values["reference"] = reason.reference
    elif code == "scenario":
        values["reference"] = reason.reference
    elif code == "rvc.result":
        values["under"] = (formatter.format(templates["rvc.under"], reference=reason.reference)
                           if values.get("criterion_d") == "true" else "")
        values["verdict"] = "meets" if values["passed"] == "true" else "falls_short"
        room = "rvc.absorb" if values["room"] == "absorb" else "rvc.needs"
        values["room"] = formatter.format(templates[room], **values)
    elif code == "rvc.contributors":
        values["shown"] = "; ".join(
            formatter.format(templates["rvc.contributor"], item=item, hs=hs, vnm=vnm,
                             share=share)
            for item, hs, vnm, share in values["contributors"])
    elif code == "shift.view":
        values["taken"] = values["taken"] or words["none"]
    elif code == "requirement":
        values["label"] = words.get(values["name"], values["name"].replace("_", " "))
        values["reference"] = reason.reference
    elif code == "conclusion.originating":
        values["words"] = words[f"criterion.{values['kind']}"]
    elif code == "conclusion.not_originating":
        values["reasons"] = "; ".join(_why_not(values, words))
    return formatter.format(templates[code], **values)


def _why_not(values: Mapping[str, Any], words: Mapping[str, str]) -> Iterable[str]:
    if values["rule_met"] == "false":
        yield words["rule_not_met"]
    for name, status in values["requirements"]:
        yield f"{words.get(name, name.replace('_', ' '))} {words['req.' + status]}"


def render_all(reasons: Sequence[Reason], language: str = "en") -> list[str]:
    """Every reason of a determination rendered in `language`."""
    return [render(reason, language) for reason in reasons]

