"""Further views of a round's ranking: each juror's own ordering of the entries they reviewed, combined by the
Borda count and by the Schulze method.

Pure: it imports no app module outside app.selection and knows no database. The caller gives the counted
reviews' weighted scores as `{(juror_id, entry_id): score}`, the pair order of app/jury/assignment.py; the
entries in the answer are those reviewed at least once (the raw ranking lists the others, unranked).

Rules:
- A juror's ballot orders the entries they reviewed by their weighted score, best first; scores within
  `TIE_TOLERANCE` are tied.
- Borda, for partial ballots: in a ballot of m entries an entry earns the entries ranked below it plus half
  the entries tied with it, divided by m − 1: the share of that juror's other entries it beat, in [0, 1]. Its
  Borda score is the mean over its ballots, so that an entry is not favoured for having more reviews. A ballot
  of one entry compares nothing and counts for nothing; an entry with only such ballots has no Borda score
  and no rank (None) and comes last.
- Schulze: d[i][j] is the number of jurors who reviewed both i and j and scored i higher. The strongest path
  p[i][j] is the widest path through the links where d[i][j] > d[j][i] (Floyd–Warshall), and i comes before j
  when p[i][j] > p[j][i]. That relation is transitive, so the entries are ranked by the number of entries
  each comes before: equal counts share a rank. Entries that share no juror with another are not compared.
- Schulze costs O(n³): about 0.5 s for 1,000 entries on this machine and 7 s for 2,000. Beyond
  `SCHULZE_MAX_ENTRIES` (a parameter) the answer is `TooManyEntries`, not a wait: it is a view for a
  shortlist.
- Ranks as in app/selection/aggregation.py: 1 is the best, ties share a rank ("1224"), ties ordered by entry id.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.selection.aggregation import competition_ranks

Pair = tuple[int, int]  # (juror_id, entry_id)
Ballot = tuple[tuple[int, ...], ...]  # groups of tied entry ids, best first
IntMatrix = NDArray[np.int32]

TIE_TOLERANCE = 1e-9  # points, as in the raw ranking
SCHULZE_MAX_ENTRIES = 1_000


@dataclass(frozen=True)
class Ranked:
    entry_id: int
    value: float | None  # Borda: the mean share of entries beaten; Schulze: the number of entries come before
    rank: int | None


@dataclass(frozen=True)
class TooManyEntries:
    """Schulze declined: `entries` to order, more than `limit`."""

    entries: int
    limit: int


def ballots(scores: Mapping[Pair, float]) -> dict[int, Ballot]:
    """Each juror's ordering of the entries they reviewed, by juror id."""
    by_juror: dict[int, dict[int, float]] = {}
    for (juror_id, entry_id), score in scores.items():
        by_juror.setdefault(juror_id, {})[entry_id] = score
    return {juror_id: _ballot(by_juror[juror_id]) for juror_id in sorted(by_juror)}


def borda(scores: Mapping[Pair, float]) -> tuple[Ranked, ...]:
    """The entries by their Borda score, best first (see the module's rules)."""
    shares: dict[int, list[float]] = {entry_id: [] for _, entry_id in scores}
    for ballot in ballots(scores).values():
        size = sum(len(group) for group in ballot)
        if size < 2:
            continue
        below = size
        for group in ballot:
            below -= len(group)
            for entry_id in group:
                shares[entry_id].append((below + (len(group) - 1) / 2) / (size - 1))
    points = {entry_id: sum(values) / len(values) for entry_id, values in shares.items() if values}
    return _ranked(points, shares)


def schulze(
    scores: Mapping[Pair, float], *, max_entries: int = SCHULZE_MAX_ENTRIES
) -> tuple[Ranked, ...] | TooManyEntries:
    """The entries in the Schulze order, best first, or `TooManyEntries` (see the module's rules)."""
    entry_ids = sorted({entry_id for _, entry_id in scores})
    if len(entry_ids) > max_entries:
        return TooManyEntries(len(entry_ids), max_entries)
    strongest = strongest_paths(pairwise_preferences(scores, entry_ids))
    wins = (strongest > strongest.T).sum(axis=1)
    return _ranked({entry_id: float(count) for entry_id, count in zip(entry_ids, wins, strict=True)}, entry_ids)


def pairwise_preferences(scores: Mapping[Pair, float], entry_ids: list[int]) -> IntMatrix:
    """d[i][j], in the order of `entry_ids`: the jurors who reviewed both and scored entry i higher than j."""
    index = {entry_id: i for i, entry_id in enumerate(entry_ids)}
    preferences = np.zeros((len(entry_ids), len(entry_ids)), dtype=np.int32)
    by_juror: dict[int, list[tuple[int, float]]] = {}
    for (juror_id, entry_id), score in scores.items():
        by_juror.setdefault(juror_id, []).append((index[entry_id], score))
    for reviewed in by_juror.values():
        rows = np.array([i for i, _ in reviewed])
        values = np.array([score for _, score in reviewed])
        preferences[np.ix_(rows, rows)] += values[:, None] - values[None, :] > TIE_TOLERANCE
    return preferences


def strongest_paths(preferences: IntMatrix) -> IntMatrix:
    """p[i][j]: the strength of the widest path from i to j through the links i beats j (Floyd–Warshall)."""
    strongest = np.where(preferences > preferences.T, preferences, 0).astype(np.int32)
    through = np.empty_like(strongest)
    for k in range(len(strongest)):
        # the diagonal needs no care: a path through i itself is never wider than the path it extends
        np.minimum(strongest[:, k : k + 1], strongest[k : k + 1, :], out=through)
        np.maximum(strongest, through, out=strongest)
    return strongest


def _ballot(entry_scores: Mapping[int, float]) -> Ballot:
    ranks = competition_ranks(entry_scores, tolerance=TIE_TOLERANCE)
    groups: dict[int, list[int]] = {}
    for entry_id, rank in ranks.items():
        groups.setdefault(rank, []).append(entry_id)
    return tuple(tuple(group) for group in groups.values())


def _ranked(values: Mapping[int, float], entry_ids: Iterable[int]) -> tuple[Ranked, ...]:
    """Rows for the ranked `values`, best first, then the entries of `entry_ids` without a value, by id."""
    ranks = competition_ranks(values)
    unranked = sorted(entry_id for entry_id in entry_ids if entry_id not in values)
    return tuple(Ranked(entry_id, values[entry_id], rank) for entry_id, rank in ranks.items()) + tuple(
        Ranked(entry_id, None, None) for entry_id in unranked
    )
