"""The arms market: importers with demand choose among the suppliers willing to sell.

Each month (`embargo_upkeep`, then `run_market` after the states' own activities):

1. Embargoes bite: an importer loses capability upkeep in proportion to the share of its
   arms stock from suppliers that now embargo it (spare parts, maintenance, training).
2. Demand accrues in each importer's order book: its budget x (base + the rivalry around
   it) x the room left in its import stock x (1 - its own arms industry).
3. Suppliers decide whether they would sell to each buyer (politics, embargo, the
   escalation a sale provokes); each supplier's capacity (its export bank, fed by its
   arms industry) caps what it can deliver.
4. Each buyer with an order of at least `arms_order_size` places it, with probability
   `market_followon`, as a follow-on order for the platforms it already holds (spare
   parts, upgrades, munitions, more of a type it trained on): the supplier is drawn in
   proportion to the buyer's arms stock from each willing supplier (lock-in through
   existing stock). Otherwise it is a new order: the buyer ranks the willing suppliers by
   its own utility (trust, political affinity, lock-in through existing dependency,
   interoperability, what the supplier's industry offers, less its wish to diversify),
   perturbed by its own Gumbel noise from the `market` stream (a softmax choice at
   temperature `market_temperature`), and buys from the best one with capacity left.
   Buyers are served in a random order (also from the `market` stream). A follow-on
   order whose incumbents are all unwilling or sold out becomes a new order.

The market stream draws a fixed block every month (one uniform per state for the order,
one uniform per state for follow-on or new, one Exp(1) draw E per state and supplier, a
row per state whether it buys or not, whose -log E is the buyer's Gumbel noise: the same
noise draws a follow-on supplier in proportion to stock, as ln D - log E), so a buyer's noise is the same in every variant of a
comparison whatever other buyers do. Exporter shares and customer counts are outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.activities import TRANSPARENCY
from sim.core.relations import IMPORT_STOCK

if TYPE_CHECKING:  # pragma: no cover
    from sim.core.model import DiplomacyModel


def rival_load(m: DiplomacyModel) -> np.ndarray:
    """Hostility-weighted capability around each state, as a share of the largest."""
    rel_cap = m.capability / max(float(m.capability.max()), 1e-12)
    load = m.hostility @ rel_cap
    return load / max(float(load.max()), 1e-12)


def arms_demand(m: DiplomacyModel, load: np.ndarray) -> np.ndarray:
    """Volume each state wants to import this month:
    `arms_demand_rate x budget x (arms_demand_base + rival load) x IMPORT_STOCK /
    (IMPORT_STOCK + import stock) x (1 - arms_industry)`; the rival load is the
    hostility-weighted capability around the state (`rival_load`)."""
    p = m.p
    stock = m.stock.sum(axis=1) + m.other_stock
    saturation = IMPORT_STOCK / (IMPORT_STOCK + stock)
    return (
        p.arms_demand_rate
        * m.budget
        * (p.arms_demand_base + load)
        * saturation
        * (1.0 - m.arms_industry)
    )


def supplier_willingness(
    m: DiplomacyModel, buyers: np.ndarray, sellers: np.ndarray, load: np.ndarray
) -> np.ndarray:
    """(buyers, sellers) utility a seller expects from selling to a buyer:
    `w_econ market_revenue + w_aff (aff_pos - H) + w_sec ST c_buyer
     - w_esc arms_provocation load_buyer (1 - ST)(1 - transparency_seller)`;
    -inf under the seller's embargo, at the red line of hostility (`consent_max_hostility`)
    with the seller, or with allies holding at least `market_ally_solidarity` of the
    capability of the seller's allies when the buyer is not an ally itself (a seller does
    not arm its alliance's adversary: Turkey does not sell to Russia; but the USA sells to
    Saudi Arabia, a rival of its ally Turkey, and arms both Greece and Turkey), or to
    itself. A seller sells only where this is positive."""
    p = m.p
    rel_cap = m.capability / max(float(m.capability.max()), 1e-12)
    idx = np.ix_(sellers, buyers)
    h = m.hostility[idx]
    st = m.shared_threat[idx]
    u = p.weight_economic * p.market_revenue + p.weight_affinity * (m.affinity_pos[idx] - h)
    u += p.weight_security * st * rel_cap[buyers][None, :]
    provocation = load[buyers][None, :] * (1.0 - st)
    provocation *= (1.0 - m.levers[sellers, TRANSPARENCY])[:, None]
    u -= p.weight_escalation * p.arms_provocation * provocation
    u[m.embargo[idx] | (h >= p.consent_max_hostility) | m.ally_enemy[idx]] = -np.inf
    u[sellers[:, None] == buyers[None, :]] = -np.inf
    return u.T


def buyer_utility(m: DiplomacyModel, buyers: np.ndarray, sellers: np.ndarray) -> np.ndarray:
    """(buyers, sellers) utility a buyer expects from buying from a seller:
    `market_trust T + market_affinity (aff_pos - H) + market_lockin D + market_interop I
     + market_quality ln(arms_industry_seller / max) - market_diversify autonomy_buyer D^2`
    (dependency D is the buyer's share of its arms stock from the seller: spare parts and
    training lock it in; autonomy-minded buyers shun concentration, more the larger the
    share, to spread their suppliers). Access and basing rights the buyer grants the
    seller deepen the lock-in as if they were `access_lockin x access[seller, buyer]` more
    of its stock (`sim.core.access`: forces, facilities and training in place), without
    adding to the concentration an autonomy-minded buyer shuns (that is its arms stock):
    + market_lockin x access_lockin x access."""
    p = m.p
    idx = np.ix_(buyers, sellers)
    dep = m.dependency[idx]
    u = p.market_trust * m.trust[idx]
    u += p.market_affinity * (m.affinity_pos[idx] - m.hostility[idx])
    u += (p.market_lockin - p.market_diversify * m.autonomy[buyers][:, None] * dep) * dep
    hosted = m.access[np.ix_(sellers, buyers)].T
    if hosted.any():
        u += (p.market_lockin * p.access_lockin) * hosted
    u += p.market_interop * m.interoperability[idx]
    industry = m.arms_industry[sellers] / max(float(m.arms_industry.max()), 1e-12)
    u += p.market_quality * np.log(np.maximum(industry, 1e-12))[None, :]
    return u


def embargo_upkeep(m: DiplomacyModel) -> None:
    """Embargoed importers lose capability upkeep: capability x (1 - embargo_upkeep x the
    share of their arms stock from suppliers that embargo them)."""
    supplier, target = np.divmod(np.flatnonzero(m.embargo), m.n)  # the few embargoed pairs
    if not supplier.size:
        return
    cut = np.bincount(target, weights=m.dependency[target, supplier], minlength=m.n)
    m.capability *= 1.0 - m.p.embargo_upkeep * cut


def run_market(m: DiplomacyModel) -> None:
    """One month of the arms market (see the module docstring)."""
    p = m.p
    n = m.n
    sellers = np.flatnonzero(m.arms_industry > 0.0)
    draws = m.streams.market
    order_draw = draws.random(n)  # fixed block: serving order ...
    followon_draw = draws.random(n)  # ... follow-on or new order ...
    taste = draws.standard_exponential((n, len(sellers)))  # ... each buyer's noise per supplier
    load = rival_load(m)
    demand = arms_demand(m, load)
    m.orders += demand
    np.minimum(m.orders, p.bank_cap * np.maximum(demand, p.arms_order_size), out=m.orders)
    supply = m.arms_industry * p.export_capacity
    m.export_bank += supply
    np.minimum(m.export_bank, p.bank_cap * np.maximum(supply, p.arms_order_size), out=m.export_bank)
    buyers = np.flatnonzero(m.orders >= p.arms_order_size)
    if not buyers.size or not sellers.size:
        return
    buyers = buyers[np.argsort(order_draw[buyers], kind="stable")]
    willing = supplier_willingness(m, buyers, sellers, load) > 0.0
    key = buyer_utility(m, buyers, sellers) / p.market_temperature
    key -= np.log(taste[buyers])  # Gumbel noise -log E, E ~ Exp(1): a softmax choice
    key[~willing] = -np.inf
    # follow-on orders: a supplier drawn in proportion to the buyer's stock from it
    followon = np.flatnonzero(followon_draw[buyers] < p.market_followon)
    with np.errstate(divide="ignore"):
        follow_key = np.log(m.stock[np.ix_(buyers[followon], sellers)])
    follow_key -= np.log(taste[buyers[followon]])
    follow_key[~willing[followon]] = -np.inf
    follow_row = dict(zip(followon.tolist(), follow_key, strict=True))
    capacity, orders = m.export_bank, m.orders
    for r, j in enumerate(buyers.tolist()):
        follow = r in follow_row
        row = follow_row[r] if follow else key[r]
        while True:  # its best willing supplier with capacity left (usually the first)
            c = int(row.argmax())
            if row[c] == -np.inf:
                if not follow:
                    break  # no willing supplier left
                follow, row = False, key[r]  # no incumbent can serve it: a new order
                continue
            s = int(sellers[c])
            volume = min(float(orders[j]), float(capacity[s]))
            if volume < p.arms_order_size:
                row[c] = -np.inf  # this supplier is sold out: the next best
                continue
            if m.offer_arms(s, j, volume):
                capacity[s] -= volume
                orders[j] -= volume
            break
