"""Structured explanations: every statement of a determination as a reason, in three languages.

A `Reason` is data: a stable `code`, its `values` (text: ids, decimal strings, dates, HS
codes, codes of methods and shifts — never prose of the engine's) and the legal
`reference` it rests on. `render(reason, language)` turns it into a sentence from the
message catalogue of that language (``en``, ``es``, ``fr``: the three languages of a
certification of origin); the English rendering is the determination's `explanation`, so
the web pages and the API can speak the user's language from the same data.

No citation is written here or in the engine: a reason's `reference`, and any further
provision its sentence names (a value whose name ends in ``_reference``), come from the
rule set in force for the determination (its rules, categories and thresholds, and its
``[references]`` table for the engine's own statements: `origin_rules.rules.REFERENCE_KEYS`).

The notes of a rule's selection (codes ``rule.note.<kind>``: which table or rule was
chosen and why, which product-specific rule from which source, how sure) are worded in
every language; `render_note` gives their words alone, which the English determination
lists as the rule's ``notes``. What stays in the language it came in: texts that are data
rather than the engine's words — a rule's title, a free note of a rule (``rule.note``),
the message of a refusal quoted in a note (``problem``), a category's scope, a
product-specific rule's alternatives as printed, a citation, free-form notes (code
``note``) — are values, rendered as given. The engine's own notes (criterion D, the
s.3(8) views, the alternatives weighed, accumulation statements) and a vehicle
requirement's finding (``detail.*``) have templates in every language.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LANGUAGES", "Reason", "Value", "render", "render_all", "render_note"]

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

    def __hash__(self) -> int:
        """By content, like the dataclass's equality (the values are a mapping): a
        determination says each thing once.
        """
        return hash((self.code, tuple(sorted(self.values.items())), self.reference))

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
        "view.document": "as the document chooses",
        "view.favourable": "the favourable view, the document stating no choice",
        "none": "none",
        "core_parts": "core parts", "steel_aluminum": "steel aluminum",
        "labor_value_content": "labor value content",
        "which.shift_only": "this tariff-shift-only rule", "which.rule": "this rule",
        "the_rule": "the rule", "alternative_prefix": "alternative ", "separator": "; ",
        "alt.met": "met", "alt.not_met": "not met", "alt.shift_met": "tariff shift met",
        "alt.shift_met_de_minimis": "tariff shift met within the de minimis",
        "us_content": "US content",
        "until": " to ",
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
        "view.document": "según lo elige el documento",
        "view.favourable": "la opción favorable, pues el documento no elige",
        "none": "ninguno",
        "core_parts": "partes esenciales", "steel_aluminum": "acero y aluminio",
        "labor_value_content": "valor de contenido laboral",
        "which.shift_only": "esta regla de solo cambio de clasificación",
        "which.rule": "esta regla", "the_rule": "la regla", "alternative_prefix": "alternativa ",
        "separator": "; ", "alt.met": "cumplida", "alt.not_met": "no cumplida",
        "alt.shift_met": "cambio de clasificación cumplido",
        "alt.shift_met_de_minimis": "cambio de clasificación cumplido dentro del de minimis",
        "us_content": "contenido estadounidense",
        "until": " hasta el ",
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
        "view.document": "selon le choix du document",
        "view.favourable": "l'option favorable, le document ne choisissant pas",
        "none": "aucune",
        "core_parts": "pièces essentielles", "steel_aluminum": "acier et aluminium",
        "labor_value_content": "teneur en valeur-travail",
        "which.shift_only": "cette règle de seul changement de classification",
        "which.rule": "cette règle", "the_rule": "la règle",
        "alternative_prefix": "alternative ", "separator": " ; ", "alt.met": "respectée",
        "alt.not_met": "non respectée", "alt.shift_met": "changement de classification respecté",
        "alt.shift_met_de_minimis": "changement de classification respecté dans le de minimis",
        "us_content": "contenu américain",
        "until": " au ",
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
        "rule.note.psr_named": "the document names the product-specific rule (psr_provision)",
        "rule.note.no_table_named": "the document says no automotive table applies "
                                    "(automotive_table 'none'), so the product-specific rule "
                                    "does",
        "rule.note.also_listed": "HS {hs} is also listed in {others}; the strictest table is "
                                 "applied unless the document sets 'automotive_table'",
        "rule.note.vehicle_end_use_ignored": "end_use '{end_use}' is ignored: HS {hs} is a vehicle",
        "rule.note.aftermarket": "an aftermarket part is not original equipment, so the "
                                 "elevated percentages of the automotive tables do not apply "
                                 "and the product-specific rule does ({aftermarket_reference})",
        "rule.note.no_table_for_end_use": "no automotive table lists HS {hs} for end use "
                                          "{end_use}, so the product-specific rule applies",
        "rule.note.partial_entry": "the table lists '{entry}': it covers only the goods its "
                                   "description names; confirm the good is one of them",
        "rule.note.net_cost_only": "the product-specific rule for HS {hs} has no transaction "
                                   "value method ({net_cost_only_reference})",
        "rule.note.shift_alternative_not_applied": "the tariff-shift alternative of "
                                                   "{section_reference} was not applied: "
                                                   "{problem}",
        "rule.note.no_shift_alternative": "{rule_reference} has no alternative that is a tariff "
                                          "shift alone, so only the Table's RVC applies "
                                          "({section_reference})",
        "rule.note.table_or_shift": "{section_reference}: a Table {table} part satisfies the "
                                    "change in tariff classification requirement of its "
                                    "product-specific rule or the Table's RVC; the rule's "
                                    "alternatives that carry their own RVC are met, if at all, "
                                    "by the Table's RVC",
        "rule.note.psr_applied": "product-specific rule applied: {psr_reference}, in force from "
                                 "{valid_from}{until}; source: {source}",
        "rule.note.psr_not_cross_checked": "this rule's text was NOT cross-checked against a "
                                           "printed copy of the product-specific rules: it "
                                           "comes from one third-party transcription known to "
                                           "contain errors{detail}",
        "rule.note.psr_residual": "no end_use given: the rule for 'any other good' (not "
                                  "original equipment for the vehicles its sibling rules name) "
                                  "applies",
        "rule.note.psr_doubt": "doubt recorded with the rule: {doubt}",
        "rule.note.psr_chapter_rule": "chapter {chapter} {kind} is not applied by the engine: "
                                      "{text}",
        "rule.note.psr_clause": "rule clause not evaluated: {clause}",
        "rule.note.psr_goods": "the document says the good is '{goods}' (psr_goods)",
        "rule.scope": "Scope: {note}.",
        "rvc.result": "{method:W}{under}: base {base} ({method:base}), VNM {vnm}, RVC {rvc} % "
                      "{verdict:w} {threshold} % (margin {margin} points); {room}.",
        "rvc.under": " ({criterion_d_reference} threshold, {reference})",
        "rvc.absorb": "it can absorb {amount} {currency} more of non-originating materials "
                      "before failing",
        "rvc.needs": "it needs {amount} {currency} less of non-originating materials to pass",
        "rvc.contributors": "Largest VNM under {method:w}: {shown}.",
        "rvc.contributor": "{item} ({hs}) {vnm} = {share} %",
        "rvc.de_minimis": "RVC de minimis ({de_minimis_reference}): all non-originating "
                          "materials are at most {percent} % of the transaction value or "
                          "total cost, so the RVC requirement need not be met.",
        "rvc.not_evaluated": "Note: no RVC method could be evaluated.",
        "shift.view": "Self-produced materials taken as the materials that undergo the tariff "
                      "shift ({reference}), {chosen_by:w}: {taken}; every other self-produced "
                      "material is looked through to its inputs.",
        "shift.views_fail": "Note: {reference}: taking the self-produced materials as the "
                            "materials that undergo the tariff shift, in whole or in part, "
                            "does not meet it either.",
        "shift.met": "Tariff shift {required}: every non-originating material changes "
                     "classification as required.",
        "shift.de_minimis": "Tariff shift {required}: {failing} do not shift, but their value "
                            "{value} is within the de minimis of {percent} % "
                            "({de_minimis_reference}); their value stays in VNM.",
        "shift.not_met": "Tariff shift {required}: not met by {failing} (value {value}, above "
                         "the de minimis or excluded from it by {exclusions_reference}).",
        "criterion_d.net_cost_only": "Note: {criterion_d_reference} by net cost only: the "
                                     "transaction value method is allowed only where the "
                                     "product-specific rule gives a transaction value "
                                     "requirement, which {which} does not ({reference}).",
        "criterion_d.applies": "Note: the tariff shift fails only for parts classified in the "
                               "good's own subheading, so {criterion_d_reference} applies with "
                               "RVC thresholds of {net_cost} % (net cost) / "
                               "{transaction_value} % (transaction value) ({reference}).",
        "criterion_d.falls_short": "Note: the tariff shift fails only for parts classified in "
                                   "the good's own subheading; the {criterion_d_reference} RVC "
                                   "falls short too ({reference}).",
        "which.alternative": "its alternative {alternative}",
        "alternative.not_evaluated": "Note: {alternative} of {reference} was not evaluated: "
                                     "the engine cannot apply {clauses}.",
        "alternative.outcome": "Note: {summary}: {verdict}{detail}.",
        "alternative.named": "alternative {name}",
        "alternative.met_d": "met through {criterion_d_reference}",
        "alternative.shift_not_met": "tariff shift not met by {failing} (value {value})",
        "alternative.rvc": "RVC {rvc} % by {method:w} {comparison} {threshold} %",
        "alternative.rvc_d": "{criterion_d_reference} RVC {rvc} % by {method:w} {comparison} "
                             "{threshold} %",
        "alternative.rvc_exempt": "RVC not required (de minimis, {de_minimis_reference})",
        "alternative.qualifies": "Note: the good qualifies under {alternative} of "
                                 "{rule_reference} (meeting one alternative suffices, "
                                 "{reference}).",
        "alternative.whichever": "Note: whichever of the goods descriptions the good is "
                                 "({goods}), one of its alternatives is met.",
        "note": "Note: {note}.",
        "intermediate.qualifies": "Intermediate material {item!r} (designated, "
                                  "{intermediate_reference}) qualifies under {rule} and enters "
                                  "at its total cost {cost} as originating.",
        "intermediate.fails": "Intermediate material {item!r} (designated, "
                              "{intermediate_reference}) does not qualify under {rule}: its "
                              "whole total cost {cost} is non-originating; without the "
                              "designation it would be traced instead.",
        "statement.used": "Supplier accumulation statements ({reference}) set the value and "
                          "VNM of {count} non-originating material(s).",
        "statement.vnm_only": "VNM-only statements ({items}) apply to the transaction value "
                              "method; under net cost the material's full value counts, for "
                              "there a statement needs net cost and VNM, or a regional value "
                              "amount ({reference}).",
        "packing": "{count} packing material(s) for shipment disregarded ({reference}).",
        "indirect": "{count} indirect material(s) treated as originating ({reference}).",
        "unknown": "{count} material(s) of unknown origin counted as non-originating.",
        "requirement": "Vehicle requirement {label} [{reference}]: {status:w}: {detail}.",
        "detail.core_parts.none": "no {table} core part (engine, transmission, body, chassis, "
                                  "axle, suspension, steering, advanced battery) was found "
                                  "among the vehicle's materials, so the requirement was not "
                                  "checked",
        "detail.core_parts.all": "all {count} core part(s) are originating",
        "detail.core_parts.failing": "core part(s) not originating: {failing}",
        "detail.steel_aluminum.none": "the document gives no vehicle.steel_aluminum "
                                      "purchases, so the {minimum} % steel and aluminum "
                                      "requirement was not checked{condition}",
        "detail.steel_aluminum.condition": "; originating purchases counted as: {condition}",
        "detail.steel_aluminum": "steel {steel} % {steel_comparison} {minimum} %; "
                                 "{aluminum}{condition}",
        "detail.aluminum": "aluminum {aluminum} % {aluminum_comparison} {minimum} %",
        "detail.aluminum.none": "aluminum purchases not given",
        "detail.labor_value_content.none": "the document gives no vehicle.labor_value_content, "
                                           "so the {minimum} % LVC requirement was not checked",
        "detail.labor_value_content": "LVC {lvc} % (high-wage material and manufacturing "
                                      "{material_and_manufacturing} + technology credit "
                                      "{technology} + assembly credit {assembly}, credits "
                                      "capped at {max_technology}/{max_assembly}) "
                                      "{lvc_comparison} {minimum} %; high-wage material and "
                                      "manufacturing {floor_comparison} {floor} points",
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
        "rule.note.psr_named": "el documento indica la regla específica de origen (psr_provision)",
        "rule.note.no_table_named": "el documento indica que no aplica ninguna tabla automotriz "
                                    "(automotive_table 'none'), por lo que aplica la regla "
                                    "específica de origen",
        "rule.note.also_listed": "la fracción SA {hs} también figura en {others}; se aplica la "
                                 "tabla más estricta, salvo que el documento indique "
                                 "'automotive_table'",
        "rule.note.vehicle_end_use_ignored": "se ignora end_use '{end_use}': la fracción SA "
                                             "{hs} es un vehículo",
        "rule.note.aftermarket": "una parte para el mercado de repuestos no es equipo original, "
                                 "por lo que no aplican los porcentajes elevados de las tablas "
                                 "automotrices sino la regla específica de origen "
                                 "({aftermarket_reference})",
        "rule.note.no_table_for_end_use": "ninguna tabla automotriz incluye la fracción SA {hs} "
                                          "para el uso final {end_use}, por lo que aplica la "
                                          "regla específica de origen",
        "rule.note.partial_entry": "la tabla indica '{entry}': solo abarca los bienes que "
                                   "nombra su descripción; confirme que el bien es uno de ellos",
        "rule.note.net_cost_only": "la regla específica de origen de la fracción SA {hs} no "
                                   "prevé el método de valor de transacción "
                                   "({net_cost_only_reference})",
        "rule.note.shift_alternative_not_applied": "no se aplicó la alternativa de cambio de "
                                                   "clasificación arancelaria de "
                                                   "{section_reference}: {problem}",
        "rule.note.no_shift_alternative": "{rule_reference} no tiene ninguna alternativa que "
                                          "sea solo un cambio de clasificación arancelaria, por "
                                          "lo que solo aplica el VCR de la Tabla "
                                          "({section_reference})",
        "rule.note.table_or_shift": "{section_reference}: una parte de la Tabla {table} cumple "
                                    "el requisito de cambio de clasificación arancelaria de su "
                                    "regla específica de origen o el VCR de la Tabla; las "
                                    "alternativas de la regla con VCR propio solo se cumplen, "
                                    "en su caso, con el VCR de la Tabla",
        "rule.note.psr_applied": "regla específica de origen aplicada: {psr_reference}, vigente "
                                 "desde {valid_from}{until}; fuente: {source}",
        "rule.note.psr_not_cross_checked": "el texto de esta regla NO se cotejó con una copia "
                                           "impresa de las reglas específicas de origen: "
                                           "proviene de una sola transcripción de terceros con "
                                           "errores conocidos{detail}",
        "rule.note.psr_residual": "no se indicó end_use: aplica la regla para 'cualquier otro "
                                  "bien' (no equipo original de los vehículos que nombran las "
                                  "reglas hermanas)",
        "rule.note.psr_doubt": "duda registrada con la regla: {doubt}",
        "rule.note.psr_chapter_rule": "el motor no aplica la {kind} del capítulo {chapter}: {text}",
        "rule.note.psr_clause": "cláusula de la regla no evaluada: {clause}",
        "rule.note.psr_goods": "el documento indica que el bien es '{goods}' (psr_goods)",
        "rule.scope": "Alcance: {note}.",
        "rvc.result": "{method:W}{under}: base {base} ({method:base}), VMN {vnm}, VCR {rvc} % "
                      "{verdict:w} {threshold} % (margen {margin} puntos); {room}.",
        "rvc.under": " (umbral del {criterion_d_reference}, {reference})",
        "rvc.absorb": "admite {amount} {currency} más de materiales no originarios antes de "
                      "no cumplir",
        "rvc.needs": "necesita {amount} {currency} menos de materiales no originarios para "
                     "cumplir",
        "rvc.contributors": "Mayor VMN por {method:w}: {shown}.",
        "rvc.contributor": "{item} ({hs}) {vnm} = {share} %",
        "rvc.de_minimis": "De minimis del VCR ({de_minimis_reference}): todos los materiales no "
                          "originarios suman como máximo el {percent} % del valor de "
                          "transacción o del costo total, por lo que no se exige el VCR.",
        "rvc.not_evaluated": "Nota: no se pudo evaluar ningún método de VCR.",
        "shift.view": "Materiales de fabricación propia considerados como los materiales que "
                      "cumplen el cambio de clasificación ({reference}), {chosen_by:w}: "
                      "{taken}; los demás materiales de fabricación propia se examinan por sus "
                      "insumos.",
        "shift.views_fail": "Nota: {reference}: considerar los materiales de fabricación propia "
                            "como los materiales que cumplen el cambio de clasificación, total "
                            "o parcialmente, tampoco lo cumple.",
        "shift.met": "Cambio de clasificación {required}: todos los materiales no originarios "
                     "cambian de clasificación como se exige.",
        "shift.de_minimis": "Cambio de clasificación {required}: {failing} no cambian, pero su "
                            "valor {value} está dentro del de minimis del {percent} % "
                            "({de_minimis_reference}); su valor se mantiene en el VMN.",
        "shift.not_met": "Cambio de clasificación {required}: no lo cumplen {failing} (valor "
                         "{value}, por encima del de minimis o excluido de este por "
                         "{exclusions_reference}).",
        "criterion_d.net_cost_only": "Nota: {criterion_d_reference} solo por costo neto: el "
                                     "método de valor de transacción solo se admite cuando la "
                                     "regla específica de origen fija un requisito de valor de "
                                     "transacción, y {which} no lo fija ({reference}).",
        "criterion_d.applies": "Nota: el cambio de clasificación falla solo por partes "
                               "clasificadas en la misma subpartida que el bien, por lo que se "
                               "aplica el {criterion_d_reference} con umbrales de VCR de "
                               "{net_cost} % (costo neto) / {transaction_value} % (valor de "
                               "transacción) ({reference}).",
        "criterion_d.falls_short": "Nota: el cambio de clasificación falla solo por partes "
                                   "clasificadas en la misma subpartida que el bien; el VCR del "
                                   "{criterion_d_reference} tampoco se alcanza ({reference}).",
        "which.alternative": "su alternativa {alternative}",
        "alternative.not_evaluated": "Nota: {alternative} de {reference} no se evaluó: el "
                                     "motor no puede aplicar {clauses}.",
        "alternative.outcome": "Nota: {summary}: {verdict}{detail}.",
        "alternative.named": "la alternativa {name}",
        "alternative.met_d": "cumplida mediante el {criterion_d_reference}",
        "alternative.shift_not_met": "cambio de clasificación no cumplido por {failing} "
                                     "(valor {value})",
        "alternative.rvc": "VCR {rvc} % por {method:w} {comparison} {threshold} %",
        "alternative.rvc_d": "VCR del {criterion_d_reference} {rvc} % por {method:w} "
                             "{comparison} {threshold} %",
        "alternative.rvc_exempt": "VCR no exigido (de minimis, {de_minimis_reference})",
        "alternative.qualifies": "Nota: el bien califica conforme a {alternative} de "
                                 "{rule_reference} (basta con cumplir una alternativa, "
                                 "{reference}).",
        "alternative.whichever": "Nota: sea cual sea la descripción de mercancías que "
                                 "corresponde al bien ({goods}), se cumple una de sus "
                                 "alternativas.",
        "note": "Nota: {note}.",
        "intermediate.qualifies": "Material intermedio {item!r} (designado, "
                                  "{intermediate_reference}) califica conforme a {rule} y entra "
                                  "por su costo total {cost} como originario.",
        "intermediate.fails": "Material intermedio {item!r} (designado, "
                              "{intermediate_reference}) no califica conforme a {rule}: todo "
                              "su costo total {cost} es no originario; sin la designación se "
                              "rastrearía.",
        "statement.used": "Las declaraciones de acumulación de los proveedores ({reference}) "
                          "fijan el valor y el VMN de {count} material(es) no originario(s).",
        "statement.vnm_only": "Las declaraciones de solo VMN ({items}) se aplican al método de "
                              "valor de transacción; por costo neto cuenta el valor total del "
                              "material, pues allí una declaración necesita costo neto y VMN, "
                              "o un monto de valor regional ({reference}).",
        "packing": "{count} material(es) de empaque para embarque no considerados "
                   "({reference}).",
        "indirect": "{count} material(es) indirecto(s) tratados como originarios "
                    "({reference}).",
        "unknown": "{count} material(es) de origen desconocido contados como no originarios.",
        "requirement": "Requisito del vehículo {label} [{reference}]: {status:w}: {detail}.",
        "detail.core_parts.none": "no se encontró ninguna parte esencial de la {table} (motor, "
                                  "transmisión, carrocería, chasis, eje, suspensión, dirección, "
                                  "batería avanzada) entre los materiales del vehículo, por lo "
                                  "que el requisito no se verificó",
        "detail.core_parts.all": "las {count} parte(s) esencial(es) son originarias",
        "detail.core_parts.failing": "parte(s) esencial(es) no originaria(s): {failing}",
        "detail.steel_aluminum.none": "el documento no da las compras vehicle.steel_aluminum, "
                                      "por lo que el requisito de {minimum} % de acero y "
                                      "aluminio no se verificó{condition}",
        "detail.steel_aluminum.condition": "; compras originarias contadas como: {condition}",
        "detail.steel_aluminum": "acero {steel} % {steel_comparison} {minimum} %; "
                                 "{aluminum}{condition}",
        "detail.aluminum": "aluminio {aluminum} % {aluminum_comparison} {minimum} %",
        "detail.aluminum.none": "compras de aluminio no indicadas",
        "detail.labor_value_content.none": "el documento no da "
                                           "vehicle.labor_value_content, por lo que el "
                                           "requisito de VCL de {minimum} % no se verificó",
        "detail.labor_value_content": "VCL {lvc} % (materiales y manufactura de salario alto "
                                      "{material_and_manufacturing} + crédito de tecnología "
                                      "{technology} + crédito de ensamble {assembly}, créditos "
                                      "limitados a {max_technology}/{max_assembly}) "
                                      "{lvc_comparison} {minimum} %; materiales y manufactura "
                                      "de salario alto {floor_comparison} {floor} puntos",
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
        "rule.note.psr_named": "le document désigne la règle d'origine spécifique (psr_provision)",
        "rule.note.no_table_named": "le document indique qu'aucun tableau automobile ne "
                                    "s'applique (automotive_table 'none') ; la règle d'origine "
                                    "spécifique s'applique donc",
        "rule.note.also_listed": "le code SH {hs} figure aussi dans {others} ; le tableau le "
                                 "plus strict s'applique, sauf si le document indique "
                                 "'automotive_table'",
        "rule.note.vehicle_end_use_ignored": "end_use '{end_use}' est ignoré : le code SH {hs} "
                                             "est un véhicule",
        "rule.note.aftermarket": "une pièce du marché des pièces de rechange n'est pas un "
                                 "équipement d'origine : les pourcentages majorés des tableaux "
                                 "automobiles ne s'appliquent pas, la règle d'origine "
                                 "spécifique s'applique ({aftermarket_reference})",
        "rule.note.no_table_for_end_use": "aucun tableau automobile ne vise le code SH {hs} "
                                          "pour l'usage final {end_use} ; la règle d'origine "
                                          "spécifique s'applique donc",
        "rule.note.partial_entry": "le tableau indique '{entry}' : il ne vise que les produits "
                                   "que nomme sa désignation ; vérifiez que le produit en fait "
                                   "partie",
        "rule.note.net_cost_only": "la règle d'origine spécifique du code SH {hs} ne prévoit "
                                   "pas la méthode de la valeur transactionnelle "
                                   "({net_cost_only_reference})",
        "rule.note.shift_alternative_not_applied": "l'alternative de changement de "
                                                   "classification tarifaire de "
                                                   "{section_reference} n'a pas été appliquée : "
                                                   "{problem}",
        "rule.note.no_shift_alternative": "{rule_reference} n'a aucune alternative qui soit un "
                                          "seul changement de classification tarifaire ; seule "
                                          "la TVR du tableau s'applique ({section_reference})",
        "rule.note.table_or_shift": "{section_reference} : une pièce du tableau {table} "
                                    "satisfait à l'exigence de changement de classification "
                                    "tarifaire de sa règle d'origine spécifique ou à la TVR du "
                                    "tableau ; les alternatives de la règle assorties de leur "
                                    "propre TVR ne sont satisfaites, le cas échéant, que par la "
                                    "TVR du tableau",
        "rule.note.psr_applied": "règle d'origine spécifique appliquée : {psr_reference}, en "
                                 "vigueur depuis le {valid_from}{until} ; source : {source}",
        "rule.note.psr_not_cross_checked": "le texte de cette règle n'a PAS été vérifié sur une "
                                           "copie imprimée des règles d'origine spécifiques : "
                                           "il provient d'une seule transcription de tiers "
                                           "réputée contenir des erreurs{detail}",
        "rule.note.psr_residual": "aucun end_use indiqué : la règle visant « tout autre produit "
                                  "» (pas un équipement d'origine des véhicules que nomment les "
                                  "règles voisines) s'applique",
        "rule.note.psr_doubt": "doute consigné avec la règle : {doubt}",
        "rule.note.psr_chapter_rule": "la {kind} du chapitre {chapter} n'est pas appliquée par "
                                      "le moteur : {text}",
        "rule.note.psr_clause": "clause de la règle non évaluée : {clause}",
        "rule.note.psr_goods": "le document indique que le produit est '{goods}' (psr_goods)",
        "rule.scope": "Portée : {note}.",
        "rvc.result": "{method:W}{under} : base {base} ({method:base}), VMNO {vnm}, TVR {rvc} % "
                      "{verdict:w} {threshold} % (marge {margin} points) ; {room}.",
        "rvc.under": " (seuil de l'{criterion_d_reference}, {reference})",
        "rvc.absorb": "il peut absorber {amount} {currency} de plus de matières non "
                      "originaires avant d'échouer",
        "rvc.needs": "il lui faut {amount} {currency} de moins de matières non originaires "
                     "pour réussir",
        "rvc.contributors": "Principales VMNO selon la méthode du {method:w} : {shown}.",
        "rvc.contributor": "{item} ({hs}) {vnm} = {share} %",
        "rvc.de_minimis": "De minimis de la TVR ({de_minimis_reference}) : toutes les matières "
                          "non originaires font au plus {percent} % de la valeur "
                          "transactionnelle ou du coût total ; la TVR n'est donc pas exigée.",
        "rvc.not_evaluated": "Note : aucune méthode de TVR n'a pu être évaluée.",
        "shift.view": "Matières autoproduites considérées comme les matières qui subissent le "
                      "changement de classification ({reference}), {chosen_by:w} : {taken} ; "
                      "les autres matières autoproduites sont examinées par leurs intrants.",
        "shift.views_fail": "Note : {reference} : considérer les matières autoproduites comme "
                            "les matières qui subissent le changement de classification, en "
                            "tout ou en partie, ne le respecte pas non plus.",
        "shift.met": "Changement de classification {required} : toutes les matières non "
                     "originaires changent de classification comme exigé.",
        "shift.de_minimis": "Changement de classification {required} : {failing} ne changent "
                            "pas, mais leur valeur {value} reste dans la règle de minimis de "
                            "{percent} % ({de_minimis_reference}) ; leur valeur reste dans la "
                            "VMNO.",
        "shift.not_met": "Changement de classification {required} : non respecté par "
                         "{failing} (valeur {value}, au-delà du de minimis ou exclue de "
                         "celui-ci par {exclusions_reference}).",
        "criterion_d.net_cost_only": "Note : {criterion_d_reference} au coût net seulement : "
                                     "la méthode de la valeur transactionnelle n'est admise que "
                                     "si la règle d'origine spécifique fixe une exigence de "
                                     "valeur transactionnelle, ce que {which} ne fait pas "
                                     "({reference}).",
        "criterion_d.applies": "Note : le changement de classification échoue seulement pour "
                               "des pièces classées dans la sous-position du produit, donc "
                               "l'{criterion_d_reference} s'applique avec des seuils de TVR de "
                               "{net_cost} % (coût net) / {transaction_value} % (valeur "
                               "transactionnelle) ({reference}).",
        "criterion_d.falls_short": "Note : le changement de classification échoue seulement "
                                   "pour des pièces classées dans la sous-position du produit ; "
                                   "la TVR de l'{criterion_d_reference} n'est pas atteinte non "
                                   "plus ({reference}).",
        "which.alternative": "son alternative {alternative}",
        "alternative.not_evaluated": "Note : {alternative} de {reference} n'a pas été "
                                     "évaluée : le moteur ne peut appliquer {clauses}.",
        "alternative.outcome": "Note : {summary} : {verdict}{detail}.",
        "alternative.named": "l'alternative {name}",
        "alternative.met_d": "respectée par l'{criterion_d_reference}",
        "alternative.shift_not_met": "changement de classification non respecté par "
                                     "{failing} (valeur {value})",
        "alternative.rvc": "TVR {rvc} % selon le {method:w} {comparison} {threshold} %",
        "alternative.rvc_d": "TVR de l'{criterion_d_reference} {rvc} % selon le {method:w} "
                             "{comparison} {threshold} %",
        "alternative.rvc_exempt": "TVR non exigée (de minimis, {de_minimis_reference})",
        "alternative.qualifies": "Note : le produit est admissible selon {alternative} de "
                                 "{rule_reference} (respecter une alternative suffit, "
                                 "{reference}).",
        "alternative.whichever": "Note : quelle que soit la désignation de marchandises qui "
                                 "correspond au produit ({goods}), l'une de ses alternatives "
                                 "est respectée.",
        "note": "Note : {note}.",
        "intermediate.qualifies": "Matière intermédiaire {item!r} (désignée, "
                                  "{intermediate_reference}) admissible selon {rule} ; elle "
                                  "entre à son coût total {cost} comme originaire.",
        "intermediate.fails": "Matière intermédiaire {item!r} (désignée, "
                              "{intermediate_reference}) non admissible selon {rule} : tout "
                              "son coût total {cost} est non originaire ; sans la désignation "
                              "elle serait retracée.",
        "statement.used": "Les déclarations de cumul des fournisseurs ({reference}) fixent la "
                          "valeur et la VMNO de {count} matière(s) non originaire(s).",
        "statement.vnm_only": "Les déclarations de VMNO seule ({items}) s'appliquent à la "
                              "méthode de la valeur transactionnelle ; au coût net, la valeur "
                              "entière de la matière compte, car une déclaration y exige le "
                              "coût net et la VMNO, ou un montant de valeur régionale "
                              "({reference}).",
        "packing": "{count} matière(s) d'emballage pour l'expédition non prises en compte "
                   "({reference}).",
        "indirect": "{count} matière(s) indirecte(s) considérées comme originaires "
                    "({reference}).",
        "unknown": "{count} matière(s) d'origine inconnue comptées comme non originaires.",
        "requirement": "Exigence du véhicule {label} [{reference}] : {status:w} : {detail}.",
        "detail.core_parts.none": "aucune pièce essentielle de la {table} (moteur, "
                                  "transmission, carrosserie, châssis, essieu, suspension, "
                                  "direction, batterie avancée) n'a été trouvée parmi les "
                                  "matières du véhicule ; l'exigence n'a donc pas été vérifiée",
        "detail.core_parts.all": "les {count} pièce(s) essentielle(s) sont originaires",
        "detail.core_parts.failing": "pièce(s) essentielle(s) non originaire(s) : {failing}",
        "detail.steel_aluminum.none": "le document ne donne pas les achats "
                                      "vehicle.steel_aluminum ; l'exigence de {minimum} % "
                                      "d'acier et d'aluminium n'a donc pas été vérifiée{condition}",
        "detail.steel_aluminum.condition": " ; achats originaires comptés comme : {condition}",
        "detail.steel_aluminum": "acier {steel} % {steel_comparison} {minimum} % ; "
                                 "{aluminum}{condition}",
        "detail.aluminum": "aluminium {aluminum} % {aluminum_comparison} {minimum} %",
        "detail.aluminum.none": "achats d'aluminium non indiqués",
        "detail.labor_value_content.none": "le document ne donne pas "
                                           "vehicle.labor_value_content ; l'exigence de TVT de "
                                           "{minimum} % n'a donc pas été vérifiée",
        "detail.labor_value_content": "TVT {lvc} % (matières et fabrication à salaire élevé "
                                      "{material_and_manufacturing} + crédit de technologie "
                                      "{technology} + crédit d'assemblage {assembly}, crédits "
                                      "plafonnés à {max_technology}/{max_assembly}) "
                                      "{lvc_comparison} {minimum} % ; matières et fabrication à "
                                      "salaire élevé {floor_comparison} {floor} points",
        "conclusion.originating": "Conclusion : {good!r} est ORIGINAIRE, critère {criterion} "
                                  "({words}).",
        "conclusion.not_originating": "Conclusion : {good!r} n'est PAS originaire : "
                                      "{reasons}.",
    },
}


_Parsed = tuple[tuple[str, str | None, str, str | None], ...]
_PARSED: dict[str, _Parsed | None] = {}


def _parsed(template: str) -> _Parsed | None:
    """`template` split into (literal, field name, spec, conversion) once, or None when a
    field is not a plain keyword name with a literal spec (left to `string.Formatter`).
    The templates are this module's constants, so the cache stays small.
    """
    try:
        return _PARSED[template]
    except KeyError:
        pass
    parts: list[tuple[str, str | None, str, str | None]] = []
    plain = True
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if name is not None and (not name.isidentifier() or "{" in (spec or "")):
            plain = False
            break
        parts.append((literal, name, spec or "", conversion))
    found = tuple(parts) if plain else None
    if len(_PARSED) < 4096:
        _PARSED[template] = found
    return found


class _Formatter(string.Formatter):
    """`{x:w}` looks the value up in the language's words, `{x:W}` capitalises it, and
    `{x:base}` gives the RVC base of a method; any other field is the value itself.
    """

    def __init__(self, words: Mapping[str, str]) -> None:
        self.words = words

    def vformat(self, format_string: str, args: Sequence[Any], kwargs: Mapping[str, Any]
                ) -> str:
        """`string.Formatter.vformat`, with each template parsed once per process.

        Every determination renders its reasons (a registration a dozen sentences), and
        the pure-Python formatter parsed each template again each time. Templates whose
        fields are all plain names with literal specs are assembled from the cached
        parse; anything else (positional or dotted fields, nested specs) goes through
        the standard formatter, so the text is the same either way.
        """
        parts = _parsed(format_string)
        if parts is None:
            return super().vformat(format_string, args, kwargs)
        out: list[str] = []
        for literal, name, spec, conversion in parts:
            out.append(literal)
            if name is None:
                continue
            value = kwargs[name]
            if conversion is not None:
                value = self.convert_field(value, conversion)
            out.append(self.format_field(value, spec))
        return "".join(out)

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


def render_note(reason: Reason, language: str = "en") -> str:
    """The words of a note of a rule's selection (code ``rule.note.<kind>``), without the
    "Note:" of its sentence: what a determination's ``rule.notes`` lists.
    """
    values: dict[str, Any] = dict(reason.values)
    values["reference"] = reason.reference
    words = _WORDS[language]
    if reason.code == "rule.note.psr_applied":
        values["until"] = words["until"] + values["valid_to"] if values["valid_to"] else ""
    elif reason.code == "rule.note.psr_not_cross_checked":
        values["detail"] = f" ({values['cross_check']})" if values["cross_check"] else ""
    return _Formatter(words).format(_TEMPLATES[language][reason.code], **values)


def render(reason: Reason, language: str = "en") -> str:
    """The sentence of `reason` in `language` (one of `LANGUAGES`)."""
    templates, words = _TEMPLATES[language], _WORDS[language]
    formatter = _Formatter(words)
    if reason.code.startswith("rule.note."):
        return formatter.format(templates["rule.note"], note=render_note(reason, language))
    values: dict[str, Any] = dict(reason.values)
    values["reference"] = reason.reference
    code = reason.code
    if code == "rule":
        values["needs"] = _needs(values, words, language)
    elif code == "rvc.result":
        values["under"] = (formatter.format(templates["rvc.under"], **values)
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
    elif code == "criterion_d.net_cost_only":
        values["which"] = (formatter.format(templates["which.alternative"], **values)
                           if values["rule"] == "alternative" else words[f"which.{values['rule']}"])
    elif code in ("alternative.not_evaluated", "alternative.qualifies"):
        values["alternative"] = (formatter.format(templates["alternative.named"], **values)
                                 if values["name"] else words["the_rule"])
    elif code == "alternative.outcome":
        _alternative_outcome(values, templates, words, formatter)
    elif code == "requirement":
        values["label"] = words.get(values["name"], values["name"].replace("_", " "))
        if values.get("detail_code"):
            values["detail"] = _detail(values, templates, formatter)
    elif code.startswith("detail."):  # a requirement's finding on its own
        return _detail({**values, "detail_code": code}, templates, formatter)
    elif code == "conclusion.originating":
        values["words"] = (reason.reference or "D" if values["kind"] == "D"
                           else words[f"criterion.{values['kind']}"])
    elif code == "conclusion.not_originating":
        values["reasons"] = "; ".join(_why_not(values, words))
    return formatter.format(templates[code], **values)


def _alternative_outcome(values: dict[str, Any], templates: Mapping[str, str],
                         words: Mapping[str, str], formatter: _Formatter) -> None:
    """The words of one alternative's outcome: its summary (the rule's text, as data), the
    verdict, and each finding behind it (shift, RVC per method, RVC de minimis).
    """
    prefix = words["alternative_prefix"] if values["labelled"] == "true" else ""
    values["summary"] = prefix + values["summary"]
    verdict = values["verdict"]
    values["verdict"] = (formatter.format(templates["alternative.met_d"], **values)
                         if verdict == "met_d" else words[f"alt.{verdict}"])
    parts = []
    for kind, *fields in values["details"]:
        if kind in ("shift_met", "shift_met_de_minimis"):
            parts.append(words[f"alt.{kind}"])
        elif kind == "shift_not_met":
            failing, value = fields
            parts.append(formatter.format(templates["alternative.shift_not_met"],
                                          failing=failing, value=value))
        elif kind in ("rvc", "rvc_d"):
            rvc, method, comparison, threshold = fields
            parts.append(formatter.format(templates[f"alternative.{kind}"], rvc=rvc,
                                          method=method, comparison=comparison,
                                          threshold=threshold,
                                          criterion_d_reference=values["criterion_d_reference"]))
        else:  # rvc_exempt
            parts.append(formatter.format(templates["alternative.rvc_exempt"], **values))
    values["detail"] = f" ({words['separator'].join(parts)})" if parts else ""


def _detail(values: dict[str, Any], templates: Mapping[str, str], formatter: _Formatter
            ) -> str:
    """A vehicle requirement's finding (core parts found, purchases, LVC points)."""
    code = values["detail_code"]
    if code in ("detail.steel_aluminum", "detail.steel_aluminum.none"):
        # A scenario may say what counts as originating steel (e.g. melted and poured).
        condition = values.get("condition")
        values = {**values, "condition": formatter.format(
            templates["detail.steel_aluminum.condition"], condition=condition)
            if condition else ""}
    if code == "detail.steel_aluminum":
        aluminum = "detail.aluminum" if values.get("aluminum") else "detail.aluminum.none"
        values = {**values, "aluminum": formatter.format(templates[aluminum], **values)}
    return formatter.format(templates[code], **values)


def _why_not(values: Mapping[str, Any], words: Mapping[str, str]) -> Iterable[str]:
    if values["rule_met"] == "false":
        yield words["rule_not_met"]
    for name, status in values["requirements"]:
        yield f"{words.get(name, name.replace('_', ' '))} {words['req.' + status]}"


def render_all(reasons: Sequence[Reason], language: str = "en") -> list[str]:
    """Every reason of a determination rendered in `language`."""
    return [render(reason, language) for reason in reasons]

