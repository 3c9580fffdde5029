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


def collect(session: Session, entry_id: int, criteria: list[JuryCriterion]) -> Evidence:
    """The entry's counted reviews as they are on record now."""
    found = session.exec(
        select(JuryReview, JuryAssignment.juror_id)
        .join(JuryAssignment, col(JuryAssignment.id) == JuryReview.assignment_id)
        .where(JuryAssignment.entry_id == entry_id, JuryReview.status == ReviewStatus.submitted)
        .order_by(col(JuryReview.id))
    ).all()
    written = []
    for review, juror_id in found:
        score = jury_reviews.weighted_mean(review.scores, criteria)
        if score is None:
            continue
        submitted = review.submitted_at
        submitted_at = submitted.astimezone(UTC).isoformat(timespec="microseconds") if submitted else None
        written.append(
            {
                "review": review.id,
                "juror": juror_id,
                "submitted_at": submitted_at,
                "scores": {str(c.id): _number(review.scores[str(c.id)]) for c in criteria},
                "weighted_score": _number(score),
            }
        )
    return Evidence({"entry": entry_id, "count": len(written), "reviews": written})


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
    if decision.reviews_sha256 is None:
        return None
    now = collect(session, decision.entry_id, criteria)
    return Check(decision.reviews_sha256, now.sha256, now.count)
