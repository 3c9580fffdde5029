"""The evidence a decision rests on: the canonical JSON of the entry's counted reviews and its SHA-256.

Rules:
- Counted, as in the ranking (ranking.py): the submitted reviews of the entry whose every criterion is scored.
  Drafts and abstentions are not evidence.
- Each review is written as its id, its juror's id (the juror row of the round, never a name), its submission
  time (UTC, ISO 8601 with microseconds), its score per criterion id and its weighted score (rounded to 9
  decimals: below any step of a scale, above the noise of float summation), in review id order; with them the
  entry's id and how many reviews there are.
- Canonical JSON: keys sorted, no spaces, UTF-8 (ensure_ascii off); the hash is the SHA-256 of those bytes, in
  lower-case hex. The same reviews give the same bytes on SQLite and PostgreSQL, today and later: a decision's
  hash can be checked again against the reviews on record (`check`).
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlmodel import Session, col, select

from app.jury import reviews as jury_reviews
from app.jury.models import JuryAssignment, JuryCriterion, JuryReview, ReviewStatus
from app.selection.models import SelectionDecision

DECIMALS = 9


@dataclass(frozen=True)
class Evidence:
    document: dict[str, Any]

    @property
    def count(self) -> int:
        return int(self.document["count"])

    @property
    def canonical(self) -> bytes:
        return canonical_json(self.document)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _number(value: Any) -> float:
    return round(float(value), DECIMALS)


def collect_many(session: Session, entry_ids: Sequence[int], criteria: list[JuryCriterion]) -> dict[int, Evidence]:
    """The counted reviews of these entries as they are on record now, in one query."""
    found = session.exec(
        select(JuryReview, JuryAssignment.juror_id, JuryAssignment.entry_id)
        .join(JuryAssignment, col(JuryAssignment.id) == JuryReview.assignment_id)
        .where(col(JuryAssignment.entry_id).in_(list(entry_ids) or [-1]), JuryReview.status == ReviewStatus.submitted)
        .order_by(col(JuryReview.id))
    ).all()
    written: dict[int, list[dict[str, Any]]] = {entry_id: [] for entry_id in entry_ids}
    for review, juror_id, entry_id in found:
        score = jury_reviews.weighted_mean(review.scores, criteria)
        if score is None:
            continue
        submitted = review.submitted_at
        written[entry_id].append(
            {
                "review": review.id,
                "juror": juror_id,
                "submitted_at": submitted.astimezone(UTC).isoformat(timespec="microseconds") if submitted else None,
                "scores": {str(c.id): _number(review.scores[str(c.id)]) for c in criteria},
                "weighted_score": _number(score),
            }
        )
    return {
        entry_id: Evidence({"entry": entry_id, "count": len(reviews), "reviews": reviews})
        for entry_id, reviews in written.items()
    }


def collect(session: Session, entry_id: int, criteria: list[JuryCriterion]) -> Evidence:
    """The entry's counted reviews as they are on record now."""
    return collect_many(session, [entry_id], criteria)[entry_id]


@dataclass(frozen=True)
class Check:
    """A confirmed decision's hash against the reviews on record now."""

    recorded: str
    current: str
    count: int

    @property
    def matches(self) -> bool:
        return self.recorded == self.current


def check(session: Session, decision: SelectionDecision, criteria: list[JuryCriterion]) -> Check | None:
    """None for a decision that records no evidence (not confirmed)."""
    return check_many(session, [decision], criteria).get(decision.id or 0)


def check_many(
    session: Session, decisions: Sequence[SelectionDecision], criteria: list[JuryCriterion]
) -> dict[int, Check]:
    """By decision id, the checks of those of these decisions that record evidence, in one query."""
    recorded = [d for d in decisions if d.reviews_sha256 is not None]
    now = collect_many(session, [d.entry_id for d in recorded], criteria) if recorded else {}
    return {d.id or 0: Check(d.reviews_sha256 or "", now[d.entry_id].sha256, now[d.entry_id].count) for d in recorded}
