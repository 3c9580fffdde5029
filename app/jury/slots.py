"""Audition pitch slots: the staff create them and assign them to entries, or open them for the startups to
book; every booking sends an .ics invitation to the startup and to the round's jurors.

Rules:
- Only an audition round has slots (409 for any other kind). The staff create them (a start in the
  programme's time zone, a duration, a place or a video link; several at once: "every 30 minutes from 9:00
  to 12:00"), remove a free one, assign one to an entry or free it, and open or close booking — until the
  round is closed.
- One slot per entry, one entry per slot: a slot taken by another entry is refused (409); giving an entry a
  new slot frees its old one.
- A startup member books a free slot for its entry of an audition round while booking is open and the round
  has not opened yet (it may change its booking until then), for a slot still to come. Anyone else is answered
  404 on the startup's pages, as for a record they may not know exists.
- Who sees what of a slot: its time and whether it is taken, to the staff, the round's jurors and the startups
  of its entries; whose pitch it is, to the staff, to a juror assigned to that entry (never across a conflict
  of interest), and to that entry's startup.
- Each booking, assignment or freeing emails the entry's startup members and the round's seated jurors (not
  those conflicted with the startup), each in their language, with the invitation (ics.py) or its
  cancellation. In a blind round the jurors' email and invitation say "a pitch": no startup, no title. A
  startup's invitation never names the jurors; a juror's names that juror only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlmodel import Session, col, select

from app.accounts.models import Membership, Organisation, User
from app.audit import service as audit
from app.challenges import service as challenges
from app.challenges.service import ChallengeView
from app.config import site_url
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_, format_datetime, gettext
from app.jury import conflicts, ics
from app.jury import permissions as can
from app.jury.jurors import seated_jurors
from app.jury.models import JuryAssignment, JuryEntry, JuryRound, PitchSlot, RoundKind, RoundStatus
from app.jury.records import RoundView, get_managed_round, get_round, reader_conflicts
from app.jury.schemas import RoundUpdate
from app.jury.service import update_round
from app.notifications import service as notifications
from app.notifications.service import Recipient
from app.proposals import records as proposal_records
from app.proposals.models import Proposal
from app.security.actor import Actor

MAX_SLOTS_AT_ONCE = 100

Minutes = Annotated[int, Field(ge=5, le=480)]


class SlotsIn(BaseModel):
    """One slot, or a series: from `starts_at` every `every_minutes` while a slot ends by `until`. Times
    without an offset are in the programme's time zone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    starts_at: datetime
    duration_minutes: Minutes = 20
    every_minutes: Minutes | None = None
    until: datetime | None = None
    place: Annotated[str, StringConstraints(max_length=300)] = ""
    video_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^(https?://\S+)?$")] = ""

    @model_validator(mode="after")
    def _series(self) -> "SlotsIn":
        if (self.every_minutes is None) != (self.until is None):
            raise ValueError("Give both how often and until when, or neither for a single slot.")
        return self


class SlotEntryIn(BaseModel):
    """The entry a slot is given to (staff), or none to free it."""

    model_config = ConfigDict(extra="forbid")
    entry: Annotated[int, Field(ge=1, le=2_147_483_647)] | None


class BookingIn(BaseModel):
    """The proposal a booking is for: needed only by someone whose startups have several entries in the round."""

    model_config = ConfigDict(extra="forbid")
    proposal: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None


@dataclass
class SlotView:
    """A slot as one reader sees it: `entry`, `proposal` and `startup` are None where the reader may not know
    whose pitch it is (`taken` still says that it is someone's)."""

    slot: PitchSlot
    timezone: str
    entry: JuryEntry | None = None
    proposal_title: str | None = None
    startup: Organisation | None = None

    @property
    def id(self) -> int:
        return self.slot.id or 0

    @property
    def taken(self) -> bool:
        return self.slot.entry_id is not None

    @property
    def starts_at(self) -> datetime:
        return self.slot.starts_at.astimezone(ZoneInfo(self.timezone))

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.slot.duration_minutes)

    @property
    def location(self) -> str:
        return ics.location(self.slot)


# ---- predicates -------------------------------------------------------------------------------------------


def has_slots(round_: JuryRound) -> bool:
    return round_.kind == RoundKind.audition


def slots_change(round_: JuryRound, now: datetime) -> bool:
    """The staff change slots and their assignments until the round is closed."""
    return can.effective_status(round_, now) in (RoundStatus.draft, RoundStatus.open)


def booking_open(round_: JuryRound) -> bool:
    """Startups book (and change their booking) while booking is open and the round has not opened."""
    return has_slots(round_) and round_.slots_bookable and round_.status == RoundStatus.draft


def _require_slots(round_: JuryRound) -> None:
    if not has_slots(round_):
        raise Conflict("Only an audition round has pitch slots.")


def _require_changeable(view: RoundView) -> None:
    _require_slots(view.round)
    if not slots_change(view.round, view.now):
        raise Conflict("A closed round cannot change.")


# ---- reading ----------------------------------------------------------------------------------------------


def slot_for_entry(session: Session, entry_id: int) -> PitchSlot | None:
    """The pitch slot of an entry, if it has one: for pages that already checked the reader may see the entry
    (a juror's scoring page shows its time with RoundView.local)."""
    return session.exec(select(PitchSlot).where(PitchSlot.entry_id == entry_id)).first()


def _round_slots(session: Session, round_id: int) -> list[PitchSlot]:
    return list(
        session.exec(
            select(PitchSlot)
            .where(PitchSlot.round_id == round_id)
            .order_by(col(PitchSlot.starts_at), col(PitchSlot.id))
        )
    )


def _views(
    session: Session, slots: Sequence[PitchSlot], timezone: str, shown_entries: set[int] | None
) -> list[SlotView]:
    """Views of slots naming the pitch of the entries in `shown_entries` (all when None)."""
    entry_ids = {s.entry_id for s in slots if s.entry_id is not None}
    if shown_entries is not None:
        entry_ids &= shown_entries
    rows = session.exec(
        select(JuryEntry, Proposal.title, Organisation)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .join(Organisation, col(Organisation.id) == Proposal.startup_id)
        .where(col(JuryEntry.id).in_(entry_ids or {-1}))
    ).all()
    found = {entry.id: (entry, title, startup) for entry, title, startup in rows}
    views = []
    for slot in slots:
        shown = found.get(slot.entry_id)
        if shown is None:
            views.append(SlotView(slot, timezone))
        else:
            entry, title, startup = shown
            views.append(SlotView(slot, timezone, entry, title or gettext("Untitled proposal"), startup))
    return views


def schedulable_entries(
    session: Session, view: RoundView, *, left_out: bool = False
) -> list[tuple[JuryEntry, str, Organisation]]:
    """The round's entries (not left out, unless `left_out`), with their proposal's title and startup, for the
    staff to give slots to — except those of startups the reader is conflicted with (the jury's pages show them
    nothing of those)."""
    if not view.staff:
        raise NotFound()
    query = (
        select(JuryEntry, Proposal.title, Organisation)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .join(Organisation, col(Organisation.id) == Proposal.startup_id)
        .where(JuryEntry.round_id == view.id)
        .order_by(col(Organisation.name), col(JuryEntry.id))
    )
    if not left_out:
        query = query.where(col(JuryEntry.excluded_at).is_(None))
    rows = session.exec(query).all()
    conflicted = reader_conflicts(session, view.actor, {startup.id or 0 for _, _, startup in rows})
    return [
        (entry, title or gettext("Untitled proposal"), startup)
        for entry, title, startup in rows
        if startup.id not in conflicted
    ]


def staff_slots(session: Session, view: RoundView) -> list[SlotView]:
    """Every slot of the round with whose pitch it is (but for the reader's conflicts): the staff's page."""
    shown = {entry.id or 0 for entry, _, _ in schedulable_entries(session, view, left_out=True)}
    return _views(session, _round_slots(session, view.id), view.timezone, shown)


def _own_entries(session: Session, actor: Actor, round_id: int) -> list[JuryEntry]:
    """The actor's startups' entries in the round that are not left out."""
    startups = actor.organisation_ids("startup") if actor.is_authenticated else set()
    if not startups:
        return []
    return list(
        session.exec(
            select(JuryEntry)
            .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
            .where(
                JuryEntry.round_id == round_id,
                col(JuryEntry.excluded_at).is_(None),
                col(Proposal.startup_id).in_(startups),
            )
            .order_by(col(JuryEntry.id))
        )
    )


def _juror_entries(session: Session, actor: Actor, view: RoundView) -> set[int]:
    """The entries a juror may know the pitch of: their own assignments', never across a conflict."""
    if view.seat is None:
        return set()
    rows = session.exec(
        select(JuryEntry.id, Proposal.startup_id)
        .join(JuryAssignment, col(JuryAssignment.entry_id) == JuryEntry.id)
        .join(Proposal, col(Proposal.id) == JuryEntry.proposal_id)
        .where(JuryAssignment.juror_id == view.seat.id)
    ).all()
    conflicted = reader_conflicts(session, actor, {startup for _, startup in rows})
    return {entry_id or 0 for entry_id, startup in rows if startup not in conflicted}


def readable_slots(session: Session, actor: Actor, round_id: int) -> list[SlotView]:
    """The round's slots as the actor may see them (see the rules); NotFound for anyone else."""
    try:
        view: RoundView | None = get_round(session, actor, round_id)
    except NotFound:
        view = None
    if view is not None and view.staff:
        return staff_slots(session, view)
    if view is not None and view.is_juror:
        return _views(session, _round_slots(session, round_id), view.timezone, _juror_entries(session, actor, view))
    round_ = session.get(JuryRound, round_id)
    if round_ is None or not has_slots(round_):
        raise NotFound()
    own = _own_entries(session, actor, round_id)
    if not own:
        raise NotFound()
    timezone = challenges.get_challenge(session, actor, round_.challenge_id).programme.timezone
    return _views(session, _round_slots(session, round_id), timezone, {e.id or 0 for e in own})


def get_slot(session: Session, actor: Actor, slot_id: int) -> SlotView:
    """One slot as the actor may see it (readable_slots); NotFound for anyone else."""
    slot = session.get(PitchSlot, slot_id)
    if slot is None:
        raise NotFound()
    return next(v for v in readable_slots(session, actor, slot.round_id) if v.id == slot_id)


def may_read(session: Session, actor: Actor, round_id: int) -> bool:
    """Whether the actor may see the round's slots: a refused change is then a 403 on the API, not a 404."""
    try:
        readable_slots(session, actor, round_id)
    except NotFound:
        return False
    return True


@dataclass
class Audition:
    """An audition round a startup's proposal is entered in: its own slot, and the slots it may book."""

    round: JuryRound
    entry: JuryEntry
    slot: SlotView | None
    free: list[SlotView]
    timezone: str

    @property
    def may_book(self) -> bool:
        return booking_open(self.round)


def auditions(session: Session, actor: Actor, proposal_id: int, *, now: datetime | None = None) -> list[Audition]:
    """The audition rounds a proposal is entered in, for its startup's members only (NotFound for anyone
    else, the staff included: this is the startup's page)."""
    now = now or utcnow()
    proposal = proposal_records.get_member_proposal(session, actor, proposal_id)
    timezone = proposal.challenge.programme.timezone
    found = []
    for entry, round_ in session.exec(
        select(JuryEntry, JuryRound)
        .join(JuryRound, col(JuryRound.id) == JuryEntry.round_id)
        .where(
            JuryEntry.proposal_id == proposal_id,
            col(JuryEntry.excluded_at).is_(None),
            JuryRound.kind == RoundKind.audition,
        )
        .order_by(col(JuryRound.position))
    ):
        slots = _views(session, _round_slots(session, round_.id or 0), timezone, {entry.id or 0})
        own = next((s for s in slots if s.slot.entry_id == entry.id), None)
        free = [s for s in slots if not s.taken and s.slot.starts_at > now]
        found.append(Audition(round_, entry, own, free, timezone))
    return found


# ---- the staff's changes ----------------------------------------------------------------------------------


def _aware(value: datetime, timezone: str) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(timezone))


def _starts(data: SlotsIn, timezone: str) -> list[datetime]:
    """The starts of the slots asked for, in UTC. A series steps on the programme's wall clock, so that "every
    30 minutes from 9:00" stays on the half hours across a change of offset."""
    zone = ZoneInfo(timezone)
    first = _aware(data.starts_at, timezone).astimezone(zone).replace(tzinfo=None)
    if data.every_minutes is None or data.until is None:
        return [first.replace(tzinfo=zone)]
    until = _aware(data.until, timezone).astimezone(zone).replace(tzinfo=None)
    length, step = timedelta(minutes=data.duration_minutes), timedelta(minutes=data.every_minutes)
    starts, start = [], first
    while start + length <= until:
        if _exists(start, zone):  # the hour skipped when clocks go forward has no slot
            starts.append(start.replace(tzinfo=zone))
        if len(starts) > MAX_SLOTS_AT_ONCE:
            raise Invalid({"until": "Create at most %(count)s slots at once."}, count=MAX_SLOTS_AT_ONCE)
        start += step
    if not starts:
        raise Invalid({"until": "No slot fits between the start and this time."})
    return starts


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    """The wall-clock time is one the zone's clocks show (not in the gap of a change to summer time)."""
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def create_slots(session: Session, actor: Actor, view: RoundView, data: SlotsIn) -> list[PitchSlot]:
    if not view.staff:
        raise NotFound()
    _require_changeable(view)
    if not data.place and not data.video_url:
        raise Invalid({"place": "Give the place of the pitch or its video link."})
    starts = _starts(data, view.timezone)
    if starts[0] <= view.now:
        raise Invalid({"starts_at": "A pitch slot must start in the future."})
    slots = [
        PitchSlot(
            round_id=view.id,
            starts_at=start.astimezone(UTC),
            duration_minutes=data.duration_minutes,
            place=data.place,
            video_url=data.video_url,
        )
        for start in starts
    ]
    session.add_all(slots)
    session.flush()
    audit.record(session, "slots.created", actor=actor, target=("round", view.id), count=len(slots))
    return slots


def _managed_slot(session: Session, actor: Actor, slot_id: int) -> tuple[PitchSlot, RoundView]:
    """A slot and its round, for the round's staff; NotFound for anyone else. The slot's row is locked
    (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers) so that two changes of it queue."""
    slot = session.get(PitchSlot, slot_id)
    if slot is None:
        raise NotFound()
    view = get_managed_round(session, actor, slot.round_id)
    return _lock(session, slot), view


def _lock(session: Session, slot: PitchSlot) -> PitchSlot:
    return session.exec(
        select(PitchSlot).where(PitchSlot.id == slot.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def remove_slot(session: Session, actor: Actor, slot_id: int) -> None:
    """Remove a free slot (a taken one is freed first, which tells its startup and the jurors)."""
    slot, view = _managed_slot(session, actor, slot_id)
    _require_changeable(view)
    if slot.entry_id is not None:
        raise Conflict("This slot is taken: free it before removing it.")
    session.delete(slot)
    session.flush()
    audit.record(session, "slot.removed", actor=actor, target=("slot", slot_id), round=view.id)


def assign_slot(session: Session, actor: Actor, slot_id: int, entry_id: int | None) -> PitchSlot:
    """The staff give a slot to an entry of its round (its old slot is freed), or free it (entry None)."""
    slot, view = _managed_slot(session, actor, slot_id)
    _require_changeable(view)
    if entry_id is None:
        if slot.entry_id is not None:
            _free(session, view, slot)
            audit.record(session, "slot.freed", actor=actor, target=("slot", slot.id), round=view.id)
        return slot
    entry = session.get(JuryEntry, entry_id)
    if entry is None or entry.round_id != view.id:
        raise Invalid({"entry": "This proposal is not an entry of the round."})
    if entry.excluded_at is not None:
        raise Invalid({"entry": "This proposal is left out of the round."})
    _give(session, view, slot, entry, actor)
    audit.record(session, "slot.assigned", actor=actor, target=("slot", slot.id), entry=entry.id)
    return slot


def release_entry(session: Session, view: RoundView, entry: JuryEntry) -> None:
    """Free the slot of an entry left out of the round (its startup and the jurors are told it is cancelled)."""
    if (slot := slot_for_entry(session, entry.id or 0)) is not None:
        _free(session, view, _lock(session, slot))


def set_booking(session: Session, actor: Actor, view: RoundView, open_: bool) -> RoundView:
    """Open or close the round's slots for the startups to book."""
    if not view.staff:
        raise NotFound()
    _require_changeable(view)
    return update_round(session, actor, view, RoundUpdate(slots_bookable=open_))


# ---- booking ----------------------------------------------------------------------------------------------


def book_slot(session: Session, actor: Actor, slot_id: int, proposal_id: int | None = None) -> SlotView:
    """A startup member books a free slot of an audition round for their startup's entry."""
    slot = session.get(PitchSlot, slot_id)
    round_ = session.get(JuryRound, slot.round_id) if slot is not None else None
    if slot is None or round_ is None:
        raise NotFound()
    own = [e for e in _own_entries(session, actor, round_.id or 0) if proposal_id in (None, e.proposal_id)]
    if not own:
        raise NotFound()
    if len(own) > 1:
        raise Invalid({"proposal": "Say which of your proposals this booking is for."})
    entry = own[0]
    _require_slots(round_)
    if not round_.slots_bookable:
        raise Conflict("The pitch slots of this round are not open for booking.")
    if round_.status != RoundStatus.draft:
        raise Conflict("The round has opened: the pitch times no longer change. Write to the organisers.")
    slot = _lock(session, slot)
    if slot.starts_at <= utcnow():
        raise Conflict("This slot has passed: choose another one.")
    view = get_round_for_startup(session, actor, round_)
    _give(session, view, slot, entry, actor)
    audit.record(session, "slot.booked", actor=actor, target=("slot", slot.id), entry=entry.id)
    return _views(session, [slot], view.timezone, {entry.id or 0})[0]


def get_round_for_startup(session: Session, actor: Actor, round_: JuryRound) -> RoundView:
    """The round as its notifications need it (its challenge, programme and time zone), for a startup that
    checked its entry: a startup may not read the round itself."""
    challenge = challenges.get_challenge(session, actor, round_.challenge_id)
    return RoundView(round_, challenge, [], actor, staff=False, seat=None, now=utcnow())


def _give(session: Session, view: RoundView, slot: PitchSlot, entry: JuryEntry, actor: Actor) -> None:
    if slot.entry_id == entry.id:
        return
    if slot.entry_id is not None:
        raise Conflict("This slot is taken. Choose a free one.")
    locked_entry = session.exec(
        select(JuryEntry).where(JuryEntry.id == entry.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if (old := slot_for_entry(session, locked_entry.id or 0)) is not None:
        _free(session, view, old)
    slot.entry_id = locked_entry.id
    slot.booked_by_id = actor.user_id
    slot.booked_at = utcnow()
    slot.sequence += 1
    session.add(slot)
    session.flush()
    _notify(session, view, slot, locked_entry, cancelled=False)


def _free(session: Session, view: RoundView, slot: PitchSlot) -> None:
    entry = session.get(JuryEntry, slot.entry_id)
    slot.entry_id = None
    slot.booked_by_id = None
    slot.booked_at = None
    slot.sequence += 1
    session.add(slot)
    session.flush()
    if entry is not None:
        _notify(session, view, slot, entry, cancelled=True)


# ---- notifications ----------------------------------------------------------------------------------------


def _members(session: Session, startup_id: int) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(Membership, col(Membership.user_id) == User.id)
            .where(Membership.organisation_id == startup_id, col(User.is_active).is_(True))
            .order_by(col(User.id))
        )
    )


def _jurors_to_tell(session: Session, round_id: int, startup_id: int) -> list[User]:
    """The round's seated jurors who may know of this startup's pitch (not those conflicted with it)."""
    ids = [j.user_id for j in seated_jurors(session, round_id) if j.user_id is not None]
    users = list(session.exec(select(User).where(col(User.id).in_(ids or [-1]), col(User.is_active).is_(True))))
    facts = conflicts.facts_for(session, users, {startup_id})
    return [u for u in users if not facts.is_conflicted(u.id, startup_id)]


def _people(users: Sequence[User]) -> list[ics.Person]:
    return [ics.Person(u.name, u.email) for u in users]


def _notify(session: Session, view: RoundView, slot: PitchSlot, entry: JuryEntry, *, cancelled: bool) -> None:
    proposal = session.get(Proposal, entry.proposal_id)
    assert proposal is not None
    startup = session.get(Organisation, proposal.startup_id)
    assert startup is not None
    challenge: ChallengeView = view.challenge
    method: ics.Method = "CANCEL" if cancelled else "REQUEST"
    members = _members(session, startup.id or 0)
    common: dict[str, Any] = {
        "cancelled": cancelled,
        "challenge": challenge.challenge,
        "round": view.round,
        "slot": slot,
        "when": lambda: format_datetime(slot.starts_at, "zoned", tz=view.timezone),
    }

    def startup_invitation(recipient: Recipient) -> list[notifications.Attachment]:
        summary = gettext("Audition pitch: %(challenge)s", challenge=challenge.challenge.title)
        content = ics.invitation(
            slot, summary=summary, description=_description(view, slot), attendees=_people(members), method=method
        )
        return [ics.attachment(content, method)]

    notifications.email_each(
        session,
        members,
        N_("Your audition pitch for %(challenge)s is cancelled")
        if cancelled
        else N_("Your audition pitch for %(challenge)s"),
        "emails/pitch_startup.txt",
        subject_vars={"challenge": challenge.challenge.title},
        attachments=startup_invitation,
        title=proposal.title,
        startup=startup.name,
        link=site_url(f"/proposals/{proposal.id}/pitch"),
        **common,
    )
    named = None if view.round.blind else startup.name
    jurors = _jurors_to_tell(session, view.id, startup.id or 0)
    names = {u.email: u.name for u in jurors}

    def juror_invitation(recipient: Recipient) -> list[notifications.Attachment]:
        if named is None:
            summary = gettext("Audition pitch — %(round)s", round=view.round.name)
        else:
            summary = gettext("Audition pitch of %(startup)s — %(round)s", startup=named, round=view.round.name)
        me = [ics.Person(names[recipient.email], recipient.email)]
        content = ics.invitation(
            slot, summary=summary, description=_description(view, slot), attendees=me, method=method
        )
        return [ics.attachment(content, method)]

    notifications.email_each(
        session,
        jurors,
        N_("An audition pitch for %(challenge)s is cancelled")
        if cancelled
        else N_("An audition pitch for %(challenge)s"),
        "emails/pitch_jury.txt",
        subject_vars={"challenge": challenge.challenge.title},
        attachments=juror_invitation,
        startup=named,
        title=None if view.round.blind else proposal.title,
        link=site_url(f"/jury/rounds/{view.id}"),
        **common,
    )


def _description(view: RoundView, slot: PitchSlot) -> str:
    lines = [
        f"{view.challenge.challenge.title} — {view.round.name}",
        format_datetime(slot.starts_at, "zoned", tz=view.timezone),
    ]
    if slot.place:
        lines.append(gettext("Place: %(place)s", place=slot.place))
    if slot.video_url:
        lines.append(gettext("Video link: %(link)s", link=slot.video_url))
    return "\n".join(lines)
