"""A round's ranking as one reader may see it: read from the jury's tables, summed up by aggregation.py, fitted
by calibration.py, ordered again by orderings.py. Every face (the page, its pictures, the CSV, the API, the
decisions' evidence) reads it from here.

Rules:
- Counted: submitted reviews of entries still in the round (not left out). Drafts and abstentions are not
  counted; an entry without a counted review has no score and comes last.
- A review's score is its weighted mean on the criteria's scale (jury.reviews.weighted_mean); the round's scale
  is the range of such a mean.
- Who reads it: selection.permissions.can_see_ranking; NotFound for everyone else.
- What a conflicted reader sees: the round without the entries of the startups they are conflicted with —
  those entries and all of their reviews are left out before anything is computed, so no rank, calibrated
  score, juror severity or ordering carries a trace of them.
- In a blind round a juror reading the ranking sees no startup name (titles with its names hidden) and no other
  juror's name (as in jury.records).
- Constant number of queries whatever the size of the round.
- The scores' computation (statistics, calibration) is kept per process under the exact inputs it came from
  (`_computation_key`) and reused while they have not changed: the pages of a ranking, its CSV and the API's
  pages compute it once. Titles, names and what the reader may know of them are read for every request.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np
from sqlalchemy import Select, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.accounts.models import Organisation
from app.errors import NotFound
from app.jury import conflicts
from app.jury import records as jury_records
from app.jury import reviews as jury_reviews
from app.jury.models import Juror, JuryAssignment, JuryCriterion, JuryEntry, JuryReview, ReviewStatus
from app.jury.records import RoundView
from app.proposals.models import Proposal
from app.selection import permissions as can
from app.selection.aggregation import EntryStats, IntArray, ReviewArrays, Scale, aggregate_arrays
from app.selection.calibration import Calibrated, Refused, calibrate
from app.selection.orderings import Ranked, TooManyEntries, borda, schulze

DONE = (ReviewStatus.submitted, ReviewStatus.abstained)
T = TypeVar("T")


@dataclass(frozen=True)
class RankedEntry:
    """One row of the ranking."""

    entry_id: int
    proposal_id: int
    startup_id: int
    title: str
    startup_name: str | None  # None where the reader may not know it (a blind round, for a juror)
    stats: EntryStats
    scores: tuple[float, ...]  # the counted reviews' weighted scores, lowest first (the strip plot)
    calibrated_score: float | None
    calibrated_rank: int | None

    @property
    def rank(self) -> int | None:
        return self.stats.rank

    @property
    def move(self) -> int | None:
        """Places gained by calibration (negative: lost); None where either rank is missing."""
        if self.stats.rank is None or self.calibrated_rank is None:
            return None
        return self.stats.rank - self.calibrated_rank


@dataclass(frozen=True)
class JurorSeverity:
    juror_id: int
    name: str | None  # None where the reader may not know who the juror is
    reviews: int
    mean: float
    bias: float | None  # points above the round's average juror, from the calibration; None if refused
    scale: float | None


@dataclass
class Ranking:
    view: RoundView
    criteria: list[JuryCriterion]
    scale: Scale | None  # None when the round has no criteria
    rows: list[RankedEntry]  # in raw rank order, the entries without a review last
    calibration: Calibrated | Refused | None  # None when nothing is scored yet
    jurors: list[JurorSeverity]
    pairs: dict[tuple[int, int], float] = field(repr=False)  # (juror id, entry id) → weighted score
    juror_scale: bool = False

    def row(self, entry_id: int) -> RankedEntry:
        for row in self.rows:
            if row.entry_id == entry_id:
                return row
        raise NotFound()

    @property
    def calibrated(self) -> Calibrated | None:
        return self.calibration if isinstance(self.calibration, Calibrated) else None

    @property
    def refused(self) -> Refused | None:
        return self.calibration if isinstance(self.calibration, Refused) else None

    @cached_property
    def borda(self) -> tuple[Ranked, ...]:
        return borda(self.pairs)

    @cached_property
    def schulze(self) -> tuple[Ranked, ...] | TooManyEntries:
        return schulze(self.pairs)


def own_done(session: Session, view: RoundView) -> bool:
    """The reader has no assignment of the round left to do (true of a juror given none)."""
    return all(status in DONE for status in jury_reviews.own_statuses(session, view).values())


def may_see(session: Session, view: RoundView) -> bool:
    return can.can_see_ranking(
        view.round,
        staff=view.staff,
        juror=view.is_juror,
        own_done=view.is_juror and not view.staff and own_done(session, view),
        now=view.now,
    )


def ranking(session: Session, view: RoundView, *, juror_scale: bool = False) -> Ranking:
    """The round's ranking as the view's reader may see it (see the module's rules)."""
    if not may_see(session, view):
        raise NotFound()
    criteria = view.criteria
    entries = _fetch_all(
        session,
        _readable(
            view,
            sa_select(
                col(JuryEntry.id),
                col(JuryEntry.proposal_id),
                col(Proposal.title),
                col(Organisation.id),
                col(Organisation.name),
            )
            .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
            .join(Organisation, col(Organisation.id) == Proposal.startup_id),
        ),
    )
    entry_ids = [entry_id or 0 for entry_id, *_ in entries]
    computed = _computed(session, view, entry_ids, juror_scale)
    calibration, pairs = computed.calibration, computed.pairs
    low, high = jury_reviews.weighted_scale(criteria)
    scale = Scale(low, high) if high > low else None
    calibrated = calibration if isinstance(calibration, Calibrated) else None

    hidden = _hidden_names(session, view) if view.blind_for_reader else None
    shown = (tuple(entries), None if hidden is None else tuple(sorted((k, tuple(v)) for k, v in hidden.items())))
    rows = COMPUTATIONS.get(("rows", *computed.key, shown), lambda: _rows(entries, computed, hidden))
    return Ranking(
        view,
        criteria,
        scale,
        rows,
        calibration,
        _severities(session, view, computed.per_juror, calibrated),
        pairs,
        juror_scale,
    )


@dataclass(frozen=True)
class _Computation:
    """What the ranking computes from the scores alone, the same for every reader of the same entries."""

    stats: list[EntryStats]
    calibration: Calibrated | Refused | None
    pairs: dict[tuple[int, int], float]
    scores_of: dict[int, tuple[float, ...]]
    per_juror: dict[int, tuple[int, float]]  # juror id → number of counted reviews, their mean score
    key: tuple[object, ...]


class _Kept:
    """The last few results, each under the exact inputs it came from (see `_computation_key`): a request whose
    inputs match one reuses it, any change to them builds anew. Per process; a process that has not seen the
    change has nothing under its new key, so nothing is ever served stale across processes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.kept: OrderedDict[tuple[object, ...], Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[object, ...], build: Callable[[], T]) -> T:
        with self.lock:
            if key in self.kept:
                self.kept.move_to_end(key)
                return cast(T, self.kept[key])
        value = build()
        with self.lock:
            self.kept[key] = value
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.kept.clear()


COMPUTATIONS = _Kept(size=16)  # a computation and the rows built from it, per round and reader's entries


def _computed(session: Session, view: RoundView, entry_ids: list[int], juror_scale: bool) -> _Computation:
    key = _computation_key(session, view, entry_ids, juror_scale)
    return COMPUTATIONS.get(key, lambda: _compute(session, view, entry_ids, juror_scale, key))


def _compute(
    session: Session, view: RoundView, entry_ids: list[int], juror_scale: bool, key: tuple[object, ...]
) -> _Computation:
    reviews = _counted_reviews(session, view)
    keys = zip(reviews.juror.tolist(), reviews.arrays.entry.tolist(), strict=True)
    pairs = dict(zip(keys, reviews.arrays.score.tolist(), strict=True))
    low, high = jury_reviews.weighted_scale(view.criteria)
    stats = aggregate_arrays(entry_ids, reviews.arrays, Scale(low, high)) if high > low else []
    calibration = calibrate(pairs, juror_scale=juror_scale) if pairs else None
    jurors, counts = np.unique(reviews.juror, return_counts=True)
    sums = np.bincount(np.searchsorted(jurors, reviews.juror), weights=reviews.arrays.score, minlength=len(jurors))
    per_juror = {int(j): (int(n), float(total / n)) for j, n, total in zip(jurors, counts, sums, strict=True)}
    return _Computation(stats, calibration, pairs, reviews.arrays.scores_by_entry(), per_juror, key)


def _computation_key(session: Session, view: RoundView, entry_ids: list[int], juror_scale: bool) -> tuple[object, ...]:
    """Everything the computation depends on, exactly: the round, its criteria as they are, the very entries
    the reader may see (their ids, so that two readers left different entries by their conflicts never share
    one), and the state of the reviews: their number, the highest id and the latest change, over all rounds
    (three index lookups; a change to any review computes anew — every change goes through
    jury.reviews.save_review, which dates it; a removed review changes the number)."""
    reviews = session.execute(  # one subquery each, so that each uses its index
        sa_select(
            sa_select(func.count(col(JuryReview.id))).scalar_subquery(),
            sa_select(func.max(col(JuryReview.id))).scalar_subquery(),
            sa_select(func.max(col(JuryReview.updated_at))).scalar_subquery(),
        )
    ).one()
    criteria = tuple((c.id, c.weight, c.min_score, c.max_score) for c in view.criteria)
    entries = hashlib.sha256(np.array(sorted(entry_ids), dtype=np.int64).tobytes()).hexdigest()
    return (view.id, criteria, entries, tuple(reviews), juror_scale)


def _rows(entries: list[tuple], computed: "_Computation", hidden: dict[int, list[str]] | None) -> list[RankedEntry]:  # type: ignore[type-arg]
    """The ranking's rows: the computation's statistics with each entry's title and startup as the reader may
    know them (in a blind round, the startup's names hidden from the title and no startup name)."""
    described = {entry_id: rest for entry_id, *rest in entries}
    calibrated = computed.calibration if isinstance(computed.calibration, Calibrated) else None
    rows = []
    for s in computed.stats:
        proposal_id, title, startup_id, startup_name = described[s.entry_id]
        if hidden is not None:
            title = str(jury_records.redact({"title": title}, hidden.get(startup_id or 0, []))["title"])
        rows.append(
            RankedEntry(
                entry_id=s.entry_id,
                proposal_id=proposal_id,
                startup_id=startup_id or 0,
                title=title,
                startup_name=None if hidden is not None else startup_name,
                stats=s,
                scores=computed.scores_of.get(s.entry_id, ()),
                calibrated_score=calibrated.scores.get(s.entry_id) if calibrated else None,
                calibrated_rank=calibrated.ranks.get(s.entry_id) if calibrated else None,
            )
        )
    return rows


Query = TypeVar("Query", bound=Select)  # type: ignore[type-arg]


def _readable(view: RoundView, query: Query) -> Query:
    """The query (joined to the entries and their proposals) narrowed to the entries still in the round whose
    startup the reader is not conflicted with: the SQL form of jury.records.reader_conflicts, so that a
    conflicted entry's rows are never read, nor sent to the database as a list of ids."""
    query = query.where(col(JuryEntry.round_id) == view.id, col(JuryEntry.excluded_at).is_(None))
    user = view.actor.user
    if user is not None and user.id is not None:
        query = query.where(col(Proposal.startup_id).not_in(conflicts.conflicted_startups(user)))
    return query


@dataclass(frozen=True)
class _Counted:
    arrays: ReviewArrays
    juror: IntArray  # each review's juror id


def _counted_reviews(session: Session, view: RoundView) -> _Counted:
    """The submitted reviews of the entries the reader may see, with their weighted scores, read as numbers by
    the database (each criterion's score out of the JSON): no JSON is parsed here."""
    criteria = view.criteria
    columns = [JuryReview.scores[str(c.id)].as_float() for c in criteria]
    found = _fetch_all(
        session,
        _readable(
            view,
            sa_select(col(JuryAssignment.entry_id), col(JuryAssignment.juror_id), *columns)
            .join(JuryReview, col(JuryReview.assignment_id) == JuryAssignment.id)
            .join(JuryEntry, col(JuryEntry.id) == JuryAssignment.entry_id)
            .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
            .where(col(JuryReview.status) == ReviewStatus.submitted),
        ),
    )
    table = np.array(found, dtype=np.float64).reshape(len(found), 2 + len(criteria))
    scores = table[:, 2:]
    complete = ~np.isnan(scores).any(axis=1)  # as jury.reviews.weighted_mean: every criterion scored
    table, scores = table[complete], scores[complete]
    weights = np.array([c.weight for c in criteria], dtype=np.float64)
    total = float(weights.sum())
    weighted = scores @ weights / total if total else np.zeros(len(table))
    return _Counted(
        ReviewArrays(table[:, 0].astype(np.int64), weighted, scores, tuple(c.id or 0 for c in criteria)),
        table[:, 1].astype(np.int64),
    )


def _fetch_all(session: Session, query: Select) -> list[tuple]:  # type: ignore[type-arg]
    """The query's rows as the driver's tuples: no result rows built for 50,000 reviews or 10,000 entries (they
    cost more than the query); the columns' types are the driver's (integers, text, floats by a cast)."""
    result = session.connection().execute(query)
    try:
        return list(result.cursor.fetchall()) if result.cursor is not None else []
    finally:
        result.close()


def _hidden_names(session: Session, view: RoundView) -> dict[int, list[str]]:
    """Per startup of the round, the names a blind round hides from this reader."""
    startups = session.exec(
        _readable(
            view,
            select(Organisation)
            .join(Proposal, col(Proposal.startup_id) == Organisation.id)
            .join(JuryEntry, col(JuryEntry.proposal_id) == Proposal.id),
        )
    ).all()
    return jury_records.identities(session, startups)


def _severities(
    session: Session, view: RoundView, per_juror: dict[int, tuple[int, float]], calibrated: Calibrated | None
) -> list[JurorSeverity]:
    names = dict(session.exec(select(Juror.id, Juror.name).where(Juror.round_id == view.id)).all())
    own = view.seat.id if view.seat is not None else None
    named = view.staff or not view.round.blind
    found = [
        JurorSeverity(
            juror_id=juror_id,
            name=names.get(juror_id) if named or juror_id == own else None,
            reviews=reviews,
            mean=mean,
            bias=calibrated.biases.get(juror_id) if calibrated else None,
            scale=calibrated.scales.get(juror_id) if calibrated else None,
        )
        for juror_id, (reviews, mean) in per_juror.items()
    ]
    return sorted(found, key=lambda j: (j.bias if j.bias is not None else j.mean, j.juror_id))


def rows_by_proposal(ranking_: Ranking) -> dict[int, RankedEntry]:
    return {row.proposal_id: row for row in ranking_.rows}


def ranked_proposals(rows: Sequence[RankedEntry], top: int) -> list[RankedEntry]:
    """The first `top` rows by raw rank (the cut line): "shortlist the top N"."""
    return [row for row in rows if row.rank is not None][:top]
