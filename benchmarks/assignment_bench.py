"""Times the jury's automatic assignment (app/jury/assignment.py) on a big round, against a naive round-robin.

Usage: .venv/bin/python benchmarks/assignment_bench.py [--entries 10000] [--jurors 300] [--reviews 5] [--runs 3]
       [--conflicts 0.02] [--bids 0.01] [--seed 12]

Builds one seeded random round: each entry and juror with 1 to 3 of 12 themes, a share `--conflicts` of all
juror-entry pairs conflicted, and bids (eager, willing, unwilling in equal parts) on a share `--bids` of the pairs.
Then times, `--runs` times each, in the same process:
- baseline: a naive round-robin that gives each entry the next jurors in turn, skipping conflicted ones and
  ignoring loads' targets, themes and bids (the cheapest answer that honours conflicts);
- solver: `assign()` (network building and the min-cost flow included);
and prints the medians and their ratio, the solver's loads (min, max, spread), the reviews left unfilled, and
how many pairs of each answer are eager, share a theme or are unwilling.
"""

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from itertools import cycle
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.jury.assignment import Bid, Entry, Juror, Solution, assign  # noqa: E402

THEMES = [f"theme-{n}" for n in range(12)]
Pair = tuple[int, int]
T = TypeVar("T")


def build_round(
    rng: random.Random, entry_count: int, juror_count: int, conflict_share: float, bid_share: float
) -> tuple[list[Entry], list[Juror], set[Pair], dict[Pair, Bid]]:
    entries = [Entry(n, frozenset(rng.sample(THEMES, rng.randint(1, 3)))) for n in range(1, entry_count + 1)]
    jurors = [Juror(n, frozenset(rng.sample(THEMES, rng.randint(1, 3)))) for n in range(1, juror_count + 1)]
    pair_count = entry_count * juror_count
    conflicts = {_random_pair(rng, entry_count, juror_count) for _ in range(int(pair_count * conflict_share))}
    bid_count = int(pair_count * bid_share)
    bids = {_random_pair(rng, entry_count, juror_count): rng.choice(list(Bid)) for _ in range(bid_count)}
    return entries, jurors, conflicts, {pair: bid for pair, bid in bids.items() if pair not in conflicts}


def _random_pair(rng: random.Random, entry_count: int, juror_count: int) -> Pair:
    return rng.randint(1, juror_count), rng.randint(1, entry_count)


def round_robin(entries: list[Entry], jurors: list[Juror], reviews: int, conflicts: set[Pair]) -> set[Pair]:
    turn = cycle(juror.id for juror in jurors)
    pairs = set()
    for entry in entries:
        chosen: set[int] = set()
        for _ in range(len(jurors)):
            if len(chosen) == reviews:
                break
            juror_id = next(turn)
            if (juror_id, entry.id) not in conflicts and juror_id not in chosen:
                chosen.add(juror_id)
        pairs |= {(juror_id, entry.id) for juror_id in chosen}
    return pairs


def timed(runs: int, step: Callable[[], T]) -> tuple[float, T]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def preferences(
    pairs: set[Pair] | frozenset[Pair], entries: list[Entry], jurors: list[Juror], bids: dict[Pair, Bid]
) -> str:
    entry_themes = {entry.id: entry.themes for entry in entries}
    juror_themes = {juror.id: juror.themes for juror in jurors}
    eager = sum(bids.get(pair) == Bid.eager for pair in pairs)
    unwilling = sum(bids.get(pair) == Bid.unwilling for pair in pairs)
    themed = sum(bool(juror_themes[j] & entry_themes[e]) for j, e in pairs)
    return f"{eager} eager, {themed} sharing a theme, {unwilling} unwilling"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--jurors", type=int, default=300)
    parser.add_argument("--reviews", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conflicts", type=float, default=0.02)
    parser.add_argument("--bids", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    entries, jurors, conflicts, bids = build_round(
        random.Random(args.seed), args.entries, args.jurors, args.conflicts, args.bids
    )
    baseline, naive = timed(args.runs, lambda: round_robin(entries, jurors, args.reviews, conflicts))
    solve_time, solution = timed(
        args.runs, lambda: assign(entries, jurors, reviews_per_entry=args.reviews, conflicts=conflicts, bids=bids)
    )
    report(args, entries, jurors, conflicts, bids, baseline, naive, solve_time, solution)


def report(
    args: argparse.Namespace,
    entries: list[Entry],
    jurors: list[Juror],
    conflicts: set[Pair],
    bids: dict[Pair, Bid],
    baseline: float,
    naive: set[Pair],
    solve_time: float,
    solution: Solution,
) -> None:
    assert not solution.pairs & conflicts
    unfilled = sum(unfilled.missing for unfilled in solution.unfilled)
    print(
        f"{args.entries} entries × {args.jurors} jurors × {args.reviews} reviews, {len(conflicts)} conflicts, "
        f"{len(bids)} bids, seed {args.seed}, median of {args.runs} runs"
    )
    print(f"round-robin (baseline)   {baseline * 1000:>9.1f} ms   {preferences(naive, entries, jurors, bids)}")
    solved = preferences(solution.pairs, entries, jurors, bids)
    print(f"solver                   {solve_time * 1000:>9.1f} ms   {solved}   × baseline {solve_time / baseline:.1f}")
    print(
        f"loads: min {solution.min_load}, max {solution.max_load}, spread {solution.max_load - solution.min_load}; "
        f"{len(solution.pairs)} pairs, {unfilled} reviews unfilled"
    )


if __name__ == "__main__":
    main()
