"""The bill of materials of `tmec-bom/1`: items, lines and the graph they form.

A `BillOfMaterials` is the validated, immutable form of one document (see
`docs/bom-format.md`): the good to qualify (the root), the item master and the BOM lines.
Its `graph` is a `networkx.DiGraph` (parent -> child, ``qty`` on the edge, the `Item` on
the node) for users and analyses. The engine itself computes over `BomIndex`, a compact
integer form of the same graph in topological order, because building a networkx graph
of a million nodes costs tens of seconds while the roll-up over arrays takes about one.

This module does not read files and does not decide origin; see `origin_rules.reader`
and `origin_rules.engine`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from origin_rules.values import hs_digits

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "BillOfMaterials",
    "BomIndex",
    "Costs",
    "Deductions",
    "EndUse",
    "Evidence",
    "ExcludedCosts",
    "Item",
    "ItemKind",
    "LaborValueContent",
    "Line",
    "Method",
    "Origin",
    "Producer",
    "ProductRule",
    "RvcRequirement",
    "ShiftView",
    "Statement",
    "StatementType",
    "SteelAluminumPurchases",
    "TariffShift",
    "VehicleData",
    "topological_order",
]

ZERO = Decimal(0)


class ItemKind(StrEnum):
    """`made` by this producer (costs known) or `bought` (valued at what was paid)."""

    MADE = "made"
    BOUGHT = "bought"


class Origin(StrEnum):
    """Origin of a bought material; `unknown` counts as non-originating (Art. 4.5)."""

    ORIGINATING = "originating"
    NON_ORIGINATING = "non_originating"
    UNKNOWN = "unknown"


class EndUse(StrEnum):
    """What an automotive part is original equipment for (selects Tables A.1-F)."""

    PASSENGER_VEHICLE = "passenger_vehicle"
    LIGHT_TRUCK = "light_truck"
    HEAVY_TRUCK = "heavy_truck"
    OTHER_VEHICLE = "other_vehicle"
    AFTERMARKET = "aftermarket"


class Method(StrEnum):
    """The two RVC methods of Art. 4.5."""

    NET_COST = "net_cost"
    TRANSACTION_VALUE = "transaction_value"


class StatementType(StrEnum):
    """The three kinds of supplier accumulation statement (Art. 4.11, SOR/2020-155 s.9)."""

    NET_COST_AND_VNM = "net_cost_and_vnm"
    REGIONAL_VALUE = "regional_value"
    VNM = "vnm"


class ShiftView(StrEnum):
    """The producer's choice of SOR/2020-155 s.3(8) for a self-produced material.

    `material`: the self-produced material is the material that must undergo the tariff
    shift; `inputs`: the non-originating materials used to produce it are (the view the
    engine takes of a traced material when no choice helps). An item without a choice
    lets the engine take whichever view qualifies the good.
    """

    MATERIAL = "material"
    INPUTS = "inputs"


class TariffShift(StrEnum):
    """Change of chapter (2 digits), heading (4) or subheading (6)."""

    CC = "CC"
    CTH = "CTH"
    CTSH = "CTSH"

    @property
    def digits(self) -> int:
        """How many leading HS digits must differ between material and good."""
        return {"CC": 2, "CTH": 4, "CTSH": 6}[self.value]

    @property
    def label(self) -> str:
        """Words a broker uses for the shift."""
        return {
            "CC": "change of chapter",
            "CTH": "change of tariff heading",
            "CTSH": "change of tariff subheading",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Producer:
    """The producer of the good (informational; Annex 5-A data element 4)."""

    name: str
    country: str
    tax_id: str | None = None


class Evidence(NamedTuple):
    """What backs an `originating` claim: a supplier token digest or a certificate."""

    token: str | None = None
    certificate: str | None = None


class Deductions(NamedTuple):
    """Art. 4.7 amounts included in a non-originating material's value that may be deducted."""

    freight: Decimal = ZERO
    duties: Decimal = ZERO
    brokerage: Decimal = ZERO
    waste: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Sum of the four deductible amounts."""
        return self.freight + self.duties + self.brokerage + self.waste


@dataclass(frozen=True, slots=True)
class Statement:
    """A supplier's accumulation statement (Art. 4.11; SOR/2020-155 s.9(2)-(3)).

    * `net_cost_and_vnm`: the supplier's net cost replaces `unit_value` and its VNM is this
      material's VNM (s.9(2)(a));
    * `regional_value`: VNM of this material = `unit_value - amount` (s.9(2)(b));
    * `vnm`: VNM of this material = `vnm`, under the transaction value method (s.9(3)).
    """

    type: StatementType
    net_cost: Decimal | None = None
    vnm: Decimal | None = None
    amount: Decimal | None = None


class ExcludedCosts(NamedTuple):
    """Costs included in total cost that net cost excludes (SOR/2020-155 s.1(1) "net cost")."""

    sales_promotion: Decimal = ZERO
    royalties: Decimal = ZERO
    shipping_packing: Decimal = ZERO
    non_allowable_interest: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Sum of the excluded costs."""
        return self.sales_promotion + self.royalties + self.shipping_packing + (
            self.non_allowable_interest
        )


class Costs(NamedTuple):
    """Per-unit costs of a made item other than its materials."""

    other_product: Decimal = ZERO
    period: Decimal = ZERO
    other: Decimal = ZERO
    excluded: ExcludedCosts = ExcludedCosts()

    @property
    def own(self) -> Decimal:
        """Product, period and other costs (total cost minus materials)."""
        return self.other_product + self.period + self.other


@dataclass(frozen=True, slots=True)
class RvcRequirement:
    """A minimum RVC percentage under one method."""

    method: Method
    min: Decimal


@dataclass(frozen=True, slots=True)
class ProductRule:
    """An explicit product-specific rule given in the document; it overrides the tables.

    `combine` = ``all``: the tariff shift *and* one of the RVC requirements;
    ``any``: the tariff shift *or* one of the RVC requirements (alternative rules, s.3(6)).
    """

    tariff_shift: TariffShift | None = None
    except_: tuple[str, ...] = ()
    rvc: tuple[RvcRequirement, ...] = ()
    combine: str = "all"


class Item(NamedTuple):
    """One entry of the item master; `made` fields are None on `bought` items and vice versa.

    A `NamedTuple` rather than a frozen dataclass: just as immutable, and about four times
    cheaper to build, which counts when a BOM has a million items.
    """

    id: str
    hs: str
    description: str
    kind: ItemKind
    # bought
    unit_value: Decimal | None = None
    origin: Origin | None = None
    country: str | None = None
    evidence: Evidence | None = None
    deductions: Deductions | None = None
    statement: Statement | None = None
    indirect: bool = False
    packing: bool = False
    retail_packaging: bool = False
    # made
    costs: Costs | None = None
    transaction_value: Decimal | None = None
    international_shipping: Decimal | None = None
    intermediate: bool = False
    rule: ProductRule | None = None
    tariff_shift_as: ShiftView | None = None  # s.3(8) choice, an extension

    @property
    def subheading(self) -> str:
        """The six-digit HS subheading the rules use (``"870830"``)."""
        return hs_digits(self.hs)[:6]


class Line(NamedTuple):
    """A BOM edge: `qty` units of `child` per unit of `parent`; `position` in the document."""

    parent: str
    child: str
    qty: Decimal
    position: int


@dataclass(frozen=True, slots=True)
class LaborValueContent:
    """Labor value content points claimed for a vehicle (SOR/2020-155 s.18), an extension.

    `high_wage_material_and_manufacturing` is the HWMME share in percentage points;
    the technology and assembly credits are capped by the rule set when evaluated.
    """

    high_wage_material_and_manufacturing: Decimal
    high_wage_technology: Decimal = ZERO
    high_wage_assembly: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class SteelAluminumPurchases:
    """Vehicle producer's Table S purchases (SOR/2020-155 s.17), an extension; money values."""

    steel_originating: Decimal
    steel_total: Decimal
    aluminum_originating: Decimal | None = None
    aluminum_total: Decimal | None = None


@dataclass(frozen=True, slots=True)
class VehicleData:
    """Optional `vehicle` block: facts a vehicle's origin needs beyond the BOM."""

    category: str | None = None
    labor_value_content: LaborValueContent | None = None
    steel_aluminum: SteelAluminumPurchases | None = None


@dataclass(frozen=True)
class BillOfMaterials:
    """A validated `tmec-bom/1` document.

    Construct it with `origin_rules.reader`; the constructor itself does not validate.
    `items` keeps document order; `lines` keeps document order with their positions.
    """

    good: str
    as_of: date
    currency: str
    items: Mapping[str, Item]
    lines: Sequence[Line]
    end_use: EndUse | None = None
    method: Method | None = None
    producer: Producer | None = None
    automotive_table: str | None = None
    vehicle: VehicleData | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Item:
        """The good whose origin is determined."""
        return self.items[self.good]

    @cached_property
    def index(self) -> BomIndex:
        """The compact integer form the engine computes over (built once, on demand)."""
        return BomIndex.build(self)

    @cached_property
    def graph(self) -> nx.DiGraph[str]:
        """The BOM as a networkx DAG: nodes are item ids (attribute ``item``), edges parent
        -> child with the total ``qty`` of all lines between them.
        """
        import networkx as nx

        graph: nx.DiGraph[str] = nx.DiGraph(good=self.good, as_of=self.as_of,
                                            currency=self.currency)
        graph.add_nodes_from((item_id, {"item": item}) for item_id, item in self.items.items())
        for line in self.lines:
            if graph.has_edge(line.parent, line.child):
                graph.edges[line.parent, line.child]["qty"] += line.qty
            else:
                graph.add_edge(line.parent, line.child, qty=line.qty)
        return graph


@dataclass(frozen=True, slots=True)
class BomIndex:
    """Items as integers 0..n-1 (document order) with children lists and a topological order.

    `order` lists every item parents-before-children (Kahn's algorithm); it is complete only
    for an acyclic document, which `reader` guarantees before a `BillOfMaterials` escapes.
    """

    ids: tuple[str, ...]
    position: Mapping[str, int]
    children: Sequence[Sequence[tuple[int, Decimal]]]
    order: Sequence[int]

    @classmethod
    def build(cls, bom: BillOfMaterials) -> BomIndex:
        """Index `bom`; lines that repeat a parent/child pair are summed."""
        ids = tuple(bom.items)
        position = {item_id: i for i, item_id in enumerate(ids)}
        merged: list[dict[int, Decimal]] = [{} for _ in ids]
        for line in bom.lines:
            kids = merged[position[line.parent]]
            child = position[line.child]
            kids[child] = kids.get(child, ZERO) + line.qty
        children = [list(kids.items()) for kids in merged]
        return cls(ids, position, children, topological_order(children))


def topological_order(children: Sequence[Sequence[tuple[int, Decimal]]],
                      indegree: list[int] | None = None,
                      sources: Sequence[int] | None = None) -> list[int]:
    """Kahn's algorithm, parents before children; fewer than n nodes means a cycle.

    `indegree` (the number of parents of each node, consumed) and `sources` (the nodes
    without a parent) may be given when the caller counted them already.

    When every line goes from an item to one listed after it — the usual order of an
    indented BOM, assembly first — the document order is already topological and no cycle
    is possible; one pass over the edges shows it, and is much cheaper than Kahn's (the
    passes that follow the order then also walk memory in the order items were read).
    Likewise for a document listed components first, in reverse.
    """
    if all(child > node for node, kids in enumerate(children) for child, _ in kids):
        return list(range(len(children)))
    if all(child < node for node, kids in enumerate(children) for child, _ in kids):
        return list(range(len(children) - 1, -1, -1))
    if indegree is None:
        indegree = [0] * len(children)
        for kids in children:
            for child, _ in kids:
                indegree[child] += 1
    ready = ([node for node, degree in enumerate(indegree) if degree == 0] if sources is None
             else list(sources))
    order: list[int] = []
    append = order.append
    pop = ready.pop
    push = ready.append
    while ready:
        node = pop()
        append(node)
        for child, _ in children[node]:
            left = indegree[child] - 1
            indegree[child] = left
            if not left:
                push(child)
    return order
