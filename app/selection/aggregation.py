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
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

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


def aggregate(reviews: Mapping[int, Sequence[Review]], scale: Scale) -> list[EntryStats]:
    """The raw ranking of a round, best first (see the module's rules). `reviews` maps each entry id of the
    round to its counted reviews, an empty sequence for an entry without one. A score outside the scale is a
    caller's mistake (ValueError)."""
    means = {
        entry_id: math.fsum(review.score for review in entry_reviews) / len(entry_reviews)
        for entry_id, entry_reviews in reviews.items()
        if entry_reviews
    }
    ranks = competition_ranks(means)
    unreviewed = sorted(entry_id for entry_id, entry_reviews in reviews.items() if not entry_reviews)
    ranked = [_summary(entry_id, reviews[entry_id], means[entry_id], rank, scale) for entry_id, rank in ranks.items()]
    return ranked + [EntryStats(entry_id, 0, None, None, None, None, None, {}, None, False) for entry_id in unreviewed]


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


def _summary(entry_id: int, reviews: Sequence[Review], mean: float, rank: int, scale: Scale) -> EntryStats:
    scores = sorted(review.score for review in reviews)
    if not scale.min <= scores[0] <= scores[-1] <= scale.max:
        raise ValueError(f"entry {entry_id} has a score outside the scale {scale.min}–{scale.max}")
    stdev = math.sqrt(math.fsum((score - mean) ** 2 for score in scores) / len(scores))
    return EntryStats(
        entry_id=entry_id,
        reviews=len(scores),
        score=mean,
        median=_median(scores),
        stdev=stdev,
        min=scores[0],
        max=scores[-1],
        criteria=_criterion_means(review.criteria for review in reviews),
        rank=rank,
        disagreement=_disagree(stdev, scores[-1] - scores[0], scale),
    )


def _median(ordered: Sequence[float]) -> float:
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _criterion_means(per_review: Iterable[Mapping[int, float]]) -> dict[int, float]:
    totals: dict[int, float] = {}
    counts: dict[int, int] = {}
    for criteria in per_review:
        for criterion_id, value in criteria.items():
            totals[criterion_id] = totals.get(criterion_id, 0.0) + value
            counts[criterion_id] = counts.get(criterion_id, 0) + 1
    return {criterion_id: totals[criterion_id] / counts[criterion_id] for criterion_id in sorted(totals)}


def _disagree(stdev: float, spread: float, scale: Scale) -> bool:
    # the tolerance keeps a spread of exactly half the scale from missing its threshold by a rounding error
    return (
        stdev >= DISAGREEMENT_STDEV * scale.width - TIE_TOLERANCE
        or spread >= DISAGREEMENT_RANGE * scale.width - TIE_TOLERANCE
    )
