"""Who may do what in a jury: small pure predicates, deny by default.

A round belongs to a challenge; the challenge's staff (its sponsors' members, the programme operator's members,
platform admins) run it. A juror is a user added to the round (an invited outside expert becomes one when they
accept). Jurors see a round once it is open; staff see it from its draft.

- A juror sees only their own assignments, in an open or closed round, and never one whose startup they are
  conflicted with (conflicts.py): that is a 404, as for a record they may not know exists. The staff too are
  shown nothing of an entry they are conflicted with on the jury's pages, except the conflict itself.
- Reviews are written while the round accepts them: opened by the staff, from its opening time until its
  closing time by the server clock (a round past its closing time is closed, whatever its stored status).
- Others' reviews and aggregates: the staff always; a juror as the round's `others_visible` says: after their
  own review is in (`after_own`), once the round is closed (`after_close`), or `never`. Where an abstention
  showed them (`after_own`), the juror may not submit scores after it.
- Criteria change only while the round is a draft.

A rule that also filters lists keeps its SQL form beside it (juror_rounds beside is_juror).
"""

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false
from sqlmodel import col, select

from app.jury.models import Juror, JuryRound, OthersVisible, ReviewStatus, RoundStatus
from app.security.actor import Actor


def effective_status(round_: JuryRound, now: datetime) -> str:
    """The round's status by the server clock: an open round past its closing time is closed."""
    if round_.status == RoundStatus.open and now >= round_.closes_at:
        return RoundStatus.closed
    return round_.status


def accepts_reviews(round_: JuryRound, now: datetime) -> bool:
    return round_.status == RoundStatus.open and round_.opens_at <= now < round_.closes_at


def is_juror(actor: Actor, juror: Juror | None) -> bool:
    """The actor sits on the round as this juror (an invitation not yet accepted makes no juror)."""
    return (
        juror is not None
        and actor.is_authenticated
        and juror.user_id is not None
        and juror.user_id == actor.user_id
        and juror.accepted_at is not None
    )


def juror_rounds(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of is_juror on a round: the rounds the actor sits on, with their juror rows joined."""
    if not actor.is_authenticated:
        return false()
    seats = select(Juror.round_id).where(Juror.user_id == actor.user_id, col(Juror.accepted_at).is_not(None))
    return and_(col(JuryRound.id).in_(seats), col(JuryRound.status) != RoundStatus.draft)


def can_view_round(actor: Actor, round_: JuryRound, *, staff: bool, juror: Juror | None) -> bool:
    return staff or (is_juror(actor, juror) and round_.status != RoundStatus.draft)


def can_manage_round(*, staff: bool) -> bool:
    return staff


def can_edit_criteria(round_: JuryRound) -> bool:
    return round_.status == RoundStatus.draft


def can_edit_settings(round_: JuryRound, now: datetime) -> bool:
    """Name, times, load and visibility change until the round is closed; criteria only while it is a draft."""
    return effective_status(round_, now) in (RoundStatus.draft, RoundStatus.open)


def can_open_round(round_: JuryRound) -> bool:
    return round_.status == RoundStatus.draft


def can_close_round(round_: JuryRound, now: datetime) -> bool:
    return round_.status == RoundStatus.open


def can_view_assignment(actor: Actor, round_: JuryRound, juror: Juror, *, staff: bool, conflicted: bool) -> bool:
    """The juror's own assignment in a round they see, or the staff; never across a conflict."""
    if conflicted:
        return False
    return staff or (is_juror(actor, juror) and round_.status != RoundStatus.draft)


def can_write_review(actor: Actor, round_: JuryRound, juror: Juror, *, conflicted: bool, now: datetime) -> bool:
    return is_juror(actor, juror) and not conflicted and accepts_reviews(round_, now)


def can_score_after(round_: JuryRound, own_status: str | None) -> bool:
    """Whether the juror may submit scores now: not after an abstention where abstaining showed them the
    others' reviews (`after_own`), which they would then score knowing."""
    return not (round_.others_visible == OthersVisible.after_own and own_status == ReviewStatus.abstained)


def can_see_others(round_: JuryRound, *, staff: bool, own_status: str | None, now: datetime) -> bool:
    """Whether the reader may see the other reviews of an entry and the round's aggregates."""
    if staff:
        return True
    if round_.others_visible == OthersVisible.after_own:
        return own_status in (ReviewStatus.submitted, ReviewStatus.abstained)
    if round_.others_visible == OthersVisible.after_close:
        return effective_status(round_, now) in (RoundStatus.closed, RoundStatus.decided)
    return False


def can_declare_conflict(actor: Actor, *, staff: bool, juror: Juror | None, for_user_id: int | None) -> bool:
    """A juror declares their own conflicts; the staff declare one for any juror of the round."""
    if staff:
        return True
    return is_juror(actor, juror) and (for_user_id is None or for_user_id == actor.user_id)
