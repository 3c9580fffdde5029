"""The jury's automatic assignment: which jurors review which entries of a round, solved as a min-cost flow.

Pure: it imports no other app module and knows no database. The service layer turns rows into `Entry`,
`Juror`, pairs and bids, and turns the `Solution` back into rows. A pair is always `(juror_id, entry_id)`,
in `conflicts`, `kept`, `bids` and the answer alike.

Rules:
- Every entry gets `reviews_per_entry` distinct jurors, none of them conflicted with it.
- Kept pairs (reviews already started, manual assignments) stay, and count toward the entry's reviews and the
  juror's load. A kept pair that is also a conflict is dropped, and its place refilled.
- Loads (entries per juror, kept pairs included) differ by at most one, and new pairs never take a juror past
  `max_load`. The target is a water level: the smallest level L such that filling every juror up to L (never
  past `max_load`) places every review still needed; everyone is filled to L - 1 before anyone reaches L.
  Without kept loads above the level this is the floor and ceiling of the total demand over the jurors; a
  juror whose kept load already reaches L gets no new pair. Only when conflicts leave no other way to place a
  review does a juror go past L (then loads may differ by more than one).
- Preferences, by the cost of a pair, cheapest first: eager with a matching theme (0), eager (1), a matching
  theme (2), willing or no bid (3), unwilling (more than any combination of the others, so an unwilling
  juror is chosen only when nothing else fits).
- Priorities, in order: place as many reviews as possible; balance the loads; avoid unwilling jurors; prefer
  eager bids and matching themes. Each level's costs outweigh everything below it.
- What cannot be placed is reported per entry, with the first reason that holds: `too_few_jurors` (the round
  has fewer jurors than reviews asked), `conflicts` (enough jurors, but too few not conflicted with this
  entry), `max_load` (enough jurors free of conflicts, but all those not on this entry are at `max_load`:
  the flow is maximal, so a free one would have taken it). Which entries go short when several compete for
  the last places is left to the costs.
- Deterministic: entries and jurors are ordered by id before the network is built, and the solver has no
  randomness, so the same round gives the same answer whatever the order of the input.

The network: source → entry (capacity: the reviews it still needs) → juror (capacity 1, the pair's cost; no
arc for a conflicted or kept pair) → sink through up to three arcs per juror, whose costs make the loads
balanced: up to L - 1 at a large negative cost, the unit up to L at cost 0, and past L (up to `max_load`) at
a large positive cost.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

Pair = tuple[int, int]
BoolMatrix = NDArray[np.bool_]
IntArray = NDArray[np.int64]


class Bid(StrEnum):
    """A juror's wish about one entry; no bid at all is neutral."""

    eager = "eager"
    willing = "willing"
    unwilling = "unwilling"


class Shortfall(StrEnum):
    """Why an entry did not get all its reviews (see the module's rules)."""

    too_few_jurors = "too_few_jurors"
    conflicts = "conflicts"
    max_load = "max_load"


@dataclass(frozen=True)
class Entry:
    id: int
    themes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Juror:
    id: int
    themes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Unfilled:
    entry_id: int
    missing: int
    reason: Shortfall


@dataclass(frozen=True)
class Solution:
    pairs: frozenset[Pair]  # (juror_id, entry_id), kept pairs included
    new_pairs: frozenset[Pair]  # the pairs to create: `pairs` without the kept ones
    loads: dict[int, int]  # juror id → entries assigned, kept included; every juror of the round
    unfilled: tuple[Unfilled, ...]  # by entry id

    @property
    def min_load(self) -> int:
        return min(self.loads.values(), default=0)

    @property
    def max_load(self) -> int:
        return max(self.loads.values(), default=0)


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


_T = TypeVar("_T", bound=_Identified)
NO_BIDS: Mapping[Pair, Bid] = MappingProxyType({})
EAGER_COST = 1
NEUTRAL_COST = 3  # willing or no bid
THEME_BONUS = 1  # off the cost of an eager, willing or neutral pair whose entry and juror share a theme


def assign(
    entries: Iterable[Entry],
    jurors: Iterable[Juror],
    *,
    reviews_per_entry: int,
    max_load: int | None = None,
    conflicts: Collection[Pair] = (),
    kept: Collection[Pair] = (),
    bids: Mapping[Pair, Bid] = NO_BIDS,
) -> Solution:
    """The round's assignment (see the module's rules). Conflicts and bids about entries or jurors outside the
    round are ignored; a kept pair outside the round is a caller's mistake (ValueError)."""
    entry_list = _by_id(entries, "entry")
    juror_list = _by_id(jurors, "juror")
    if reviews_per_entry < 1:
        raise ValueError("reviews_per_entry must be at least 1")
    if max_load is not None and max_load < 0:
        raise ValueError("max_load must not be negative")
    entry_index = {entry.id: i for i, entry in enumerate(entry_list)}
    juror_index = {juror.id: j for j, juror in enumerate(juror_list)}
    shape = (len(entry_list), len(juror_list))

    conflicted = _pair_mask(conflicts, juror_index, entry_index, shape, strict=False)
    kept_mask = _pair_mask(kept, juror_index, entry_index, shape, strict=True) & ~conflicted
    needed = np.maximum(reviews_per_entry - kept_mask.sum(axis=1), 0)
    costs = _pair_costs(entry_list, juror_list, bids, entry_index, juror_index)
    new_mask = _solve(needed, ~conflicted & ~kept_mask, costs, kept_mask.sum(axis=0), max_load)

    assigned = kept_mask | new_mask
    return Solution(
        pairs=_pairs(assigned, entry_list, juror_list),
        new_pairs=_pairs(new_mask, entry_list, juror_list),
        loads={juror.id: int(load) for juror, load in zip(juror_list, assigned.sum(axis=0), strict=True)},
        unfilled=_unfilled(
            entry_list, assigned.sum(axis=1), conflicted.sum(axis=1), len(juror_list), reviews_per_entry
        ),
    )


def _by_id(items: Iterable[_T], kind: str) -> list[_T]:
    ordered = sorted(items, key=lambda item: item.id)
    if len({item.id for item in ordered}) != len(ordered):
        raise ValueError(f"each {kind} must appear once")
    return ordered


def _pair_mask(
    pairs: Collection[Pair],
    juror_index: Mapping[int, int],
    entry_index: Mapping[int, int],
    shape: tuple[int, int],
    *,
    strict: bool,
) -> BoolMatrix:
    """An entries × jurors matrix, true for each of `pairs`; `strict` refuses a pair outside the round."""
    mask = np.zeros(shape, dtype=np.bool_)
    for juror_id, entry_id in pairs:
        if juror_id in juror_index and entry_id in entry_index:
            mask[entry_index[entry_id], juror_index[juror_id]] = True
        elif strict:
            raise ValueError(f"kept pair {(juror_id, entry_id)} is not in the round")
    return mask


def _pair_costs(
    entries: list[Entry],
    jurors: list[Juror],
    bids: Mapping[Pair, Bid],
    entry_index: Mapping[int, int],
    juror_index: Mapping[int, int],
) -> IntArray:
    """The entries × jurors cost of each pair, from the preference table of the module's rules."""
    matches = _theme_matches(entries, jurors).astype(np.int64) * THEME_BONUS
    costs = NEUTRAL_COST - matches
    unwilling = _unwilling_cost(len(jurors))
    for (juror_id, entry_id), bid in bids.items():
        i, j = entry_index.get(entry_id), juror_index.get(juror_id)
        if i is None or j is None:
            continue
        if bid == Bid.eager:
            costs[i, j] = EAGER_COST - matches[i, j]
        elif bid == Bid.unwilling:
            costs[i, j] = unwilling
    return costs


def _theme_matches(entries: list[Entry], jurors: list[Juror]) -> BoolMatrix:
    """The entries × jurors matrix, true where the entry and the juror share a theme."""
    entry_themes = [entry.themes for entry in entries]
    juror_themes = [juror.themes for juror in jurors]
    shared = sorted(frozenset().union(*entry_themes) & frozenset().union(*juror_themes))
    matches: BoolMatrix = (_incidence(entry_themes, shared) @ _incidence(juror_themes, shared).T) > 0
    return matches


def _incidence(theme_sets: list[frozenset[str]], themes: list[str]) -> NDArray[np.int32]:
    column = {theme: t for t, theme in enumerate(themes)}
    incidence = np.zeros((len(theme_sets), len(themes)), dtype=np.int32)
    for row, theme_set in enumerate(theme_sets):
        incidence[row, [column[theme] for theme in theme_set if theme in column]] = 1
    return incidence


def _unwilling_cost(juror_count: int) -> int:
    """More than the other pair costs of any cycle of the residual network can gain back: a simple cycle
    passes each juror at most once, so it holds at most two pair arcs per juror."""
    return NEUTRAL_COST * 2 * juror_count + 1


def _balance_cost(juror_count: int) -> int:
    """More than the pair costs of any cycle, unwilling ones included, so that balance comes first."""
    return _unwilling_cost(juror_count) * 2 * juror_count + 1


def _solve(
    needed: IntArray, open_pairs: BoolMatrix, costs: IntArray, kept_loads: IntArray, max_load: int | None
) -> BoolMatrix:
    """The new pairs: a maximum flow of minimum cost through the network of the module's docstring."""
    entry_count, juror_count = open_pairs.shape
    total = int(needed.sum())
    new_mask = np.zeros_like(open_pairs)
    if total == 0 or juror_count == 0:
        return new_mask
    source, sink = 0, entry_count + juror_count + 1
    entry_nodes = np.arange(1, entry_count + 1, dtype=np.int32)
    juror_nodes = np.arange(entry_count + 1, entry_count + juror_count + 1, dtype=np.int32)
    rows, columns = np.nonzero(open_pairs)
    tier_jurors, tier_capacities, tier_costs = _sink_tiers(kept_loads, total, max_load, _balance_cost(juror_count))

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(entry_count, source, dtype=np.int32), entry_nodes[rows], juror_nodes[tier_jurors]]),
        np.concatenate([entry_nodes, juror_nodes[columns], np.full(len(tier_jurors), sink, dtype=np.int32)]),
        np.concatenate([needed, np.ones(len(rows), dtype=np.int64), tier_capacities]).astype(np.int64),
        np.concatenate([np.zeros(entry_count, dtype=np.int64), costs[rows, columns], tier_costs]).astype(np.int64),
    )
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"the min-cost flow solver failed: {status}")
    pair_arcs = np.arange(entry_count, entry_count + len(rows), dtype=np.int32)
    new_mask[rows, columns] = np.asarray(flow.flows(pair_arcs)) > 0
    return new_mask


def _sink_tiers(
    kept_loads: IntArray, total: int, max_load: int | None, balance_cost: int
) -> tuple[NDArray[np.int64], IntArray, IntArray]:
    """The juror → sink arcs as (juror index, capacity, cost) arrays, arcs of no capacity left out."""
    limit = int(kept_loads.max()) + total if max_load is None else max_load
    level = _water_level(kept_loads, total, limit)
    below = np.clip(min(level - 1, limit) - kept_loads, 0, None)
    at_level = np.clip(min(level, limit) - np.maximum(kept_loads, level - 1), 0, None)
    above = np.clip(limit - np.maximum(kept_loads, level), 0, None)
    juror_range = np.arange(len(kept_loads), dtype=np.int64)
    capacities = np.concatenate([below, at_level, above]).astype(np.int64)
    costs = np.repeat(np.array([-balance_cost, 0, balance_cost], dtype=np.int64), len(kept_loads))
    keep = capacities > 0
    return np.tile(juror_range, 3)[keep], capacities[keep], costs[keep]


def _water_level(kept_loads: IntArray, total: int, limit: int) -> int:
    """The smallest level L such that filling every juror up to L (at most `limit`) places `total` new pairs,
    or `limit` when even that is not enough."""
    low, high = 0, limit
    while low < high:
        middle = (low + high) // 2
        if int(np.clip(middle - kept_loads, 0, None).sum()) >= total:
            high = middle
        else:
            low = middle + 1
    return low


def _pairs(mask: BoolMatrix, entries: list[Entry], jurors: list[Juror]) -> frozenset[Pair]:
    rows, columns = np.nonzero(mask)
    return frozenset((jurors[j].id, entries[i].id) for i, j in zip(rows.tolist(), columns.tolist(), strict=True))


def _unfilled(
    entries: list[Entry], reviews: IntArray, conflict_counts: IntArray, juror_count: int, reviews_per_entry: int
) -> tuple[Unfilled, ...]:
    """The entries short of reviews, each with the first reason of the module's rules that holds."""
    unfilled = []
    for i in np.nonzero(reviews < reviews_per_entry)[0].tolist():
        if juror_count < reviews_per_entry:
            reason = Shortfall.too_few_jurors
        elif juror_count - int(conflict_counts[i]) < reviews_per_entry:
            reason = Shortfall.conflicts
        else:
            reason = Shortfall.max_load
        unfilled.append(Unfilled(entries[i].id, reviews_per_entry - int(reviews[i]), reason))
    return tuple(unfilled)
