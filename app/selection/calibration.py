"""Calibrated scores: a least-squares fit over a round of score = entry quality + juror bias (juror scale optional),
so that a severe or a lenient juror moves no entry up or down by the luck of the draw.

Pure: it imports no app module outside app.selection and knows no database. The caller gives the counted
reviews' weighted scores as `{(juror_id, entry_id): score}`, the pair order of app/jury/assignment.py.

The model is the one of the peer-review calibration literature (Cornell's revNorm; Ge, Welling & Ghahramani,
"Big Data Meets Peer Review"), fitted without priors:
- Additive (the default): score = quality(entry) + bias(juror), solved by `scipy.sparse.linalg.lsqr` over
  one row per review. The fit only determines qualities and biases up to a common shift; the biases are pinned
  by a constraint row: they average to zero over the reviews (each juror weighted by their number of reviews).
  Then the calibrated scores average, over the reviews, exactly what the raw scores average: they stay on the
  round's level and its scale, and a bias reads "points above the round's average juror".
- With `juror_scale`: score = quality(entry) · scale(juror) + bias(juror), by alternating least squares:
  qualities and biases by lsqr with the scales fixed, then each juror's scale and bias by a regression of their
  scores on the qualities, shrunk toward 1 by a ridge worth `SCALE_PRIOR_REVIEWS` reviews (three or four
  reviews alone make a wild slope), floored at `MIN_SCALE` (a juror whose scores run against everyone's says
  nothing about severity). The scales are then normalised to average 1 over the reviews, and the biases to
  average 0, so the levels read as in the additive model.
- A calibrated score is the fitted quality: the score an average juror would give. It may leave the scale a
  little (an entry only severe jurors saw, scored at the top): it is a comparison, not a mark.
- Rank 1 is the best calibrated score; scores within `TIE_TOLERANCE` share a rank ("1224"), ties by entry id.
- Refused, with the reasons instead of numbers, where the data cannot support a fit: no review at all; a juror
  with fewer than `min_reviews` reviews (their bias would be the noise of a score or two); or the jurors
  split into groups that never reviewed a common entry, whose levels cannot be compared.
- A juror who scores everyone exactly d points lower only moves their own bias (and, through the averaging,
  every calibrated score by the same amount): the calibrated ranking does not change.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import lsqr

from app.selection.aggregation import competition_ranks

Pair = tuple[int, int]  # (juror_id, entry_id)
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MIN_REVIEWS = 3
TIE_TOLERANCE = 1e-6  # points: well above lsqr's error (its tolerances below), well below a meaningful gap
LSQR_TOLERANCE = 1e-12
SCALE_PRIOR_REVIEWS = 2.0
MIN_SCALE = 0.2
MAX_ALTERNATIONS = 100
CONVERGED = 1e-8  # points: the alternation stops when no quality moves by more


class Reason(StrEnum):
    """Why a round's scores cannot be calibrated."""

    no_reviews = "no_reviews"
    too_few_reviews = "too_few_reviews"
    disconnected = "disconnected"


@dataclass(frozen=True)
class Refused:
    reasons: tuple[Reason, ...]
    too_few_reviews: dict[int, int]  # juror id → their number of reviews, for those under `min_reviews`
    groups: tuple[tuple[int, ...], ...]  # juror ids of each group, when the jurors split into several


@dataclass(frozen=True)
class Calibrated:
    scores: dict[int, float]  # entry id → calibrated score
    ranks: dict[int, int]  # entry id → rank by calibrated score
    order: tuple[int, ...]  # entry ids, best first
    biases: dict[int, float]  # juror id → points above the round's average juror (negative: severe)
    scales: dict[int, float]  # juror id → how far their scores stretch the qualities (1.0 in the additive model)


@dataclass(frozen=True)
class _Reviews:
    entry_ids: IntArray  # sorted
    juror_ids: IntArray  # sorted
    entry: IntArray  # per review, its entry's index
    juror: IntArray  # per review, its juror's index
    score: FloatArray


def calibrate(
    scores: Mapping[Pair, float], *, min_reviews: int = MIN_REVIEWS, juror_scale: bool = False
) -> Calibrated | Refused:
    """The round's calibrated scores and ranking, or why not (see the module's rules)."""
    if min_reviews < 1:
        raise ValueError("min_reviews must be at least 1")
    if not scores:
        return Refused((Reason.no_reviews,), {}, ())
    reviews = _index(scores)
    refusal = _refusal(reviews, min_reviews)
    if refusal is not None:
        return refusal
    if juror_scale:
        quality, bias, scale = _fit_with_scales(reviews)
    else:
        quality, bias = _fit(reviews, None)
        scale = np.ones(len(reviews.juror_ids))
    calibrated = {int(entry_id): float(value) for entry_id, value in zip(reviews.entry_ids, quality, strict=True)}
    jurors = [int(juror_id) for juror_id in reviews.juror_ids]
    ranks = competition_ranks(calibrated, tolerance=TIE_TOLERANCE)
    return Calibrated(
        scores=calibrated,
        ranks=ranks,
        order=tuple(ranks),
        biases=dict(zip(jurors, bias.tolist(), strict=True)),
        scales=dict(zip(jurors, scale.tolist(), strict=True)),
    )


def _index(scores: Mapping[Pair, float]) -> _Reviews:
    pairs = np.array(list(scores), dtype=np.int64).reshape(-1, 2)
    juror_ids, juror = np.unique(pairs[:, 0], return_inverse=True)
    entry_ids, entry = np.unique(pairs[:, 1], return_inverse=True)
    return _Reviews(entry_ids, juror_ids, entry, juror, np.fromiter(scores.values(), np.float64, len(scores)))


def _refusal(reviews: _Reviews, min_reviews: int) -> Refused | None:
    counts = np.bincount(reviews.juror, minlength=len(reviews.juror_ids))
    few = {int(reviews.juror_ids[j]): int(counts[j]) for j in np.flatnonzero(counts < min_reviews)}
    groups = _juror_groups(reviews)
    reasons = ((Reason.too_few_reviews,) if few else ()) + ((Reason.disconnected,) if len(groups) > 1 else ())
    return Refused(reasons, few, groups if len(groups) > 1 else ()) if reasons else None


def _juror_groups(reviews: _Reviews) -> tuple[tuple[int, ...], ...]:
    """The jurors of each connected part of the juror–entry graph, ordered by their smallest juror id."""
    entries, jurors = len(reviews.entry_ids), len(reviews.juror_ids)
    graph = sparse.coo_matrix(
        (np.ones(len(reviews.score)), (reviews.entry, entries + reviews.juror)), shape=(entries + jurors,) * 2
    )
    _, labels = connected_components(graph, directed=False)
    juror_labels = labels[entries:]
    groups = [tuple(int(j) for j in reviews.juror_ids[juror_labels == label]) for label in np.unique(juror_labels)]
    return tuple(sorted(groups))


def _fit(
    reviews: _Reviews, scale: FloatArray | None, *, start: tuple[FloatArray, FloatArray] | None = None
) -> tuple[FloatArray, FloatArray]:
    """Qualities and biases by least squares, the juror scales fixed (all 1 when None), on the gauge of
    `_normalised`; lsqr starts from `start` (qualities, biases on that gauge) when given."""
    count, entries, jurors = len(reviews.score), len(reviews.entry_ids), len(reviews.juror_ids)
    per_juror = np.bincount(reviews.juror, minlength=jurors).astype(np.float64)
    quality_weight = scale[reviews.juror] if scale is not None else np.ones(count)
    rows = np.arange(count)
    constraint = per_juror / per_juror.mean()  # any weight pins the same solution; this one keeps it well scaled
    design = sparse.csc_matrix(
        (
            np.concatenate([quality_weight, np.ones(count), constraint]),
            (
                np.concatenate([rows, rows, np.full(jurors, count)]),
                np.concatenate([reviews.entry, entries + reviews.juror, entries + np.arange(jurors)]),
            ),
        ),
        shape=(count + 1, entries + jurors),
    )
    level = float(reviews.score.mean())  # solved around the mean, which the biases take back afterwards
    target = np.concatenate([reviews.score - level, [0.0]])
    # columns scaled to unit norm (Jacobi): a juror's column is much longer than an entry's, which slows lsqr
    norms = np.sqrt(np.asarray(design.multiply(design).sum(axis=0)).ravel())
    scales = scale if scale is not None else np.ones(jurors)
    # the gauge of `_normalised` shifts the solution by `level`: a start is shifted back onto lsqr's
    x0 = None if start is None else np.concatenate([start[0] - level, start[1] + (scales - 1) * level]) * norms
    solution = lsqr(design @ sparse.diags(1 / norms), target, atol=LSQR_TOLERANCE, btol=LSQR_TOLERANCE, x0=x0)[0]
    unknowns = solution / norms
    _, quality, bias = _normalised(reviews, scales, unknowns[:entries], unknowns[entries:] + level)
    return quality, bias


def _normalised(
    reviews: _Reviews, scale: FloatArray, quality: FloatArray, bias: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The same fit (score = quality · scale + bias) with the scales averaging 1 and the biases 0 over the
    reviews."""
    stretch = float(scale[reviews.juror].mean())
    scale, quality = scale / stretch, quality * stretch
    shift = float(bias[reviews.juror].sum() / scale[reviews.juror].sum())
    return scale, quality + shift, bias - scale * shift


def _fit_with_scales(reviews: _Reviews) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Alternating least squares from the additive fit, until no quality moves by more than `CONVERGED`."""
    quality, bias = _fit(reviews, None)
    scale = np.ones(len(reviews.juror_ids))
    for _ in range(MAX_ALTERNATIONS):
        scale, bias = _juror_lines(reviews, quality)
        scale, start, bias = _normalised(reviews, scale, quality, bias)
        new_quality, bias = _fit(reviews, scale, start=(start, bias))
        moved = float(np.max(np.abs(new_quality - quality)))
        quality = new_quality
        if moved < CONVERGED:
            break
    return quality, bias, scale


def _juror_lines(reviews: _Reviews, quality: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per juror, the line score = scale · quality + bias through their reviews, the scale shrunk toward 1."""
    jurors = len(reviews.juror_ids)
    counts = np.bincount(reviews.juror, minlength=jurors)
    seen = quality[reviews.entry]
    mean_seen = np.bincount(reviews.juror, seen, jurors) / counts
    mean_score = np.bincount(reviews.juror, reviews.score, jurors) / counts
    centred_seen = seen - mean_seen[reviews.juror]
    spread = np.bincount(reviews.juror, centred_seen**2, jurors)
    covariance = np.bincount(reviews.juror, centred_seen * (reviews.score - mean_score[reviews.juror]), jurors)
    prior = SCALE_PRIOR_REVIEWS * max(float(seen.var()), 1e-12)  # never 0: a flat round keeps every scale at 1
    scale = np.maximum((covariance + prior) / (spread + prior), MIN_SCALE)
    return scale, mean_score - scale * mean_seen
