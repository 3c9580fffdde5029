"""The jury's automatic assignment (app/jury/assignment.py) on small rounds whose answers were worked out by hand:
conflicts, distinct jurors, balanced loads, max_load, kept pairs, preferences, shortfalls and determinism."""

import random

import pytest

from app.jury.assignment import Bid, Entry, Juror, Shortfall, Unfilled, assign


def entries(*ids: int) -> list[Entry]:
    return [Entry(entry_id) for entry_id in ids]


def jurors(*ids: int) -> list[Juror]:
    return [Juror(juror_id) for juror_id in ids]


def jurors_of(solution, entry_id: int) -> set[int]:
    return {juror_id for juror_id, entry in solution.pairs if entry == entry_id}


def test_four_entries_with_two_reviews_over_three_jurors_load_them_three_three_and_two():
    solution = assign(entries(10, 20, 30, 40), jurors(1, 2, 3), reviews_per_entry=2)

    assert sorted(solution.loads.values()) == [2, 3, 3]
    assert (solution.min_load, solution.max_load) == (2, 3)
    assert all(len(jurors_of(solution, entry_id)) == 2 for entry_id in (10, 20, 30, 40))
    assert len(solution.pairs) == 8
    assert solution.new_pairs == solution.pairs
    assert solution.unfilled == ()


def test_conflicts_are_honoured_and_the_only_balanced_answer_is_found():
    # Loads must be 2, 2, 2: entry 10 can only go to 2 and 3, entry 20 to 1 and 3, so 30 to 1 and 2.
    solution = assign(entries(10, 20, 30), jurors(1, 2, 3), reviews_per_entry=2, conflicts=[(1, 10), (2, 20)])

    assert solution.pairs == {(2, 10), (3, 10), (1, 20), (3, 20), (1, 30), (2, 30)}
    assert solution.loads == {1: 2, 2: 2, 3: 2}


def test_an_entry_never_gets_the_same_juror_twice_even_when_short():
    solution = assign(entries(10), jurors(1, 2), reviews_per_entry=3)

    assert solution.pairs == {(1, 10), (2, 10)}
    assert solution.unfilled == (Unfilled(entry_id=10, missing=1, reason=Shortfall.too_few_jurors),)


def test_max_load_is_respected_and_the_shortfall_reported_as_max_load():
    # Jurors 1 and 2 are full with entry 10 (kept), so entry 20 gets juror 3 only.
    solution = assign(entries(10, 20), jurors(1, 2, 3), reviews_per_entry=2, max_load=1, kept=[(1, 10), (2, 10)])

    assert solution.pairs == {(1, 10), (2, 10), (3, 20)}
    assert solution.new_pairs == {(3, 20)}
    assert solution.loads == {1: 1, 2: 1, 3: 1}
    assert solution.unfilled == (Unfilled(entry_id=20, missing=1, reason=Shortfall.max_load),)


def test_max_load_caps_every_juror_when_the_round_is_too_big():
    solution = assign(entries(10, 20, 30), jurors(1, 2), reviews_per_entry=2, max_load=2)

    assert solution.loads == {1: 2, 2: 2}
    assert sum(unfilled.missing for unfilled in solution.unfilled) == 2
    assert {unfilled.reason for unfilled in solution.unfilled} == {Shortfall.max_load}


def test_conflicts_that_leave_too_few_jurors_for_an_entry_are_reported_as_conflicts():
    # Entry 10 can only have juror 3; entry 20 then takes 1 and 2, which keeps every load at one.
    solution = assign(entries(10, 20), jurors(1, 2, 3), reviews_per_entry=2, conflicts=[(1, 10), (2, 10)])

    assert solution.pairs == {(3, 10), (1, 20), (2, 20)}
    assert solution.unfilled == (Unfilled(entry_id=10, missing=1, reason=Shortfall.conflicts),)


def test_a_round_without_jurors_reports_every_entry_as_too_few_jurors():
    solution = assign(entries(10, 20), [], reviews_per_entry=1)

    assert solution.pairs == frozenset()
    assert solution.loads == {}
    assert (solution.min_load, solution.max_load) == (0, 0)
    assert solution.unfilled == (
        Unfilled(entry_id=10, missing=1, reason=Shortfall.too_few_jurors),
        Unfilled(entry_id=20, missing=1, reason=Shortfall.too_few_jurors),
    )


def test_kept_pairs_stay_and_count_toward_the_loads():
    # Three reviews over three jurors: juror 1 already has one (kept), so entries 20 and 30 go to 2 and 3.
    solution = assign(entries(10, 20, 30), jurors(1, 2, 3), reviews_per_entry=1, kept=[(1, 10)])

    assert (1, 10) in solution.pairs
    assert (1, 10) not in solution.new_pairs
    assert solution.loads == {1: 1, 2: 1, 3: 1}
    assert {juror_id for juror_id, _ in solution.new_pairs} == {2, 3}
    assert {entry_id for _, entry_id in solution.new_pairs} == {20, 30}


def test_a_juror_whose_kept_load_passes_the_target_gets_no_new_pair():
    solution = assign(entries(10, 20, 30, 40), jurors(1, 2), reviews_per_entry=1, kept=[(1, 10), (1, 20), (1, 30)])

    assert solution.new_pairs == {(2, 40)}
    assert solution.loads == {1: 3, 2: 1}


def test_kept_pairs_beyond_the_reviews_asked_stay_and_the_entry_needs_nothing_more():
    solution = assign(entries(10, 20), jurors(1, 2, 3), reviews_per_entry=1, kept=[(1, 10), (2, 10)])

    assert solution.new_pairs == {(3, 20)}
    assert solution.loads == {1: 1, 2: 1, 3: 1}


def test_a_kept_pair_that_is_also_a_conflict_is_dropped_and_refilled():
    solution = assign(entries(10), jurors(1, 2), reviews_per_entry=1, kept=[(1, 10)], conflicts=[(1, 10)])

    assert solution.pairs == {(2, 10)}
    assert solution.new_pairs == {(2, 10)}
    assert solution.loads == {1: 0, 2: 1}


def test_an_eager_bid_wins_when_the_balance_allows():
    solution = assign(entries(10, 20), jurors(1, 2), reviews_per_entry=1, bids={(2, 10): Bid.eager})

    assert solution.pairs == {(2, 10), (1, 20)}


def test_an_eager_bid_does_not_beat_the_balance():
    bids = {(1, 10): Bid.eager, (1, 20): Bid.eager}
    solution = assign(entries(10, 20), jurors(1, 2), reviews_per_entry=1, bids=bids)

    assert solution.loads == {1: 1, 2: 1}


def test_matching_themes_win_when_the_balance_allows():
    solution = assign(
        [Entry(10, frozenset({"water"})), Entry(20, frozenset({"energy"}))],
        [Juror(1, frozenset({"energy", "mobility"})), Juror(2, frozenset({"water"}))],
        reviews_per_entry=1,
    )

    assert solution.pairs == {(2, 10), (1, 20)}


def test_an_eager_bid_beats_a_matching_theme():
    # Juror 1 shares entry 10's theme, juror 2 is eager for it: eager (1) + neutral (3) beats theme (2) + neutral.
    solution = assign(
        [Entry(10, frozenset({"water"})), Entry(20)],
        [Juror(1, frozenset({"water"})), Juror(2)],
        reviews_per_entry=1,
        bids={(2, 10): Bid.eager},
    )

    assert solution.pairs == {(2, 10), (1, 20)}


def test_an_unwilling_juror_is_avoided_when_another_fits():
    solution = assign(entries(10, 20), jurors(1, 2), reviews_per_entry=1, bids={(1, 10): Bid.unwilling})

    assert solution.pairs == {(2, 10), (1, 20)}


def test_an_unwilling_juror_is_avoided_even_when_that_costs_two_perfect_pairs():
    # Each juror takes one entry (balance). Juror 3 on 10 (unwilling) would leave 20 and 30 to jurors 1 and 2,
    # eager with a matching theme (cost 0 each); juror 3 on 20 or 30 instead costs two neutral pairs (3 + 3),
    # and must still win.
    theme = frozenset({"water"})
    bids = {(3, 10): Bid.unwilling, (3, 20): Bid.willing}
    bids |= {(juror_id, entry_id): Bid.eager for juror_id in (1, 2) for entry_id in (20, 30)}
    solution = assign(
        [Entry(10), Entry(20, theme), Entry(30, theme)],
        [Juror(1, theme), Juror(2, theme), Juror(3)],
        reviews_per_entry=1,
        bids=bids,
    )

    assert solution.loads == {1: 1, 2: 1, 3: 1}
    assert jurors_of(solution, 10) in ({1}, {2})


def test_an_unwilling_juror_is_chosen_when_nothing_else_fits():
    solution = assign(entries(10), jurors(1, 2), reviews_per_entry=2, bids={(1, 10): Bid.unwilling})

    assert solution.pairs == {(1, 10), (2, 10)}
    assert solution.unfilled == ()


def test_every_review_is_placed_even_when_conflicts_forbid_a_balanced_round():
    # Juror 3 is conflicted with every entry: placing the three reviews comes before the balance.
    conflicts = [(3, 10), (3, 20), (3, 30)]
    solution = assign(entries(10, 20, 30), jurors(1, 2, 3), reviews_per_entry=1, conflicts=conflicts)

    assert sorted(solution.loads.values()) == [0, 1, 2]
    assert solution.unfilled == ()


def test_conflicts_and_bids_outside_the_round_are_ignored():
    solution = assign(
        entries(10), jurors(1), reviews_per_entry=1, conflicts=[(1, 99), (7, 10)], bids={(7, 10): Bid.eager}
    )

    assert solution.pairs == {(1, 10)}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"entries": entries(10, 10), "jurors": jurors(1), "reviews_per_entry": 1}, "each entry"),
        ({"entries": entries(10), "jurors": jurors(1, 1), "reviews_per_entry": 1}, "each juror"),
        ({"entries": entries(10), "jurors": jurors(1), "reviews_per_entry": 0}, "reviews_per_entry"),
        ({"entries": entries(10), "jurors": jurors(1), "reviews_per_entry": 1, "max_load": -1}, "max_load"),
        ({"entries": entries(10), "jurors": jurors(1), "reviews_per_entry": 1, "kept": [(2, 10)]}, "not in the round"),
    ],
)
def test_a_malformed_round_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        assign(**arguments)


def test_the_same_round_gives_the_same_answer_whatever_the_order_of_the_input():
    rng = random.Random(12)
    themes = ["water", "energy", "mobility", "waste", "health"]
    round_entries = [Entry(100 + n, frozenset(rng.sample(themes, 2))) for n in range(60)]
    round_jurors = [Juror(n, frozenset(rng.sample(themes, 2))) for n in range(1, 9)]
    conflicts = {(juror.id, entry.id) for juror in round_jurors for entry in round_entries if rng.random() < 0.1}
    bids = {(rng.randint(1, 8), rng.randint(100, 159)): rng.choice(list(Bid)) for _ in range(40)}

    def solve(entry_order: list[Entry], juror_order: list[Juror]):
        return assign(entry_order, juror_order, reviews_per_entry=3, conflicts=conflicts, bids=bids)

    first = solve(round_entries, round_jurors)
    assert solve(round_entries, round_jurors) == first
    assert solve(round_entries[::-1], round_jurors[::-1]) == first
    # 180 reviews over 8 jurors: 22 or 23 each, none conflicted, each entry 3 distinct jurors.
    assert sorted(set(first.loads.values())) == [22, 23]
    assert not first.pairs & conflicts
    assert all(len(jurors_of(first, entry.id)) == 3 for entry in round_entries)
