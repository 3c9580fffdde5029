"""Who may do what in a selection: small pure predicates, deny by default.

- The ranking (and every view derived from it: calibration, Borda, Schulze, the pictures, the CSV): the
  challenge's staff; a juror of the round as its `others_visible` says — `after_own`: once none of their own
  assignments is left to do; `after_close`: once the round is closed; `never`: not at all. Anyone else: 404.
  Whoever reads it, the entries whose startup they are conflicted with are not in it, nor in anything computed
  from it (ranks, calibration, orderings): a conflicted reader learns nothing, not even from a rank's gap.
- Deliberation on an entry: the staff, and the round's jurors, never across a conflict; a juror once they may
  see others' reviews of that entry (jury.permissions.can_see_others, as their own review of it stands, or as
  all their assignments stand when it is not theirs).
- Staff notes: the staff only (a conflicted member of the staff does not see the entry's).
- Decisions are proposed by the staff once the round is closed (the scores behind a decision no longer move),
  and after it is published for promotions from the waitlist only (`selected` for an entry waitlisted); a
  member of the staff other than the proposer confirms; the proposer or any member of the staff withdraws a
  proposal not yet confirmed. A member of the staff conflicted with an entry's startup does none of it on that
  entry (404, as on the jury's pages).
- Publishing: the staff, once the round is closed; not a member of the staff conflicted with one of the
  round's startups (the publication acts on every entry, theirs included).
"""

from datetime import datetime

from app.jury import permissions as jury_can
from app.jury.models import JuryRound, OthersVisible, RoundStatus


def juror_sees_ranking(round_: JuryRound, *, own_done: bool, now: datetime) -> bool:
    """A seated juror's view of the round's aggregates."""
    status = jury_can.effective_status(round_, now)
    if status == RoundStatus.draft:
        return False
    if round_.others_visible == OthersVisible.after_own:
        return own_done
    if round_.others_visible == OthersVisible.after_close:
        return status in (RoundStatus.closed, RoundStatus.decided)
    return False


def can_see_ranking(round_: JuryRound, *, staff: bool, juror: bool, own_done: bool, now: datetime) -> bool:
    if staff:
        return True
    return juror and juror_sees_ranking(round_, own_done=own_done, now=now)


def can_decide(round_: JuryRound, *, staff: bool, now: datetime) -> bool:
    """Decisions are proposed and confirmed once the round is closed (its scores no longer move), and after it
    is published for the waitlist's promotions."""
    return staff and jury_can.effective_status(round_, now) in (RoundStatus.closed, RoundStatus.decided)


def can_confirm(*, staff: bool, actor_user_id: int | None, proposed_by_id: int | None) -> bool:
    """Two people: the one who proposed a decision never confirms it."""
    return staff and actor_user_id is not None and actor_user_id != proposed_by_id


def can_propose(round_: JuryRound, *, staff: bool, now: datetime, promotion: bool) -> bool:
    """`promotion`: the decision proposed is `selected` and the entry's decision in force is `waitlisted`. (The
    entries of a conflicted member of the staff are not loaded for them: 404, before this.)"""
    if not can_decide(round_, staff=staff, now=now):
        return False
    return jury_can.effective_status(round_, now) == RoundStatus.closed or promotion


def can_withdraw(*, staff: bool, actor_user_id: int | None, proposed_by_id: int | None) -> bool:
    if actor_user_id is None:
        return False
    return staff or actor_user_id == proposed_by_id


def can_publish(round_: JuryRound, *, staff: bool, now: datetime, conflicted: bool = False) -> bool:
    return staff and not conflicted and jury_can.effective_status(round_, now) == RoundStatus.closed


def can_deliberate(*, staff: bool, juror: bool, conflicted: bool, sees_others: bool) -> bool:
    if conflicted:
        return False
    return staff or (juror and sees_others)


def can_read_staff_notes(*, staff: bool, conflicted: bool) -> bool:
    return staff and not conflicted
