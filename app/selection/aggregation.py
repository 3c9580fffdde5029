"""A round's raw ranking: each entry's reviews summed up (score, spread, per criterion) and ranked.

Pure: it imports no other app module and knows no database. The caller gives, per entry, its counted reviews
(abstentions and drafts left out), each as its weighted score on the round's scale and its score per criterion.

Rules:
- An entry's score is the mean of its reviews' weighted scores; beside it the median, the standard deviation,
  the lowest and highest score, the number of reviews and the mean of each criterion over the reviews that
  scored it.
- The standard deviation is the population one (divided by n, not n - 1): it describes the spread of these
  reviews, not an estimate of a wider population, and it is 0, not undefined, for a single review.
- Disagreement: the standard deviation is at least 20% of the scale's width, or max − min at least half of it.
- Rank 1 is the best score; equal scores share a rank and the next rank skips ("1224", competition ranking).
  Scores closer than `TIE_TOLERANCE` count as equal, so that the order in which floats were summed never
  breaks a tie. An entry without a review has no score and no rank (None) and comes last.
- Deterministic: ties, and the entries without a review, are ordered by entry id.
- Whole rounds are summed up on arrays (`aggregate_arrays`, numpy: 10,000 entries × 5 reviews in tens of
  milliseconds); `aggregate` is the same computation for reviews given one by one.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TIE_TOLERANCE = 1e-9  # points: below any difference a scale's steps can make, above float summation noise
DISAGREEMENT_STDEV = 0.2  # of the scale's width
DISAGREEMENT_RANGE = 0.5  # of the scale's width


@dataclass(frozen=True)
class Scale:
    """The round's scale, the range of a weighted score."""

    min: float
    max: float

    def __post_init__(self) -> None:
        if not self.min < self.max:
            raise ValueError("a scale's min must be below its max")

    @property
    def width(self) -> float:
        return self.max - self.min


@dataclass(frozen=True)
class Review:
    """One counted review: its weighted score and its score per criterion id."""

    score: float
    criteria: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryStats:
    """One row of the raw ranking; the score's fields are None for an entry without a review."""

    entry_id: int
    reviews: int
    score: float | None
    median: float | None
    stdev: float | None
    min: float | None
    max: float | None
    criteria: dict[int, float]  # criterion id → mean over the reviews that scored it
    rank: int | None
    disagreement: bool


@dataclass(frozen=True)
class ReviewArrays:
    """A round's counted reviews, one element (or row) per review."""

    entry: IntArray  # its entry's id
    score: FloatArray  # its weighted score
    criteria: FloatArray  # reviews × criteria: its score per criterion, NaN where it scored none
    criterion_ids: tuple[int, ...]  # the criteria's columns

    @classmethod
    def of(cls, reviews: Mapping[int, Sequence[Review]]) -> "ReviewArrays":
        """The arrays of reviews given per entry id."""
        criterion_ids = tuple(sorted({c for rs in reviews.values() for r in rs for c in r.criteria}))
        column = {c: i for i, c in enumerate(criterion_ids)}
        flat = [(entry_id, review) for entry_id, rs in reviews.items() for review in rs]
        criteria = np.full((len(flat), len(criterion_ids)), np.nan)
        for row, (_, review) in enumerate(flat):
            for criterion_id, value in review.criteria.items():
                criteria[row, column[criterion_id]] = value
        return cls(
            entry=np.array([entry_id for entry_id, _ in flat], dtype=np.int64),
            score=np.array([review.score for _, review in flat], dtype=np.float64),
            criteria=criteria,
            criterion_ids=criterion_ids,
        )

    def scores_by_entry(self) -> dict[int, tuple[float, ...]]:
        """Each reviewed entry's scores, lowest first."""
        order = np.lexsort((self.score, self.entry))
        entry, score = self.entry[order], self.score[order]
        ids, starts = np.unique(entry, return_index=True)
        bounds = [*starts.tolist(), len(score)]
        values = score.tolist()
        return {entry_id: tuple(values[bounds[i] : bounds[i + 1]]) for i, entry_id in enumerate(ids.tolist())}


def aggregate(reviews: Mapping[int, Sequence[Review]], scale: Scale) -> list[EntryStats]:
    """The raw ranking of a round, best first (see the module's rules). `reviews` maps each entry id of the
    round to its counted reviews, an empty sequence for an entry without one. A score outside the scale is a
    caller's mistake (ValueError)."""
    return aggregate_arrays(list(reviews), ReviewArrays.of(reviews), scale)


def aggregate_arrays(entry_ids: Sequence[int], reviews: ReviewArrays, scale: Scale) -> list[EntryStats]:
    """As `aggregate`, for the round's entries (`entry_ids`, reviewed or not) and their counted reviews as
    arrays (each review's entry among `entry_ids`)."""
    outside = np.flatnonzero((reviews.score < scale.min) | (reviews.score > scale.max))
    if len(outside):
        raise ValueError(
            f"entry {int(reviews.entry[outside[0]])} has a score outside the scale {scale.min}–{scale.max}"
        )
    order = np.lexsort((reviews.score, reviews.entry))  # by entry, each entry's scores lowest first
    entry, score, criteria = reviews.entry[order], reviews.score[order], reviews.criteria[order]
    ids, starts, counts = np.unique(entry, return_index=True, return_counts=True)
    if not len(ids):
        return [_unreviewed(entry_id) for entry_id in sorted(entry_ids)]
    means = np.add.reduceat(score, starts) / counts
    deviations = score - np.repeat(means, counts)
    stdevs = np.sqrt(np.add.reduceat(deviations * deviations, starts) / counts)
    lows, highs = score[starts], score[starts + counts - 1]
    middle = starts + counts // 2
    medians = np.where(counts % 2 == 1, score[middle], (score[middle - 1] + score[middle]) / 2)
    scored = ~np.isnan(criteria)
    criterion_counts = np.add.reduceat(scored.astype(np.int64), starts, axis=0)
    criterion_sums = np.add.reduceat(np.where(scored, criteria, 0.0), starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        criterion_means = criterion_sums / criterion_counts
    # the tolerance keeps a spread of exactly half the scale from missing its threshold by a rounding error
    disagree = (stdevs >= DISAGREEMENT_STDEV * scale.width - TIE_TOLERANCE) | (
        highs - lows >= DISAGREEMENT_RANGE * scale.width - TIE_TOLERANCE
    )
    columns = [
        a.tolist() for a in (ids, counts, means, medians, stdevs, lows, highs, disagree)
    ]  # Python numbers: the rows hold no numpy scalars
    row_of = {entry_id: i for i, entry_id in enumerate(columns[0])}
    per_criterion = [
        {c: m for c, m, n in zip(reviews.criterion_ids, means_row, counts_row, strict=True) if n}
        for means_row, counts_row in zip(criterion_means.tolist(), criterion_counts.tolist(), strict=True)
    ]
    ranks = competition_ranks(dict(zip(columns[0], columns[2], strict=True)))
    _, n, mean, median, stdev, low, high, disagreement = columns
    ranked = [
        EntryStats(
            entry_id, n[i], mean[i], median[i], stdev[i], low[i], high[i], per_criterion[i], rank, disagreement[i]
        )
        for entry_id, rank in ranks.items()
        for i in (row_of[entry_id],)
    ]
    return ranked + [_unreviewed(entry_id) for entry_id in sorted(set(entry_ids) - row_of.keys())]


def _unreviewed(entry_id: int) -> EntryStats:
    return EntryStats(entry_id, 0, None, None, None, None, None, {}, None, False)


def competition_ranks(values: Mapping[int, float], *, tolerance: float = TIE_TOLERANCE) -> dict[int, int]:
    """Rank 1 for the highest value; values within `tolerance` of their group's first share its rank, and the
    next group's rank skips as many places ("1224"). The answer runs best first, equal ranks by key."""
    ranks: dict[int, int] = {}
    leader: float | None = None
    rank = 0
    for place, key in enumerate(_ranked_order(values), start=1):
        value = values[key]
        if leader is None or leader - value > tolerance:
            leader, rank = value, place
        ranks[key] = rank
    return {key: rank for rank, key in sorted((rank, key) for key, rank in ranks.items())}


def _ranked_order(values: Mapping[int, float]) -> list[int]:
    """The keys by value, highest first, equal values by key."""
    return sorted(values, key=lambda key: (-values[key], key))
