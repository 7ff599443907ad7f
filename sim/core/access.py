"""Access and basing: a provider's access agreements and basing rights in a host.

`access[k, h]` in [0, 1] is how far provider k may use facilities in host h (1: a main
operating base, as the USA's Al Udeid in Qatar or Russia's Hmeimim in Syria; about 0.5:
an access agreement with rotational forces). It is reviewed every `access_interval`
months (`review_access`, with the monthly rates compounded over the interval):

- **built** by sustained cooperation: where the pair has a formal agreement (bilateral or
  a common alliance), the host trusts the provider at least `access_trust`, their
  interoperability is at least `access_interop`, the provider's capability is at
  least `access_power` times the host's (a provider projecting power, not a peer), and
  the host relies on the provider for its arms (dependency at least `access_dependency`:
  a host grants bases to its security patron, not to every trusted ally), access gains
  `access_rate` of what it lacks per month;
- **kept** while the agreement holds, the host's trust in the provider stays at least
  `access_lapse_trust` and the pair is below the red line of hostility
  (`consent_max_hostility`); between kept and built it stays as it is;
- **lapses** when the relationship goes (no agreement, the host's trust below
  `access_lapse_trust`, or hostility at the red line): it loses `access_decay` per month,
  and is gone below `ACCESS_FLOOR`.

Access extends the provider's reach: its effective proximity to a state x is the larger
of its own proximity and the best `access[k, h] x proximity[h, x]` over its hosts h (forces
based in h are as near to x as h is). Reach `R_kx = P*_kx + (1 - P*_kx) x reach_global x
c_k` (c: capability as a share of the largest) then discounts exercises (their security
gain x (1 - exercise_reach (1 - R))) and deterrence backing (`sim.core.crises`); a host's
access granted to a supplier adds `access_lockin x access` to its lock-in with that
supplier in the arms market (`sim.core.market`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sim.core.model import DiplomacyModel

ACCESS_FLOOR = 0.01  # access below this has lapsed (set to 0)
ACCESS_HELD = 0.5  # access counted as held in the world table's `access_pairs`


def effective_proximity(m: DiplomacyModel) -> np.ndarray:
    """P*[k, x] = max(proximity[k, x], max_h access[k, h] x proximity[h, x]), with a
    host's proximity to itself 1 (a copy
    only where some provider has access; otherwise the proximity matrix itself)."""
    k, h = np.divmod(np.flatnonzero(m.access > 0.0), m.n)  # provider-major order
    if not k.size:
        return m.proximity
    held = m.access[k, h]
    via = held[:, None] * m.proximity[h]
    via[np.arange(len(h)), h] = held  # forces in h are at h itself
    first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])  # each provider's first pair
    providers = k[first]
    out = m.proximity.copy()
    out[providers] = np.maximum(out[providers], np.maximum.reduceat(via, first, axis=0))
    out[providers, providers] = 0.0
    return out


def update_reach(m: DiplomacyModel) -> None:
    """Recompute `m.reach` (R, above) from access, proximity and capabilities."""
    p = m.p
    near = effective_proximity(m)
    global_reach = m.capability * (p.reach_global / max(float(m.capability.max()), 1e-12))
    reach = np.subtract(1.0, near, out=m.reach)
    reach *= global_reach[:, None]
    reach += near
    np.multiply(reach, p.exercise_reach, out=m.exercise_reach)  # 1 - e (1 - R)
    m.exercise_reach += 1.0 - p.exercise_reach
    m.exercise_gain_cache = None


def exercise_gain(m: DiplomacyModel) -> np.ndarray:
    """(shared threat + exercise_security_base) x the exercise reach factor, the part of an
    exercise's security gain that changes only with shared threats (at realignment) and
    reach (at access reviews): kept until either, or the parameters, change."""
    cached = m.exercise_gain_cache
    if cached is None or cached[0] is not m.p:
        gain = m.shared_threat + m.p.exercise_security_base
        gain *= m.exercise_reach
        cached = m.exercise_gain_cache = (m.p, gain)
    return cached[1]


def review_access(m: DiplomacyModel) -> None:
    """Every `access_interval` months: access is built, kept or lapses (module docstring),
    then reach is recomputed. Only pairs with access, or with an agreement and a provider
    strong enough to build it, are examined."""
    p = m.p
    interval = p.access_interval
    if m.steps % interval:
        return
    access = m.access
    agreed = m.bilateral | (m.alliance_count > 0)
    pairs = np.flatnonzero(agreed)  # agreements: where access can be built ...
    k, h = np.divmod(pairs, m.n)
    examined = access > 0.0  # ... and pairs that hold access
    able = (m.capability[k] >= p.access_power * m.capability[h]) & (
        m.dependency[h, k] >= p.access_dependency
    )
    examined.flat[pairs[able]] = True
    k, h = np.divmod(np.flatnonzero(examined), m.n)
    if k.size:
        host_trust = m.trust[h, k]
        kept = agreed[k, h] & (host_trust >= p.access_lapse_trust)
        kept &= m.hostility[k, h] < p.consent_max_hostility
        build = kept & (host_trust >= p.access_trust)
        build &= m.interoperability[k, h] >= p.access_interop
        build &= m.capability[k] >= p.access_power * m.capability[h]
        build &= m.dependency[h, k] >= p.access_dependency
        a = access[k, h]
        a[build] += (1.0 - (1.0 - p.access_rate) ** interval) * (1.0 - a[build])
        a[~kept] *= (1.0 - p.access_decay) ** interval
        a[a < ACCESS_FLOOR] = 0.0
        access[k, h] = a
    update_reach(m)
