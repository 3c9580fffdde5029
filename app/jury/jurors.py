"""The people on a round: jurors added by the staff or invited by email, their themes of expertise, their
conflicts of interest and bids, and the reminders sent to those who are late.

Rules:
- Staff add a user as juror (seated at once), or invite someone by email with a name: a single-use link,
  valid for the invitation period, that the person accepts signed in with that address or by creating an
  account — an outside expert needs no organisation.
- A juror lists their themes of expertise (the assignment prefers matching themes) and may bid on entries.
- Conflicts (conflicts.py): a juror declares one with a startup at any time, with a reason; the staff may
  declare one for any juror. Their assignments to that startup's entries are removed (a started review too:
  it must not count) and refilled in every round still running (draft or open); in a closed or decided round
  the assignment and its review stay on record. The staff see every conflict of the round and its source; a
  juror their own.
- Removing a juror removes their assignments that have no review written yet; written reviews stay.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import Membership, Organisation, User
from app.accounts.schemas import InvitationAcceptance
from app.audit import service as audit
from app.challenges import service as challenges
from app.config import get_settings, site_url
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.i18n import gettext
from app.jury import conflicts
from app.jury import permissions as can
from app.jury.conflicts import Conflict as ConflictOfInterest
from app.jury.models import (
    Bid,
    ConflictSource,
    Juror,
    JuryAssignment,
    JuryBid,
    JuryConflict,
    JuryEntry,
    JuryRound,
    RoundStatus,
)
from app.jury.records import AssignmentView, RoundView, get_assignment, reader_conflicts, round_views
from app.jury.schemas import ConflictIn, JurorIn
from app.notifications import service as notifications
from app.proposals.models import Proposal
from app.security.actor import Actor
from app.security.tokens import digest, new_secret


def list_jurors(session: Session, view: RoundView) -> list[Juror]:
    """The round's jurors, invitations pending included: the staff's list."""
    if not view.staff:
        raise NotFound()
    return list(session.exec(select(Juror).where(Juror.round_id == view.id).order_by(col(Juror.name), col(Juror.id))))


def seated_jurors(session: Session, round_id: int) -> list[Juror]:
    """The jurors who sit on the round (invitations accepted)."""
    return list(
        session.exec(
            select(Juror)
            .where(Juror.round_id == round_id, col(Juror.user_id).is_not(None), col(Juror.accepted_at).is_not(None))
            .order_by(col(Juror.id))
        )
    )


def staff_choices(session: Session, view: RoundView) -> list[tuple[User, Organisation]]:
    """The active members of the challenge's organisations (its sponsors and its programme's operator) who do
    not sit on the round yet, each with one of their organisations: the list the staff seat a juror from.
    Anyone else is invited by email: the staff are not shown other organisations' members."""
    if not view.staff:
        raise NotFound()
    organisations = {*view.challenge.sponsor_ids, view.challenge.programme.operator_id}
    seated = select(Juror.user_id).where(Juror.round_id == view.id, col(Juror.user_id).is_not(None))
    rows = session.exec(
        select(User, Organisation)
        .join(Membership, col(Membership.user_id) == User.id)
        .join(Organisation, col(Organisation.id) == Membership.organisation_id)
        .where(col(Membership.organisation_id).in_(organisations), col(User.is_active), col(User.id).not_in(seated))
        .order_by(col(User.name), col(User.id), col(Organisation.name))
    ).all()
    chosen: dict[int, tuple[User, Organisation]] = {}
    for user, organisation in rows:
        chosen.setdefault(user.id or 0, (user, organisation))  # one line per person, in name order
    return list(chosen.values())


def _closed(view: RoundView) -> bool:
    return view.status in (RoundStatus.closed, RoundStatus.decided)


def add_juror(session: Session, actor: Actor, view: RoundView, data: JurorIn) -> tuple[Juror, str | None]:
    """Seat a user, or invite someone by email; returns the juror and the invitation link (shown once)."""
    if not view.staff:
        raise NotFound()
    if _closed(view):
        raise Conflict("A closed round takes no more jurors.")
    if data.user is not None:
        user = session.get(User, data.user)
        if user is None or not user.is_active:
            raise Invalid({"user": "No active user has this id."})
        _check_not_seated(session, view, user.id, user.email)
        juror = Juror(
            round_id=view.id,
            user_id=user.id,
            email=user.email.lower(),
            name=user.name,
            themes=list(data.themes) or _known_themes(session, user.id or 0),
            accepted_at=utcnow(),
            added_by_id=actor.user_id,
        )
        session.add(juror)
        session.flush()
        _email_seated(session, view, juror, user)
        audit.record(session, "juror.added", actor=actor, target=("juror", juror.id), round=view.id, user=user.id)
        return juror, None
    assert data.email is not None
    email = accounts.normalise_email(str(data.email))
    if not data.name.strip():
        raise Invalid({"name": "Give the name of the person you invite."})
    _check_not_seated(session, view, None, email)
    secret = new_secret()
    juror = Juror(
        round_id=view.id,
        email=email,
        name=data.name.strip(),
        themes=list(data.themes),
        invitation_hash=digest(secret),
        invitation_expires_at=utcnow() + timedelta(days=get_settings().invitation_days),
        added_by_id=actor.user_id,
    )
    session.add(juror)
    session.flush()
    link = site_url(f"/jury/invitations/{secret}")
    notifications.send_email(
        session,
        email,
        "Medina — "
        + gettext("Invitation to sit on the jury of %(challenge)s", challenge=view.challenge.challenge.title),
        "emails/juror_invitation.txt",
        name=juror.name,
        inviter=actor.user,
        round=view.round,
        challenge=view.challenge.challenge,
        expires_at=juror.invitation_expires_at,
        secrets={"link": link},
    )
    audit.record(session, "juror.invited", actor=actor, target=("juror", juror.id), round=view.id, email=email)
    return juror, link


def _known_themes(session: Session, user_id: int) -> list[str]:
    """The themes a juror listed last time, offered again in a new round."""
    last = session.exec(select(Juror.themes).where(Juror.user_id == user_id).order_by(col(Juror.id).desc())).first()
    return list(last or [])


def _check_not_seated(session: Session, view: RoundView, user_id: int | None, email: str) -> None:
    same = Juror.email == email.lower()
    if user_id is not None:  # `Juror.user_id == None` would be IS NULL: every pending invitation would clash
        same = same | (Juror.user_id == user_id)
    clash = session.exec(select(Juror.id).where(Juror.round_id == view.id, same)).first()
    if clash is not None:
        raise Invalid({"email" if user_id is None else "user": "This person is already on the round's jury."})


def _email_seated(session: Session, view: RoundView, juror: Juror, user: User) -> None:
    notifications.email_each(
        session,
        [user],
        "You sit on the jury of %(challenge)s",
        "emails/juror_seated.txt",
        subject_vars={"challenge": view.challenge.challenge.title},
        name=user.name,
        round=view.round,
        challenge=view.challenge.challenge,
        link=site_url("/jury"),
    )


def remove_juror(session: Session, actor: Actor, view: RoundView, juror_id: int) -> None:
    juror = session.get(Juror, juror_id)
    if juror is None or juror.round_id != view.id or not view.staff:
        raise NotFound()
    if _closed(view):
        raise Conflict("A closed round cannot change.")
    from app.jury import assignments  # the assignments build on jurors: imported where they are dropped

    written = assignments.with_reviews(session, view.id, juror_ids={juror.id or 0})
    if written:
        raise Conflict(
            "This juror has already written %(count)s review(s): remove their other assignments instead, or keep "
            "them on the jury.",
            count=len(written),
        )
    assignments.drop_pending(session, view, juror_ids={juror.id or 0})
    session.delete(juror)
    session.flush()
    audit.record(session, "juror.removed", actor=actor, target=("juror", juror_id), round=view.id)


# ---- invitations -----------------------------------------------------------------------------------------


@dataclass
class OpenInvitation:
    juror: Juror
    round: JuryRound
    account: User | None  # the existing account with the invited address, if any


def open_invitation(session: Session, secret: str) -> OpenInvitation:
    """The pending invitation behind a link. Used, expired and unknown links all answer the same."""
    juror = session.exec(select(Juror).where(Juror.invitation_hash == digest(secret))).first()
    if (
        juror is None
        or juror.accepted_at is not None
        or juror.invitation_expires_at is None
        or juror.invitation_expires_at <= utcnow()
    ):
        raise NotFound("This invitation link is invalid, has expired or has already been used.")
    round_ = session.get(JuryRound, juror.round_id)
    assert round_ is not None
    return OpenInvitation(juror, round_, accounts.get_user_by_email(session, juror.email))


def accept_invitation(session: Session, actor: Actor, secret: str, data: InvitationAcceptance | None) -> Juror:
    """Sit on the jury with the account signed in (the invited address), or with a new account."""
    invitation = open_invitation(session, secret)
    juror = invitation.juror
    if actor.is_authenticated and actor.user is not None:
        user = actor.user
        if accounts.normalise_email(user.email) != juror.email:
            raise Forbidden("This invitation was sent to another email address. Sign out and open the link again.")
    else:
        if invitation.account is not None:
            raise Conflict("An account already exists with this email address. Sign in, then open the link again.")
        if data is None:
            raise Invalid({"name": "This field is required."})
        user = accounts.create_user(session, email=juror.email, name=data.name, password=data.password)
        juror = session.get(Juror, juror.id) or juror  # re-read: creating the account released the locks
    if session.exec(select(Juror.id).where(Juror.round_id == juror.round_id, Juror.user_id == user.id)).first():
        raise Conflict("You already sit on this round's jury.")
    juror.user_id = user.id
    juror.name = user.name
    juror.accepted_at = utcnow()
    juror.invitation_hash = None
    session.add(juror)
    session.flush()
    audit.record(session, "juror.accepted", actor_id=user.id, target=("juror", juror.id), round=juror.round_id)
    return juror


def set_themes(session: Session, actor: Actor, view: RoundView, themes: list[str]) -> Juror:
    """A juror lists their themes of expertise."""
    if view.seat is None or not view.is_juror:
        raise NotFound()
    view.seat.themes = sorted(set(themes))
    session.add(view.seat)
    session.flush()
    return view.seat


def set_bid(session: Session, actor: Actor, view: RoundView, entry_id: int, bid: str | None) -> None:
    """A juror's wish about an entry (eager, willing, unwilling), or none."""
    if view.seat is None or not view.is_juror:
        raise NotFound()
    entry = session.get(JuryEntry, entry_id)
    if entry is None or entry.round_id != view.id:
        raise NotFound()
    proposal = session.get(Proposal, entry.proposal_id)
    assert proposal is not None
    if proposal.startup_id in conflicts_of(session, view, view.seat).startups_of(view.seat.user_id):
        raise NotFound()
    existing = session.exec(
        select(JuryBid).where(JuryBid.juror_id == view.seat.id, JuryBid.entry_id == entry_id)
    ).first()
    if bid is None:
        if existing is not None:
            session.delete(existing)
    else:
        Bid(bid)
        row = existing or JuryBid(juror_id=view.seat.id or 0, entry_id=entry_id, bid=bid)
        row.bid = bid
        session.add(row)
    session.flush()


# ---- conflicts -------------------------------------------------------------------------------------------


def round_startups(session: Session, round_id: int) -> set[int]:
    return set(
        session.exec(
            select(Proposal.startup_id)
            .join(JuryEntry, col(JuryEntry.proposal_id) == Proposal.id)
            .where(JuryEntry.round_id == round_id)
        ).all()
    )


def conflicts_of(session: Session, view: RoundView, *jurors: Juror) -> conflicts.ConflictFacts:
    """The conflicts between these jurors (all seated ones if none named) and the round's startups."""
    seated = list(jurors) or seated_jurors(session, view.id)
    users = session.exec(select(User).where(col(User.id).in_([j.user_id for j in seated if j.user_id]))).all()
    return conflicts.facts_for(session, users, round_startups(session, view.id))


@dataclass
class ShownConflict:
    juror: Juror
    startup: Organisation
    conflict: ConflictOfInterest


def list_conflicts(session: Session, actor: Actor, view: RoundView) -> list[ShownConflict]:
    """The staff: every conflict of the round's jurors with its startups but those the reader is conflicted with
    themselves; a juror: their own."""
    if view.staff:
        seated = seated_jurors(session, view.id)
    elif view.is_juror and view.seat is not None:
        seated = [view.seat]
    else:
        raise NotFound()
    facts = conflicts_of(session, view, *seated) if seated else conflicts.ConflictFacts()
    by_user = {j.user_id: j for j in seated}
    startups = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_({c.startup_id for c in facts.all()} or {-1}))
        )
    }
    shown = [ShownConflict(by_user[c.user_id], startups[c.startup_id], c) for c in facts.all() if c.user_id in by_user]
    # a member of the staff conflicted with a startup learns nothing of it (as of its entry): not even who else
    # is conflicted with it, nor why; their own conflicts they know
    hidden = reader_conflicts(session, actor, {s for s in startups if s is not None}) if view.staff else set()
    shown = [s for s in shown if s.startup.id not in hidden or s.juror.user_id == actor.user_id]
    return sorted(shown, key=lambda s: (s.juror.name, s.startup.name, s.conflict.source))


def declare_conflict(session: Session, actor: Actor, view: RoundView, data: ConflictIn) -> ShownConflict:
    """Declare a conflict of interest with a startup of the round, named or behind an assignment (a blind
    round's juror names the assignment only): the juror's assignments to it go, and are refilled."""
    if not (view.staff or view.is_juror):
        raise NotFound()
    if data.juror is not None and not view.staff:
        raise Forbidden("A juror declares their own conflicts only.")
    behind = _named_assignment(session, actor, view, data.assignment) if data.assignment is not None else None
    if data.juror is not None:
        juror = session.get(Juror, data.juror)
    else:
        juror = behind.juror if behind is not None and view.staff else view.seat
    if juror is None or juror.round_id != view.id or juror.user_id is None:
        if data.juror is None:
            raise Invalid({"juror": "Name the juror the conflict is declared for."})
        raise Invalid({"juror": "This juror does not sit on the round."})
    if not can.can_declare_conflict(actor, staff=view.staff, juror=view.seat, for_user_id=juror.user_id):
        raise NotFound()
    if behind is not None:
        if behind.juror.id != juror.id:
            raise Invalid({"assignment": "This assignment is not the juror's."})
        startup = behind.proposal.startup
    else:
        startup = _named_startup(session, view, data.startup or 0)
    existing = session.exec(
        select(JuryConflict).where(JuryConflict.user_id == juror.user_id, JuryConflict.startup_id == startup.id)
    ).first()
    if existing is None:
        existing = JuryConflict(
            user_id=juror.user_id,
            startup_id=startup.id or 0,
            round_id=view.id,
            reason=data.reason,
            declared_by_id=actor.user_id,
        )
        session.add(existing)
        session.flush()
    from app.jury import assignments  # the assignments build on conflicts: imported where they are redone

    for changed in _rounds_to_refill(
        session, actor, assignments.drop_conflicted(session, juror.user_id, startup.id or 0, view.now), view.now
    ):
        assignments.refill(session, changed)
    audit.record(
        session, "conflict.declared", actor=actor, target=("conflict", existing.id), round=view.id, startup=startup.id
    )
    fact = ConflictOfInterest(existing.user_id, existing.startup_id, ConflictSource.declared, existing.reason, existing)
    return ShownConflict(juror, startup, fact)


def _rounds_to_refill(session: Session, actor: Actor, round_ids: set[int], now: datetime) -> list[RoundView]:
    """Views of the rounds a change touched, to refill them: rounds of the same person that the actor may not
    see (a draft, for a juror) are refilled too, so they are loaded without a permission check."""
    rounds = list(session.exec(select(JuryRound).where(col(JuryRound.id).in_(round_ids or {-1}))))
    views = {v.challenge.id or 0: v for v in challenges.views_for(session, list({r.challenge_id for r in rounds}))}
    return round_views(session, actor, rounds, views, now)


def _named_assignment(session: Session, actor: Actor, view: RoundView, assignment_id: int) -> AssignmentView:
    """An assignment of the round the actor may see (a juror: their own), named in a declaration."""
    try:
        found = get_assignment(session, actor, assignment_id, now=view.now)
    except NotFound:
        found = None
    if found is None or found.round.id != view.id:
        raise Invalid({"assignment": "No assignment of the round that you may see has this id."})
    return found


def _named_startup(session: Session, view: RoundView, startup_id: int) -> Organisation:
    """A startup of the round named in a declaration: never by a juror of a blind round, who may not know
    which startups it judges."""
    if view.blind_for_reader:
        raise Invalid(
            {"startup": "This round is blind: declare a conflict from the assignment concerned, not by startup."}
        )
    startup = session.get(Organisation, startup_id)
    if startup is None or startup.kind != "startup" or startup_id not in round_startups(session, view.id):
        raise Invalid({"startup": "No startup of the round has this id."})
    return startup


def late_jurors(session: Session, view: RoundView) -> list[tuple[Juror, int]]:
    """The seated jurors with assignments not yet done, and how many each."""
    from app.jury import assignments

    return [(j, left) for j, left in assignments.left_to_do(session, view) if left > 0]


def remind_late_jurors(session: Session, actor: Actor, view: RoundView) -> int:
    """Email each juror who has reviews left to write; returns how many were reminded."""
    if not view.staff:
        raise NotFound()
    if view.status != RoundStatus.open:
        raise Conflict("Reminders are sent while the round is open.")
    late = late_jurors(session, view)
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_([j.user_id for j, _ in late] or [-1])))}
    for juror, left in late:
        user = users[juror.user_id]
        notifications.email_each(
            session,
            [user],
            "Reviews to write for %(challenge)s",
            "emails/juror_reminder.txt",
            subject_vars={"challenge": view.challenge.challenge.title},
            name=user.name,
            left=left,
            round=view.round,
            closes_at=lambda: view.round.closes_at,
            timezone=view.timezone,
            link=site_url(f"/jury/rounds/{view.id}"),
        )
    audit.record(session, "round.reminded", actor=actor, target=("round", view.id), count=len(late))
    return len(late)


def assignments_of(session: Session, juror: Juror) -> list[JuryAssignment]:
    return list(session.exec(select(JuryAssignment).where(JuryAssignment.juror_id == juror.id)))


def bids_of(session: Session, juror: Juror) -> dict[int, str]:
    """The juror's bids, by entry id: their queue shows each one."""
    return {b.entry_id: b.bid for b in session.exec(select(JuryBid).where(JuryBid.juror_id == juror.id))}
