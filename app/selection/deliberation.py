"""The jury's deliberation on one entry of a round: its discussion thread, the people told of a message, and the
staff's notes beside it.

Rules:
- Who reads and writes the thread (selection.permissions.can_deliberate): the challenge's staff, and the round's
  jurors, never across a conflict of interest (declared or automatic, jury.conflicts). A juror once they may
  see the others' reviews of that entry (jury.permissions.can_see_others): as their own review of it stands,
  or, for an entry not assigned to them, as all their assignments stand (done: the ranking's own_done). Anyone
  else, a conflicted reader, a juror of a draft round, a juror on an entry left out of the round: NotFound.
- A decided round's thread is read-only (Conflict on a new message), and so is an entry left out of the round.
- The thread's participants are the people who may read it now: the staff (the members of the challenge's
  sponsors and of its programme's operator) and the round's jurors, each as the rule above says for them.
- Names as the reader may know them: in a blind round a juror is shown the proposal's title with the names of
  who wrote it hidden (jury.records.redact), the other jurors as "Juror N" (numbered by their seat in the round,
  stable), the staff by name with "(staff)"; the messages of others with the startup's and its team's names
  hidden. A person who sits on the round is named as a juror, even when they are staff too.
- Telling people ("mentions"): the message names participants by a checkbox each, or by "@" and their email
  address in its text. Each one named gets one email, in their language, with a link to the thread: never the
  proposal's content, nor anyone's name they may not know. Naming someone who may not read the thread is
  refused on the field (Invalid), so that no email ever goes to them; in a blind round a juror's "@address"
  matches the staff only (it never tells them who else sits on the jury).
- Bodies: required, at most MAX_BODY characters, Markdown rendered by app.markdown (safe).
- Staff notes (selection.permissions.can_read_staff_notes): the staff only, never across a conflict; never
  shown to jurors or startups, nor in anything they read.
- A constant number of queries whatever the length of the thread or the size of the jury.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlmodel import Session, col, select

from app.accounts.models import Membership, User
from app.config import site_url
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_, gettext
from app.jury import conflicts
from app.jury import permissions as jury_can
from app.jury import records as jury_records
from app.jury import reviews as jury_reviews
from app.jury.models import Juror, JuryAssignment, JuryEntry, JuryReview, JuryRound, ReviewStatus, RoundStatus
from app.jury.records import RoundView
from app.markdown import render_markdown
from app.notifications import service as notifications
from app.proposals import records as proposal_records
from app.proposals.models import Proposal
from app.security.actor import Actor
from app.selection import permissions as can
from app.selection.models import DeliberationMessage, StaffNote

MAX_BODY = 10_000
DONE = (ReviewStatus.submitted, ReviewStatus.abstained)
# "@" then an email address, not inside a word (an address alone, "ana@example.org", names nobody)
MENTION = re.compile(r"(?<![\w.+@-])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")


def discussion_path(round_id: int, entry_id: int) -> str:
    return f"/rounds/{round_id}/entries/{entry_id}/discussion"


def juror_sees_others(round_: JuryRound, statuses: dict[int, str], entry_id: int, now: datetime) -> bool:
    """Whether a juror with these review statuses (per entry assigned to them) may see the others' reviews of the
    entry: by their own review of it, or by all of theirs when it is not assigned to them."""
    own = statuses.get(entry_id)
    if own is None and all(status in DONE for status in statuses.values()):
        own = ReviewStatus.submitted
    return jury_can.can_see_others(round_, staff=False, own_status=own, now=now)


@dataclass(frozen=True)
class Person:
    """Someone of the thread as the reader is shown them."""

    user: User
    key: str  # the form's value naming them: "j<juror id>" or "s<user id>", never their email address
    label: str
    juror_id: int | None  # their seat in the round, if they sit on it


@dataclass(frozen=True)
class ShownMessage:
    message: DeliberationMessage
    author: str
    own: bool
    body: Markup


@dataclass(frozen=True)
class ShownNote:
    note: StaffNote
    body: Markup


@dataclass
class Discussion:
    view: RoundView
    entry: JuryEntry
    proposal: Proposal
    title: str
    startup_name: str | None  # None where the reader may not know it (a blind round, for a juror)
    messages: list[ShownMessage]
    participants: list[Person]  # who may read the thread now, the reader left out: whom a message may name
    notes: list[ShownNote] | None  # None for whoever may not read them
    names_to_hide: list[str] = field(default_factory=list)
    _seats: dict[int, Juror] = field(default_factory=dict, repr=False)  # user id → seat, of seated jurors
    _numbers: dict[int, int] = field(default_factory=dict, repr=False)  # juror id → "Juror N"
    _staff: set[int] = field(default_factory=set, repr=False)  # user ids of the staff among the people shown

    @property
    def round_id(self) -> int:
        return self.view.id

    @property
    def entry_id(self) -> int:
        return self.entry.id or 0

    @property
    def path(self) -> str:
        return discussion_path(self.round_id, self.entry_id)

    @property
    def blind(self) -> bool:
        return self.view.blind_for_reader

    @property
    def may_write(self) -> bool:
        return self.entry.excluded_at is None and self.view.status != RoundStatus.decided

    @property
    def may_take_notes(self) -> bool:
        return self.notes is not None

    def label(self, user_id: int | None, name: str, *, blind: bool | None = None, reader_id: int | None = None) -> str:
        """How a person is named to the reader (or to another one, `reader_id`, who is a juror of a blind round
        when `blind`): in a blind round a juror is shown the other jurors by number."""
        hidden = self.blind if blind is None else blind
        reader = self.view.actor.user_id if reader_id is None else reader_id
        seat = self._seats.get(user_id or 0)
        if seat is not None:
            if hidden and user_id != reader:
                return gettext("Juror %(n)s", n=self._numbers.get(seat.id or 0, 0))
            return name
        if user_id is not None and user_id in self._staff:
            return gettext("%(name)s (staff)", name=name)
        # a juror since removed from the round, someone who left the staff, an account deleted
        return gettext("A former participant") if hidden else name

    def shown_text(self, text: str) -> str:
        return str(jury_records.redact({"text": text}, self.names_to_hide)["text"]) if self.blind else text


def get_discussion(
    session: Session, actor: Actor, round_id: int, entry_id: int, *, now: datetime | None = None
) -> Discussion:
    """The thread of one entry as the actor may read it (see the module's rules); NotFound for everyone else."""
    view = jury_records.get_round(session, actor, round_id, now=now)
    entry = session.get(JuryEntry, entry_id)
    if entry is None or entry.round_id != view.id:
        raise NotFound()
    proposal = session.get(Proposal, entry.proposal_id)
    if proposal is None:
        raise NotFound()
    conflicted = proposal.startup_id in jury_records.reader_conflicts(session, actor, {proposal.startup_id})
    juror = view.is_juror and not view.staff
    sees = view.staff or (
        juror
        and entry.excluded_at is None
        and juror_sees_others(view.round, jury_reviews.own_statuses(session, view), entry_id, view.now)
    )
    if not can.can_deliberate(staff=view.staff, juror=juror, conflicted=conflicted, sees_others=sees):
        raise NotFound()

    shown = proposal_records.views_of(
        session, actor, [proposal], {view.challenge.challenge.id or 0: view.challenge}, view.now
    )[0]
    names = (
        [
            *jury_records.identities(session, [shown.startup]).get(proposal.startup_id, []),
            *jury_records.team_names(shown.content),
        ]
        if view.blind_for_reader
        else []
    )
    title = str(shown.content.get("title") or proposal.title or "") or gettext("Untitled proposal")
    seated = jurors_of(session, view.id)
    found = Discussion(
        view,
        entry,
        proposal,
        str(jury_records.redact({"title": title}, names)["title"]) if view.blind_for_reader else title,
        None if view.blind_for_reader else shown.startup.name,
        [],
        [],
        None,
        names,
        {j.user_id: j for j in seated if j.user_id is not None and j.accepted_at is not None},
        {j.id or 0: n for n, j in enumerate(seated, start=1)},
    )
    staff_users = _challenge_staff(session, view)
    messages = session.exec(
        select(DeliberationMessage)
        .where(DeliberationMessage.entry_id == entry_id)
        .order_by(col(DeliberationMessage.created_at), col(DeliberationMessage.id))
    ).all()
    others = {m.author_id for m in messages if m.author_id is not None} - set(found._seats) - set(staff_users)
    admins = session.exec(select(User.id).where(col(User.id).in_(others or [-1]), col(User.is_platform_admin))).all()
    found._staff = {*staff_users, *(a for a in admins if a is not None)}
    if view.staff and actor.user_id is not None:
        found._staff.add(actor.user_id)  # a platform admin writing now
    found.participants = [p for p in _participants(session, found, staff_users) if p.user.id != actor.user_id]
    found.messages = [
        ShownMessage(
            m,
            found.label(m.author_id, m.author_name),
            m.author_id == actor.user_id,
            render_markdown(m.body if m.author_id == actor.user_id else found.shown_text(m.body)),
        )
        for m in messages
    ]
    if can.can_read_staff_notes(staff=view.staff, conflicted=conflicted):
        found.notes = [
            ShownNote(n, render_markdown(n.body))
            for n in session.exec(
                select(StaffNote)
                .where(StaffNote.entry_id == entry_id)
                .order_by(col(StaffNote.created_at), col(StaffNote.id))
            )
        ]
    return found


def jurors_of(session: Session, round_id: int) -> list[Juror]:
    """Every seat of the round in order (pending invitations too: the numbers of a blind round never move when
    someone accepts)."""
    return list(session.exec(select(Juror).where(Juror.round_id == round_id).order_by(col(Juror.id))))


def _challenge_staff(session: Session, view: RoundView) -> dict[int, User]:
    """The active members of the challenge's sponsors and of its programme's operator, by user id."""
    organisations = {*view.challenge.sponsor_ids, view.challenge.programme.operator_id}
    return {
        u.id or 0: u
        for u in session.exec(
            select(User)
            .join(Membership, col(Membership.user_id) == User.id)
            .where(col(Membership.organisation_id).in_(organisations), col(User.is_active))
        )
    }


def _participants(session: Session, found: Discussion, staff_users: dict[int, User]) -> list[Person]:
    """Everyone who may read the thread now (the reader included), in the order the form lists them: the staff
    by name, then the jurors by number (or name)."""
    view = found.view
    seats = found._seats
    juror_users: dict[int, User] = {
        u.id or 0: u
        for u in session.exec(select(User).where(col(User.id).in_(list(seats) or [-1]), col(User.is_active)))
    }
    statuses: dict[int, dict[int, str]] = {}
    for juror_id, entry_id, status in session.exec(
        select(JuryAssignment.juror_id, JuryAssignment.entry_id, JuryReview.status)
        .join(JuryReview, col(JuryReview.assignment_id) == JuryAssignment.id, isouter=True)
        .where(JuryAssignment.round_id == view.id)
    ):
        statuses.setdefault(juror_id, {})[entry_id] = status or "pending"
    people: dict[int, User] = {**juror_users, **{k: v for k, v in staff_users.items() if k not in seats}}
    facts = conflicts.facts_for(session, people.values(), {found.proposal.startup_id})

    staff: list[Person] = []
    for user_id, user in staff_users.items():
        if user_id in seats or facts.is_conflicted(user_id, found.proposal.startup_id):
            continue
        staff.append(Person(user, f"s{user_id}", found.label(user_id, user.name), None))
    seated: list[Person] = []
    for juror_user_id, user in juror_users.items():
        seat = seats[juror_user_id]
        if facts.is_conflicted(juror_user_id, found.proposal.startup_id):
            continue
        reads = juror_user_id in staff_users or (
            found.entry.excluded_at is None
            and juror_sees_others(view.round, statuses.get(seat.id or 0, {}), found.entry_id, view.now)
        )
        if reads:
            seated.append(Person(user, f"j{seat.id}", found.label(juror_user_id, user.name), seat.id))
    staff.sort(key=lambda p: (p.label.casefold(), p.user.id or 0))
    seated.sort(key=lambda p: p.juror_id or 0)
    return [*staff, *seated]


# ---- writing ----------------------------------------------------------------------------------------------


def _body(text: str, field: str = "body") -> str:
    body = (text or "").replace("\x00", "").strip()  # PostgreSQL's text holds no NUL
    if not body:
        raise Invalid({field: "This field is required."})
    if len(body) > MAX_BODY:
        raise Invalid({field: "Use at most %(max_length)s characters."}, max_length=MAX_BODY)
    return body


def mentioned(found: Discussion, body: str, keys: Sequence[str]) -> list[Person]:
    """The participants a message names, by their checkbox or by "@address" in its text; Invalid on the field
    that names someone else."""
    by_key = {p.key: p for p in found.participants}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise Invalid({"mentions": "Choose among the people listed."})
    # a juror of a blind round names the staff only by address: the jury's addresses are not theirs to test
    addressable = [p for p in found.participants if not (found.blind and p.juror_id is not None)]
    by_address = {p.user.email.casefold(): p for p in addressable}
    chosen = {k: by_key[k] for k in keys}
    for address in MENTION.findall(body):
        if address.casefold() == (found.view.actor.user.email.casefold() if found.view.actor.user else ""):
            continue  # naming oneself tells nobody
        person = by_address.get(address.casefold())
        if person is None:
            raise Invalid(
                {"body": "The address %(address)s is not among the people of this discussion: nobody was told."},
                address=address,
            )
        chosen.setdefault(person.key, person)
    return list(chosen.values())


def post_message(
    session: Session, actor: Actor, found: Discussion, body: str, keys: Sequence[str]
) -> DeliberationMessage:
    """Add a message to the thread and email each person it names (see the module's rules)."""
    if not found.may_write:
        raise Conflict("This discussion is read-only: the round is decided, or the proposal left out of it.")
    text = _body(body)
    people = mentioned(found, text, keys)
    user = actor.user
    if user is None:
        raise NotFound()
    message = DeliberationMessage(
        round_id=found.round_id,
        entry_id=found.entry_id,
        author_id=user.id,
        author_name=user.name[:120],
        body=text,
        mentions=[p.user.id or 0 for p in people],
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    for person in people:
        _tell(session, found, person, user)
    return message


def _tell(session: Session, found: Discussion, person: Person, author: User) -> None:
    """One email to a person named in a message: who wrote (as they may know them), the round, the link."""
    blind = found.view.round.blind and person.juror_id is not None

    def written_by() -> str:  # in the recipient's language: email_each calls it once it is set
        return found.label(author.id, author.name, blind=blind, reader_id=person.user.id)

    notifications.email_each(
        session,
        [person.user],
        N_("A message for you in the jury's discussion of %(challenge)s"),
        "emails/deliberation_mention.txt",
        subject_vars={"challenge": found.view.challenge.challenge.title},
        name=person.user.name,
        author=written_by,
        round=found.view.round,
        challenge=found.view.challenge.challenge,
        link=site_url(found.path),
    )


def add_note(session: Session, actor: Actor, found: Discussion, body: str) -> StaffNote:
    """A staff note on the entry; NotFound for whoever may not read them."""
    if found.notes is None or actor.user is None:
        raise NotFound()
    note = StaffNote(
        round_id=found.round_id,
        entry_id=found.entry_id,
        author_id=actor.user.id,
        author_name=actor.user.name[:120],
        body=_body(body, "note"),
        created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    return note
