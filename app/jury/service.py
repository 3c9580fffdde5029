"""Running a challenge's selection as rounds: the rounds and their criteria, the entries each judges, opening
and closing.

Rules:
- Only the challenge's staff create, change, open and close rounds (a juror is shown the round, never its
  settings' forms). A challenge's rounds are in order: the written pre-selection, then auditions, then the final.
- Criteria: a name, guidance, a weight > 0, a scale min..max in whole or half points, a comment required or
  not. They change only while the round is a draft (409 after). DataCity's five criteria are a preset.
- Opening needs at least one criterion; times are entered in the programme's time zone and stored in UTC.
- A round is open from its opening to its closing time by the server clock; the staff close it earlier by
  hand, and `close_due_rounds` (a periodic job) records the closing of those whose time has passed.
- Entries: the first round takes the challenge's eligible proposals (the staff may leave some out with a
  reason); a later round takes those shortlisted in the previous one (staff pick them until the selection
  issue shortlists). A proposal not submitted, not eligible, or of another challenge is refused (422), and
  so is one whose startup the staff member is conflicted with (they are not shown it). Leaving an entry out
  and taking it back: 404 to a member of the staff conflicted with its startup.
"""

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import jobs
from app.audit import service as audit
from app.challenges.service import ChallengeView
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.jury import permissions as can
from app.jury.models import JuryCriterion, JuryEntry, JuryRound, RoundStatus
from app.jury.records import RoundView, get_managed_round, reader_conflicts, round_views
from app.jury.schemas import CriterionIn, EntriesIn, RoundCreate, RoundFields, RoundUpdate, datacity_criteria
from app.proposals.models import Proposal, ProposalStatus
from app.security.actor import Actor

# A first round judges the proposals found eligible; a later one those shortlisted in the round before it.
FIRST_ROUND_STATUSES = (ProposalStatus.eligible,)
LATER_ROUND_STATUSES = (ProposalStatus.shortlisted, ProposalStatus.selected, ProposalStatus.waitlisted)


def _require_staff(actor: Actor, challenge: ChallengeView) -> None:
    if not challenge.is_staff(actor):
        raise NotFound()


def _aware(value: datetime, timezone: str) -> datetime:
    """A time as entered: one without an offset is in the programme's time zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(timezone))


def _check_times(opens_at: datetime, closes_at: datetime) -> None:
    if closes_at <= opens_at:
        raise Invalid({"closes_at": "The round must close after it opens."})


def _criteria_rows(round_id: int, criteria: Sequence[CriterionIn]) -> list[JuryCriterion]:
    return [
        JuryCriterion(
            round_id=round_id,
            position=i,
            name=c.name,
            description=c.description,
            weight=c.weight,
            min_score=c.min,
            max_score=c.max,
            step=c.step,
            comment_required=c.comment_required,
        )
        for i, c in enumerate(criteria)
    ]


def create_round(session: Session, actor: Actor, challenge: ChallengeView, data: RoundCreate) -> RoundView:
    _require_staff(actor, challenge)
    tz = challenge.programme.timezone
    opens_at, closes_at = _aware(data.opens_at, tz), _aware(data.closes_at, tz)
    _check_times(opens_at, closes_at)
    criteria = data.criteria if data.criteria is not None else (datacity_criteria() if data.preset else [])
    last = session.exec(
        select(func.max(JuryRound.position)).where(JuryRound.challenge_id == challenge.challenge.id)
    ).one()
    round_ = JuryRound(
        challenge_id=challenge.challenge.id or 0,
        position=(last or 0) + 1,
        name=data.name,
        kind=data.kind,
        opens_at=opens_at,
        closes_at=closes_at,
        reviews_per_proposal=data.reviews_per_proposal,
        max_load=data.max_load,
        blind=data.blind,
        others_visible=data.others_visible,
        slots_bookable=bool(data.slots_bookable),
        created_by_id=actor.user_id,
    )
    session.add(round_)
    session.flush()
    session.add_all(_criteria_rows(round_.id or 0, criteria))
    session.flush()
    audit.record(session, "round.created", actor=actor, target=("round", round_.id), challenge=challenge.challenge.id)
    return round_views(session, actor, [round_], {challenge.challenge.id or 0: challenge}, utcnow())[0]


def check_revision(view: RoundView, expected: int | None) -> None:
    if expected is not None and expected != view.round.revision:
        raise PreconditionFailed(
            "Someone else changed this round since you loaded it. Reload it and apply your change again."
        )


def update_round(
    session: Session, actor: Actor, view: RoundView, data: RoundUpdate, *, expected_revision: int | None = None
) -> RoundView:
    if not view.staff:
        raise NotFound()
    check_revision(view, expected_revision)
    given = data.model_dump(exclude_unset=True)
    if not given:
        return view
    round_ = view.round
    if not can.can_edit_settings(round_, view.now):
        raise Conflict("A closed round cannot change.")
    if "criteria" in given and not can.can_edit_criteria(round_):
        raise Conflict("The criteria cannot change once the round is open.")
    tz = view.timezone
    opens_at = _aware(data.opens_at, tz) if data.opens_at else round_.opens_at
    closes_at = _aware(data.closes_at, tz) if data.closes_at else round_.closes_at
    _check_times(opens_at, closes_at)
    for name in ("name", "kind", "reviews_per_proposal", "blind", "others_visible", "slots_bookable"):
        if name in given and given[name] is not None:
            setattr(round_, name, given[name])
    if "max_load" in given:
        round_.max_load = data.max_load
    round_.opens_at, round_.closes_at = opens_at, closes_at
    if data.criteria is not None:
        for old in session.exec(select(JuryCriterion).where(JuryCriterion.round_id == round_.id)):
            session.delete(old)
        session.flush()
        session.add_all(_criteria_rows(round_.id or 0, data.criteria))
    round_.revision += 1
    round_.updated_at = utcnow()
    session.add(round_)
    session.flush()
    audit.record(session, "round.updated", actor=actor, target=("round", round_.id), fields=sorted(given))
    return get_managed_round(session, actor, round_.id or 0)


def open_round(session: Session, actor: Actor, view: RoundView) -> RoundView:
    if not view.staff:
        raise NotFound()
    if not can.can_open_round(view.round):
        raise Conflict("Only a draft round can be opened.")
    if not view.criteria:
        raise Invalid({"criteria": "Add at least one criterion before opening the round."})
    if view.round.closes_at <= view.now:
        raise Invalid({"closes_at": "The closing time has passed: move it before opening the round."})
    _set_status(session, actor, view.round, RoundStatus.open)
    return get_managed_round(session, actor, view.id)


def close_round(session: Session, actor: Actor, view: RoundView) -> RoundView:
    if not view.staff:
        raise NotFound()
    if not can.can_close_round(view.round, view.now):
        raise Conflict("Only an open round can be closed.")
    _set_status(session, actor, view.round, RoundStatus.closed)
    return get_managed_round(session, actor, view.id)


def _set_status(session: Session, actor: Actor | None, round_: JuryRound, status: str) -> None:
    now = utcnow()
    round_.status = status
    if status == RoundStatus.open:
        round_.opened_at = now
    if status == RoundStatus.closed:
        round_.closed_at = now
        round_.closes_at = min(round_.closes_at, now) if round_.opens_at < now else round_.closes_at
    round_.revision += 1
    round_.updated_at = now
    session.add(round_)
    session.flush()
    audit.record(session, f"round.{status}", actor=actor, target=("round", round_.id))


@jobs.periodic("* * * * *")
@jobs.task("jury.close_due_rounds")
def close_due_rounds(session: Session) -> None:
    """Record the closing of the open rounds whose closing time has passed (the pages already show them
    closed by the clock; this makes the stored status say so too)."""
    for round_ in session.exec(
        select(JuryRound).where(JuryRound.status == RoundStatus.open, col(JuryRound.closes_at) <= utcnow())
    ):
        _set_status(session, None, round_, RoundStatus.closed)


# ---- entries ----------------------------------------------------------------------------------------------


def previous_round(session: Session, view: RoundView) -> JuryRound | None:
    return session.exec(
        select(JuryRound)
        .where(JuryRound.challenge_id == view.round.challenge_id, col(JuryRound.position) < view.round.position)
        .order_by(col(JuryRound.position).desc())
    ).first()


def eligible_statuses(session: Session, view: RoundView) -> tuple[ProposalStatus, ...]:
    return LATER_ROUND_STATUSES if previous_round(session, view) else FIRST_ROUND_STATUSES


def candidates(session: Session, actor: Actor, view: RoundView) -> list[Proposal]:
    """The proposals this round may judge and does not yet: the eligible ones for a first round; for a later
    one, those entered in the previous round and shortlisted — but those of startups the actor is conflicted
    with, whom they are not shown (nor counted, nor entered by "all")."""
    statuses = [str(s) for s in eligible_statuses(session, view)]
    query = select(Proposal).where(
        Proposal.challenge_id == view.round.challenge_id,
        col(Proposal.status).in_(statuses),
        col(Proposal.id).not_in(select(JuryEntry.proposal_id).where(JuryEntry.round_id == view.id)),
    )
    if (before := previous_round(session, view)) is not None:
        query = query.where(col(Proposal.id).in_(select(JuryEntry.proposal_id).where(JuryEntry.round_id == before.id)))
    found = list(session.exec(query.order_by(col(Proposal.id))).all())
    hidden = reader_conflicts(session, actor, {p.startup_id for p in found})
    return [p for p in found if p.startup_id not in hidden]


def add_entries(session: Session, actor: Actor, view: RoundView, data: EntriesIn) -> list[JuryEntry]:
    """Enter these proposals in the round (those already in it stay as they are)."""
    if not view.staff:
        raise NotFound()
    if view.status in (RoundStatus.closed, RoundStatus.decided):
        raise Conflict("A closed round takes no more proposals.")
    allowed = {p.id for p in candidates(session, actor, view)}
    present = set(session.exec(select(JuryEntry.proposal_id).where(JuryEntry.round_id == view.id)).all())
    refused = [pid for pid in data.proposals if pid not in allowed and pid not in present]
    if refused:
        raise Invalid(
            {
                "proposals": "These proposals cannot enter this round: %(ids)s. A first round takes eligible "
                "proposals of the challenge; a later one the proposals shortlisted in the round before."
            },
            ids=", ".join(str(i) for i in refused),
        )
    added = [
        JuryEntry(round_id=view.id, proposal_id=pid, added_by_id=actor.user_id)
        for pid in dict.fromkeys(data.proposals)
        if pid not in present
    ]
    session.add_all(added)
    session.flush()
    audit.record(session, "round.entries_added", actor=actor, target=("round", view.id), count=len(added))
    return added


def _entry(session: Session, actor: Actor, view: RoundView, entry_id: int) -> JuryEntry:
    """An entry of the round for its staff to change; 404 to anyone else, and to a member of the staff
    conflicted with its startup (the entry is not theirs to know of)."""
    entry = session.get(JuryEntry, entry_id)
    if entry is None or entry.round_id != view.id or not view.staff:
        raise NotFound()
    proposal = session.get(Proposal, entry.proposal_id)
    if proposal is None or reader_conflicts(session, actor, {proposal.startup_id}):
        raise NotFound()
    return entry


def exclude_entry(session: Session, actor: Actor, view: RoundView, entry_id: int, reason: str) -> JuryEntry:
    """Leave an entry out of the round, with a reason: it is no longer assigned (reviews already written stay
    on record)."""
    entry = _entry(session, actor, view, entry_id)
    if view.status in (RoundStatus.closed, RoundStatus.decided):
        raise Conflict("A closed round cannot change.")
    if not reason.strip():
        raise Invalid({"reason": "Say why this proposal is left out."})
    entry.excluded_reason = reason.strip()[:1000]
    entry.excluded_at = utcnow()
    session.add(entry)
    from app.jury import assignments  # the assignments build on entries: imported where they are dropped

    assignments.drop_pending(session, view, entry_ids={entry.id or 0})
    from app.jury import slots  # likewise the pitch slots: a left-out entry gives its slot back

    slots.release_entry(session, view, entry)
    session.flush()
    audit.record(session, "round.entry_excluded", actor=actor, target=("entry", entry.id))
    return entry


def include_entry(session: Session, actor: Actor, view: RoundView, entry_id: int) -> JuryEntry:
    entry = _entry(session, actor, view, entry_id)
    if view.status in (RoundStatus.closed, RoundStatus.decided):
        raise Conflict("A closed round cannot change.")
    entry.excluded_reason = ""
    entry.excluded_at = None
    session.add(entry)
    session.flush()
    audit.record(session, "round.entry_included", actor=actor, target=("entry", entry.id))
    return entry


def round_fields_for_form(view: RoundView) -> RoundFields:
    """The round's settings as its edit form shows them (local times)."""
    r = view.round
    return RoundFields(
        name=r.name,
        kind=r.kind,  # type: ignore[arg-type]
        opens_at=view.local(r.opens_at).replace(tzinfo=None),
        closes_at=view.local(r.closes_at).replace(tzinfo=None),
        reviews_per_proposal=r.reviews_per_proposal,
        max_load=r.max_load,
        blind=r.blind,
        others_visible=r.others_visible,  # type: ignore[arg-type]
        slots_bookable=r.slots_bookable,
    )
