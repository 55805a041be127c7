"""The origin engine: from a bill of materials to a USMCA / T-MEC origin determination.

`determine_origin(bom)` applies Chapter 4 and the automotive appendix as summarised in
`reference/usmca-rules.md`. One module per legal concern, named so that the article leads
to the code:

==============================  ==========================================================
module                          what it decides
==============================  ==========================================================
`engine.valuation`              value of materials (Art. 4.6-4.7), indirect materials
                                (Art. 4.9), packaging and packing (Art. 4.15-4.16)
`engine.tariff_shift`           the change in tariff classification (Art. 4.2(b)), the
                                producer's s.3(8) choice, de minimis (Art. 4.12, Annex
                                4-A) and which goods Art. 4.2(d) can reach
`engine.rvc`                    regional value content, transaction value and net cost
                                (Art. 4.5; SOR/2020-155 s.7), the methods available
`engine.intermediate`           self-produced materials: tracing and intermediate
                                materials (Art. 4.8; s.7(5), s.8(6)-(8)), accumulation
                                statements (Art. 4.11; s.9)
`engine.automotive`             Appendix to Annex 4-B: core parts, steel and aluminum,
                                labor value content (SOR/2020-155 s.13-18)
`engine.criteria`               the originating criteria that combine them (Art. 4.2
                                (b)-(d)) for the good, an intermediate, a core part
`engine.core`                   one determination: the arrays of the bottom-up pass and
                                the top-down pass (`_Reach`) the others read
`engine.us_content`             US and non-US content beside the RVC (a sourcing figure,
                                set against Section 232's non-US content, not a rule)
`engine.explanation`            the determination's explanation, in English
==============================  ==========================================================

The product-specific rules of Annex 4-B come as data (`origin_rules.product_rules`,
`product_rule_table`); `engine.criteria` evaluates their alternatives and
`origin_rules.product_rule_engine` decides what the outcomes amount to.

What it does not do (each stated in the determination when it matters): the product-
specific rules of Annex 4-B outside the chapters the rule data covers and the clauses
the engine cannot evaluate (README, "Product-specific rules"), the Table A.2 column-2 and
super-core VNM options, averaging, fungible-goods inventory methods, and wholly obtained
goods (criterion A).

The computation runs over `BomIndex` in one bottom-up pass (reverse topological order)
and, for the good, one top-down pass that finds which materials reach it and in what
quantity; both are linear in the size of the BOM. The engine has no process-wide side
effects: a caller holding a very large BOM may pause the cyclic garbage collector around
it (the CLI does), the library does not.
"""

from __future__ import annotations

from origin_rules.engine.core import determine_origin

__all__ = ["determine_origin"]
