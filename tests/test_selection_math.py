"""The selection's arithmetic (app/selection: aggregation, calibration, orderings) on small rounds worked out by
hand, and the properties calibration must keep."""

import random

import numpy as np
import pytest

from app.selection.aggregation import EntryStats, Review, Scale, aggregate, competition_ranks
from app.selection.calibration import Calibrated, Reason, Refused, calibrate
from app.selection.orderings import (
    Ranked,
    TooManyEntries,
    ballots,
    borda,
    pairwise_preferences,
    schulze,
    strongest_paths,
)

pytestmark = pytest.mark.database_independent  # no query: .ci/run runs it on SQLite only

TEN = Scale(0, 10)


def reviews(*scores: float) -> list[Review]:
    return [Review(score) for score in scores]


def test_an_entry_sums_up_its_reviews_with_the_population_standard_deviation():
    (row,) = aggregate({7: [Review(4, {1: 3, 2: 5}), Review(6, {1: 5, 2: 7}), Review(8, {1: 9})]}, TEN)

    assert row == EntryStats(
        entry_id=7,
        reviews=3,
        score=6.0,
        median=6,
        stdev=pytest.approx((8 / 3) ** 0.5),  # squared deviations 4, 0, 4 over 3 reviews
        min=4,
        max=8,
        criteria={1: pytest.approx(17 / 3), 2: 6.0},  # criterion 2 over the two reviews that scored it
        rank=1,
        disagreement=False,
    )


def test_a_single_review_has_no_spread_and_an_even_count_takes_the_middle_pair_for_median():
    rows = {row.entry_id: row for row in aggregate({1: reviews(5), 2: reviews(2, 3, 7, 8)}, TEN)}

    assert (rows[1].stdev, rows[1].median) == (0, 5)
    assert rows[2].median == 5


def test_ranks_share_ties_and_skip_and_an_entry_without_review_comes_last_unranked():
    rows = aggregate({40: reviews(7), 30: [], 20: reviews(6, 8), 10: reviews(9), 50: reviews(5)}, TEN)

    assert [(row.entry_id, row.rank) for row in rows] == [(10, 1), (20, 2), (40, 2), (50, 4), (30, None)]
    assert (rows[-1].score, rows[-1].reviews, rows[-1].disagreement) == (None, 0, False)


def test_scores_equal_but_for_float_summation_order_tie():
    assert competition_ranks({1: 0.1 + 0.2 + 0.3, 2: 0.3 + 0.2 + 0.1, 3: 0.5}) == {1: 1, 2: 1, 3: 3}


def test_disagreement_at_a_fifth_of_the_scale_in_deviation_or_half_of_it_in_range():
    rows = {
        row.entry_id: row.disagreement
        for row in aggregate({1: reviews(3, 7), 2: reviews(4, 4, 4, 9), 3: reviews(4, 7), 4: reviews(5, 5)}, TEN)
    }

    # 1: stdev 2 (= 20% of 10); 2: range 5 (half of 10), stdev 2.17; 3: stdev 1.5, range 3; 4: none
    assert rows == {1: True, 2: True, 3: False, 4: False}


def test_a_score_outside_the_scale_is_refused():
    with pytest.raises(ValueError, match="outside the scale"):
        aggregate({1: reviews(11)}, TEN)
    with pytest.raises(ValueError):
        Scale(5, 5)


def severe_round(seed: int = 3) -> dict[tuple[int, int], float]:
    """30 entries, 6 jurors, 4 reviews each, scores = quality + a juror's bias + noise (well connected)."""
    rng = random.Random(seed)
    quality = {entry: rng.uniform(3, 8) for entry in range(1, 31)}
    bias = {juror: rng.uniform(-1.5, 1.5) for juror in range(1, 7)}
    return {
        (juror, entry): quality[entry] + bias[juror] + rng.gauss(0, 0.3)
        for entry in quality
        for juror in rng.sample(sorted(bias), 4)
    }


def test_a_small_round_is_calibrated_as_solved_by_hand():
    # Jurors 1 and 2 both review entries 10 and 20, juror 2 one point harder on each; 1 alone reviews 30,
    # 2 alone reviews 40. Exact fit: quality 10 = 7.5, 20 = 5.5, biases +0.5 and -0.5 (four reviews each, so
    # they average zero), hence 30 = 6 - 0.5 = 5.5 and 40 = 7 + 0.5 = 7.5.
    scores = {(1, 10): 8, (2, 10): 7, (1, 20): 6, (2, 20): 5, (1, 30): 6, (2, 40): 7, (1, 50): 4, (2, 50): 3}

    result = calibrate(scores)

    assert isinstance(result, Calibrated)
    assert result.scores == pytest.approx({10: 7.5, 20: 5.5, 30: 5.5, 40: 7.5, 50: 3.5})
    assert result.biases == pytest.approx({1: 0.5, 2: -0.5})
    assert result.scales == {1: 1.0, 2: 1.0}
    assert result.ranks == {10: 1, 40: 1, 20: 3, 30: 3, 50: 5}
    assert result.order == (10, 40, 20, 30, 50)


def test_calibrated_scores_average_what_the_raw_ones_average_over_the_reviews():
    scores = severe_round()
    result = calibrate(scores)

    assert isinstance(result, Calibrated)
    mean_raw = sum(scores.values()) / len(scores)
    assert sum(result.scores[entry] for _, entry in scores) / len(scores) == pytest.approx(mean_raw)


@pytest.mark.parametrize("juror_scale", [False, True])
def test_a_juror_two_points_harder_on_everyone_leaves_the_calibrated_ranking_unchanged(juror_scale):
    scores = severe_round()
    harder = {(juror, entry): score - 2 if juror == 4 else score for (juror, entry), score in scores.items()}

    before, after = calibrate(scores, juror_scale=juror_scale), calibrate(harder, juror_scale=juror_scale)

    assert isinstance(before, Calibrated) and isinstance(after, Calibrated)
    assert after.order == before.order and after.ranks == before.ranks
    # juror 4 wrote 20 of the 120 reviews: the biases' average over the reviews takes back a sixth of the 2 points
    assert after.biases[4] - before.biases[4] == pytest.approx(-2 + before.scales[4] * 2 * 20 / 120, abs=1e-6)
    raw_ranks = aggregate_ranks(scores)
    assert aggregate_ranks(harder) != raw_ranks  # the raw ranking does move: the test has something to show


def aggregate_ranks(scores: dict[tuple[int, int], float]) -> dict[int, int | None]:
    per_entry: dict[int, list[Review]] = {}
    for (_, entry), score in scores.items():
        per_entry.setdefault(entry, []).append(Review(score))
    return {row.entry_id: row.rank for row in aggregate(per_entry, Scale(-5, 15))}


def test_a_jurors_stretch_is_recovered_with_the_juror_scale():
    # Juror 3 uses half the range (scores = 0.5·quality + 3) on the same five entries as jurors 1 and 2.
    quality = {1: 8.0, 2: 6.0, 3: 5.0, 4: 4.0, 5: 2.0}
    scores = {(juror, entry): q for entry, q in quality.items() for juror in (1, 2)}
    scores |= {(3, entry): 0.5 * q + 3 for entry, q in quality.items()}

    result = calibrate(scores, juror_scale=True)

    assert isinstance(result, Calibrated)
    assert result.order == (1, 2, 3, 4, 5)
    assert result.scales[1] == pytest.approx(result.scales[2])
    assert 0.5 < result.scales[3] / result.scales[1] < 0.7  # the true 0.5, shrunk toward 1 by the ridge


def test_calibration_refuses_a_juror_with_too_few_reviews():
    scores = severe_round() | {(9, 1): 5.0, (9, 2): 6.0}

    assert calibrate(scores) == Refused((Reason.too_few_reviews,), {9: 2}, ())
    assert isinstance(calibrate(scores, min_reviews=2), Calibrated)


def test_calibration_refuses_jurors_split_into_groups_that_never_share_an_entry():
    first = {(juror, entry): 5.0 + entry % 3 for juror in (1, 2) for entry in (1, 2, 3)}
    second = {(juror, entry): 4.0 + entry % 2 for juror in (3, 4, 5) for entry in (7, 8, 9)}

    result = calibrate(first | second)

    assert result == Refused((Reason.disconnected,), {}, ((1, 2), (3, 4, 5)))


def test_calibration_refuses_a_round_without_reviews():
    assert calibrate({}) == Refused((Reason.no_reviews,), {}, ())


def as_scores(ballots_by_juror: dict[int, dict[int, float]]) -> dict[tuple[int, int], float]:
    return {(juror, entry): score for juror, entries in ballots_by_juror.items() for entry, score in entries.items()}


THREE_JURORS = as_scores(
    {1: {1: 8, 2: 6, 3: 6, 4: 2}, 2: {2: 9, 4: 7, 5: 3}, 3: {1: 4, 5: 7}, 4: {6: 5}}  # 4: one entry, no comparison
)


def test_each_jurors_ballot_orders_their_entries_with_ties():
    assert ballots(THREE_JURORS) == {1: ((1,), (2, 3), (4,)), 2: ((2,), (4,), (5,)), 3: ((5,), (1,)), 4: ((6,),)}


def test_borda_averages_the_share_of_each_ballot_beaten_with_ties_as_halves():
    # juror 1 (4 entries): 1 → 3/3, 2 and 3 → (1 + ½)/3, 4 → 0; juror 2: 2 → 1, 4 → ½, 5 → 0; juror 3: 5 → 1, 1 → 0
    # means: 1 = ½, 2 = ¾, 3 = ½, 4 = ¼, 5 = ½; 6 has only a ballot of one
    assert borda(THREE_JURORS) == (
        Ranked(2, 0.75, 1),
        Ranked(1, 0.5, 2),
        Ranked(3, 0.5, 2),
        Ranked(5, 0.5, 2),
        Ranked(4, 0.25, 5),
        Ranked(6, None, None),
    )


# Wikipedia's Schulze example: 45 voters, candidates A–E as entries 1–5; each voter a juror scoring all five
WIKIPEDIA = [(5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"), (7, "CAEBD"), (2, "CBADE"), (7, "DCEBA")]
WIKIPEDIA += [(8, "EBADC")]


def wikipedia_scores() -> dict[tuple[int, int], float]:
    voters = [order for count, order in WIKIPEDIA for _ in range(count)]
    return {
        (juror, "ABCDE".index(candidate) + 1): 5.0 - place
        for juror, order in enumerate(voters, start=1)
        for place, candidate in enumerate(order)
    }


def test_schulze_on_wikipedias_example_finds_its_pairwise_table_strongest_paths_and_order():
    scores = wikipedia_scores()
    preferences = pairwise_preferences(scores, [1, 2, 3, 4, 5])

    assert preferences.tolist() == [
        [0, 20, 26, 30, 22],
        [25, 0, 16, 33, 18],
        [19, 29, 0, 17, 24],
        [15, 12, 28, 0, 14],
        [23, 27, 21, 31, 0],
    ]
    strongest = strongest_paths(preferences)
    np.fill_diagonal(strongest, 0)
    assert strongest.tolist() == [
        [0, 28, 28, 30, 24],
        [25, 0, 28, 33, 24],
        [25, 29, 0, 29, 24],
        [25, 28, 28, 0, 24],
        [25, 28, 28, 31, 0],
    ]
    assert schulze(scores) == (Ranked(5, 4, 1), Ranked(1, 3, 2), Ranked(3, 2, 3), Ranked(2, 1, 4), Ranked(4, 0, 5))


def test_schulze_counts_only_jurors_who_reviewed_both_and_ties_share_a_rank_by_entry_id():
    # 10 vs 20: one juror each way, a tie; 30 below both for the jurors who saw it; 40 never shares a juror
    scores = as_scores({1: {10: 7, 20: 5, 30: 1}, 2: {20: 8, 10: 6}, 3: {20: 6, 30: 2}, 4: {40: 9}})

    assert schulze(scores) == (Ranked(10, 1, 1), Ranked(20, 1, 1), Ranked(30, 0, 3), Ranked(40, 0, 3))


def test_schulze_declines_more_entries_than_its_limit_instead_of_running():
    scores = as_scores({1: {10: 7, 20: 5, 30: 1}, 2: {40: 3}})

    assert schulze(scores, max_entries=3) == TooManyEntries(entries=4, limit=3)
    ordered = schulze(scores, max_entries=4)
    assert not isinstance(ordered, TooManyEntries)
    assert [row.entry_id for row in ordered] == [10, 20, 30, 40]
