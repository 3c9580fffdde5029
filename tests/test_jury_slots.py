"""Audition pitch slots: creation in the programme's time zone, the booking rules, the .ics invitation read back
with icalendar, the outbox carrying it, what a blind round's jurors are told, and both faces."""

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, User
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.jury import ics, slots
from app.jury import service as rounds
from app.jury.models import Juror, JuryEntry, PitchSlot
from app.jury.records import RoundView, get_managed_round, get_round
from app.jury.schemas import EntriesIn, RoundCreate, RoundUpdate
from app.jury.slots import SlotsIn
from app.notifications import service as notifications
from app.notifications.models import OutboxMessage
from app.proposals.models import Proposal, ProposalStatus
from app.security.actor import Actor
from tests.conftest import post_form, sign_in
from tests.factories import Factory

ZONE = "America/New_York"  # five hours behind UTC in January: a local time cannot pass for a UTC one
DAY = datetime(2027, 1, 15)  # in the future, in winter


@dataclass
class Jury:
    db: Session
    make: Factory
    staff: User
    startup_a: Organisation
    member_a: User
    member_a2: User
    member_b: User
    juror: User
    conflicted: User
    proposal_a: Proposal
    proposal_b: Proposal
    entry_a: JuryEntry
    entry_b: JuryEntry
    round_id: int

    def actor(self, user: User | None) -> Actor:
        return self.make.actor(user)

    def view(self) -> RoundView:
        return get_managed_round(self.db, self.actor(self.staff), self.round_id)

    def slots(self, count: int = 1, **fields: object) -> list[PitchSlot]:
        data = {"starts_at": DAY.replace(hour=9), "duration_minutes": 30, "place": "City hall, room 2"} | fields
        if count > 1:
            data |= {"every_minutes": 30, "until": DAY.replace(hour=9) + timedelta(minutes=30 * count)}
        return slots.create_slots(self.db, self.actor(self.staff), self.view(), SlotsIn(**data))

    def set_round(self, **fields: object) -> None:
        rounds.update_round(self.db, self.actor(self.staff), self.view(), RoundUpdate(**fields))

    def outbox(self, user: User) -> list[OutboxMessage]:
        """The pitch emails sent to this user (those with an invitation; the submission receipts have none)."""
        messages = self.db.exec(
            select(OutboxMessage).where(OutboxMessage.to_address == user.email).order_by(col(OutboxMessage.id))
        )
        return [m for m in messages if m.attachments]


def _seat(db: Session, round_id: int, user: User) -> None:
    db.add(Juror(round_id=round_id, user_id=user.id, email=user.email, name=user.name, accepted_at=utcnow()))
    db.flush()


def build_jury(db: Session, make: Factory, *, kind: str = "audition", blind: bool = False, tag: str = "") -> Jury:
    """Startup A (Lumen Works, two members) and B (Darkline) entered in a round of a challenge past its deadline;
    two seated jurors, one of them at startup A's email domain (so conflicted with it). `tag` makes the
    addresses of a second world in the same test distinct."""
    sponsor = make.organisation("partner")
    staff = make.user(f"staff@{tag}city-partner.test", organisation=sponsor, role="admin", name="Samira Staff")
    programme = make.programme(partners=[sponsor], timezone=ZONE)
    challenge = make.published_challenge(sponsor, programme=programme, title="Smart lighting")
    startup_a = make.organisation("startup", name="Lumen Works")
    startup_b = make.organisation("startup", name="Darkline")
    member_a = make.user(f"ana@{tag}lumen-works.test", organisation=startup_a, role="admin", name="Ana Lumen")
    member_a2 = make.user(f"omar@{tag}lumen-works.test", organisation=startup_a, name="Omar Lumen")
    member_b = make.user(f"bo@{tag}darkline.test", organisation=startup_b, role="admin", name="Bo Dark")
    proposal_a = make.proposal(member_a, challenge, submitted=True, title="Night owls")
    proposal_b = make.proposal(member_b, challenge, submitted=True, title="Shadow play")
    challenge.deadline = utcnow() - timedelta(days=1)  # a test world may move the deadline on the row
    for proposal in (proposal_a, proposal_b):
        proposal.status = ProposalStatus.eligible
        db.add(proposal)
    db.add(challenge)
    db.flush()
    staff_actor = make.actor(staff)
    from app.challenges import service as challenges

    round_view = rounds.create_round(
        db,
        staff_actor,
        challenges.get_challenge(db, staff_actor, challenge.id),
        RoundCreate(
            name="Pitches",
            kind=kind,
            opens_at=DAY.replace(hour=8),
            closes_at=DAY + timedelta(days=5),
            blind=blind,
            preset="datacity",
        ),
    )
    entries = rounds.add_entries(db, staff_actor, round_view, EntriesIn(proposals=[proposal_a.id, proposal_b.id]))
    juror = make.user(f"jules@{tag}experts.test", name="Jules Juror")
    conflicted = make.user(f"carla@{tag}lumen-works.test", name="Carla Conflicted")  # startup A's domain
    for user in (juror, conflicted):
        _seat(db, round_view.id, user)
    for user in (staff, member_a, member_a2, member_b, juror, conflicted):
        user.preferred_language = "en"  # the pages and emails the tests read are in English
        db.add(user)
    db.flush()
    by_proposal = {e.proposal_id: e for e in entries}
    return Jury(
        db,
        make,
        staff,
        startup_a,
        member_a,
        member_a2,
        member_b,
        juror,
        conflicted,
        proposal_a,
        proposal_b,
        by_proposal[proposal_a.id],
        by_proposal[proposal_b.id],
        round_view.id,
    )


@pytest.fixture
def jury(db: Session, make: Factory) -> Jury:
    return build_jury(db, make)


def _calendar(message: OutboxMessage) -> Calendar:
    (attached,) = message.attachments
    return Calendar.from_ical(base64.b64decode(attached["content"]))


def _event(message: OutboxMessage):
    (event,) = _calendar(message).walk("VEVENT")
    return event


# ---- creation ---------------------------------------------------------------------------------------------


def test_a_series_every_30_minutes_from_9_to_12_makes_six_slots_at_the_programme_s_local_times(jury):
    created = jury.slots(6)

    assert [s.starts_at for s in created] == [
        datetime(2027, 1, 15, 14, 0, tzinfo=UTC) + timedelta(minutes=30 * i) for i in range(6)
    ]  # 9:00 in New York is 14:00 UTC in January
    shown = slots.staff_slots(jury.db, jury.view())
    assert [(s.starts_at.hour, s.starts_at.minute) for s in shown][:2] == [(9, 0), (9, 30)]
    assert shown[-1].ends_at.hour == 12 and shown[-1].ends_at.minute == 0


def test_a_series_keeps_to_the_wall_clock_across_a_change_of_offset(jury):
    # New York moves to summer time at 2:00 on 14 March 2027: a slot every day at 9:00 local stays at 9:00
    created = jury.slots(
        1,
        starts_at=datetime(2027, 3, 13, 9),
        every_minutes=480,
        until=datetime(2027, 3, 14, 9, 30),
        duration_minutes=30,
    )

    # 9:00, 17:00 and 1:00 EST, then 9:00 EDT
    assert [s.starts_at.astimezone(UTC).hour for s in created] == [14, 22, 6, 13]


def test_a_series_skips_the_hour_that_clocks_skip(jury):
    # at 2:00 on 14 March 2027 New York's clocks jump to 3:00: 2:00 and 2:30 never happen there
    created = jury.slots(1, starts_at=datetime(2027, 3, 14, 1), until=datetime(2027, 3, 14, 4), every_minutes=30)

    assert [s.starts_at.astimezone(UTC).strftime("%H:%M") for s in created] == ["06:00", "06:30", "07:00", "07:30"]


def test_a_slot_needs_a_place_or_a_video_link_and_a_future_start(jury):
    with pytest.raises(Invalid) as missing:
        jury.slots(place="")
    with pytest.raises(Invalid) as past:
        jury.slots(starts_at=datetime(2020, 1, 1, 9))

    assert set(missing.value.errors) == {"place"}
    assert set(past.value.errors) == {"starts_at"}
    assert jury.slots(place="", video_url="https://meet.example.org/pitch")[0].video_url


def test_only_an_audition_round_has_slots_and_only_its_staff_create_them(db, make):
    written = build_jury(db, make, kind="written", tag="w-")
    with pytest.raises(Conflict):
        written.slots()
    jury = build_jury(db, make)
    rounds.open_round(db, jury.actor(jury.staff), jury.view())
    seen_by_juror = get_round(db, jury.actor(jury.juror), jury.round_id)  # a juror sees the open round
    with pytest.raises(NotFound):
        slots.create_slots(db, jury.actor(jury.juror), seen_by_juror, SlotsIn(starts_at=DAY, place="Hall"))


# ---- booking ----------------------------------------------------------------------------------------------


def test_a_startup_books_a_free_slot_once_booking_is_open_and_may_change_it_until_the_round_opens(jury):
    first, second = jury.slots(2)
    a = jury.actor(jury.member_a)
    with pytest.raises(Conflict):  # booking not open yet
        slots.book_slot(jury.db, a, first.id)
    jury.set_round(slots_bookable=True)

    slots.book_slot(jury.db, a, first.id)
    assert slots.slot_for_entry(jury.db, jury.entry_a.id).id == first.id
    slots.book_slot(jury.db, a, second.id)  # a change: one slot per entry, the first one is free again

    assert slots.slot_for_entry(jury.db, jury.entry_a.id).id == second.id
    assert jury.db.get(PitchSlot, first.id).entry_id is None
    rounds.open_round(jury.db, jury.actor(jury.staff), jury.view())
    with pytest.raises(Conflict):
        slots.book_slot(jury.db, a, first.id)


def test_a_slot_taken_by_another_startup_is_refused_409_and_others_get_404(jury):
    (slot,) = jury.slots()
    jury.set_round(slots_bookable=True)
    slots.book_slot(jury.db, jury.actor(jury.member_a), slot.id)

    with pytest.raises(Conflict):
        slots.book_slot(jury.db, jury.actor(jury.member_b), slot.id)
    for outsider in (jury.juror, jury.staff, jury.make.user("nobody@elsewhere.test")):
        with pytest.raises(NotFound):
            slots.book_slot(jury.db, jury.actor(outsider), slot.id)
    assert jury.db.get(PitchSlot, slot.id).entry_id == jury.entry_a.id


def test_a_round_that_is_no_longer_an_audition_takes_no_booking(jury):
    (slot,) = jury.slots()
    jury.set_round(slots_bookable=True, kind="written")

    with pytest.raises(Conflict):
        slots.book_slot(jury.db, jury.actor(jury.member_a), slot.id)


def test_the_staff_assign_a_slot_free_it_and_cannot_give_a_taken_one(jury):
    first, second = jury.slots(2)
    staff = jury.actor(jury.staff)
    slots.assign_slot(jury.db, staff, first.id, jury.entry_a.id)
    with pytest.raises(Conflict):
        slots.assign_slot(jury.db, staff, first.id, jury.entry_b.id)
    with pytest.raises(Conflict):
        slots.remove_slot(jury.db, staff, first.id)
    slots.assign_slot(jury.db, staff, second.id, jury.entry_a.id)  # moves A
    slots.assign_slot(jury.db, staff, first.id, jury.entry_b.id)
    slots.assign_slot(jury.db, staff, second.id, None)

    assert slots.slot_for_entry(jury.db, jury.entry_a.id) is None
    assert slots.slot_for_entry(jury.db, jury.entry_b.id).id == first.id
    slots.remove_slot(jury.db, staff, second.id)
    assert jury.db.get(PitchSlot, second.id) is None


def test_an_entry_left_out_of_the_round_gives_its_slot_back_and_its_startup_is_told(jury):
    (slot,) = jury.slots()
    slots.assign_slot(jury.db, jury.actor(jury.staff), slot.id, jury.entry_a.id)

    rounds.exclude_entry(jury.db, jury.actor(jury.staff), jury.view(), jury.entry_a.id, "Withdrew from the pilot.")

    assert jury.db.get(PitchSlot, slot.id).entry_id is None
    invitation, cancellation = jury.outbox(jury.member_a)
    assert [_calendar(m)["METHOD"] for m in (invitation, cancellation)] == ["REQUEST", "CANCEL"]


def test_the_startup_sees_its_audition_and_the_free_slots_and_nobody_else_does(jury):
    first, second = jury.slots(2)
    slots.assign_slot(jury.db, jury.actor(jury.staff), first.id, jury.entry_b.id)

    (audition,) = slots.auditions(jury.db, jury.actor(jury.member_a), jury.proposal_a.id)
    assert audition.slot is None and [s.id for s in audition.free] == [second.id]
    assert not audition.may_book
    for outsider in (jury.member_b, jury.staff, jury.juror):
        with pytest.raises(NotFound):
            slots.auditions(jury.db, jury.actor(outsider), jury.proposal_a.id)
    # B sees first is taken, but not by whom it is for A
    shown = {s.id: s for s in slots.readable_slots(jury.db, jury.actor(jury.member_a), jury.round_id)}
    assert shown[first.id].taken and shown[first.id].startup is None


# ---- the invitation -----------------------------------------------------------------------------------------


def test_the_invitation_parses_back_with_the_slot_s_utc_times_a_stable_uid_and_a_rising_sequence(jury):
    first, second = jury.slots(2, video_url="https://meet.example.org/pitch")
    jury.set_round(slots_bookable=True)
    slots.book_slot(jury.db, jury.actor(jury.member_a), first.id)
    slots.book_slot(jury.db, jury.actor(jury.member_a), second.id)
    slots.book_slot(jury.db, jury.actor(jury.member_a), first.id)

    # to A's member: first booked, first cancelled and second booked, second cancelled and first booked again
    request, cancel, _, _, again = jury.outbox(jury.member_a)
    calendar = _calendar(request)
    event = _event(request)
    assert calendar["METHOD"] == "REQUEST"
    assert event.decoded("DTSTART") == datetime(2027, 1, 15, 14, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2027, 1, 15, 14, 30, tzinfo=UTC)
    assert "20270115T140000Z" in request_text(request)
    assert str(event["LOCATION"]) == "City hall, room 2"
    assert str(event["URL"]) == "https://meet.example.org/pitch"
    assert str(event["ORGANIZER"]) == "mailto:no-reply@medina.local"
    assert sorted(str(a) for a in event["ATTENDEE"]) == ["mailto:ana@lumen-works.test", "mailto:omar@lumen-works.test"]
    assert str(event["UID"]) == ics.slot_uid(first) == str(_event(again)["UID"])
    assert _calendar(cancel)["METHOD"] == "CANCEL" and str(_event(cancel)["UID"]) == ics.slot_uid(first)
    assert int(event["SEQUENCE"]) < int(_event(cancel)["SEQUENCE"]) < int(_event(again)["SEQUENCE"])


def request_text(message: OutboxMessage) -> str:
    return base64.b64decode(message.attachments[0]["content"]).decode()


def test_a_booking_emails_the_startup_and_the_unconflicted_jurors_each_with_the_ics_attached(jury):
    (slot,) = jury.slots()
    slots.assign_slot(jury.db, jury.actor(jury.staff), slot.id, jury.entry_a.id)

    for user in (jury.member_a, jury.member_a2, jury.juror):
        (message,) = jury.outbox(user)
        (attached,) = message.attachments
        assert attached["filename"] == "pitch.ics"
        assert attached["media_type"] == "text/calendar; method=REQUEST; charset=utf-8"
        assert "Smart lighting" in message.subject
    assert jury.outbox(jury.conflicted) == []  # conflicted with startup A: never told of its pitch
    assert jury.outbox(jury.member_b) == []
    (juror_message,) = jury.outbox(jury.juror)
    assert "Lumen Works" in juror_message.body  # not blind: the jurors know whose pitch it is
    assert [str(a) for a in [_event(juror_message)["ATTENDEE"]]] == ["mailto:jules@experts.test"]


def test_in_a_blind_round_the_jurors_email_and_invitation_do_not_name_the_startup(db, make):
    jury = build_jury(db, make, blind=True)
    (slot,) = jury.slots()
    slots.assign_slot(jury.db, jury.actor(jury.staff), slot.id, jury.entry_a.id)

    (message,) = jury.outbox(jury.juror)
    told = message.subject + message.body + request_text(message)
    for name in ("Lumen", "Ana", "Omar", "Night owls", "lumen-works"):
        assert name not in told
    assert "A pitch of the auditions" in message.body
    assert "Lumen Works" in jury.outbox(jury.member_a)[0].body  # the startup itself is told by name


def test_each_email_is_in_its_recipient_s_language(jury):
    jury.juror.preferred_language = "fr"
    jury.db.add(jury.juror)
    (slot,) = jury.slots()
    slots.assign_slot(jury.db, jury.actor(jury.staff), slot.id, jury.entry_a.id)

    (message,) = jury.outbox(jury.juror)
    assert message.subject != jury.outbox(jury.member_a)[0].subject
    assert "Smart lighting" in message.subject


def test_delivery_attaches_the_invitation_as_text_calendar_with_method_request(jury, monkeypatch):
    (slot,) = jury.slots()
    slots.assign_slot(jury.db, jury.actor(jury.staff), slot.id, jury.entry_a.id)
    (message,) = jury.outbox(jury.member_a)
    sent = []

    class FakeSmtp:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, email):
            sent.append(email)

    monkeypatch.setattr(notifications.smtplib, "SMTP", FakeSmtp)
    notifications.deliver(message, "smtp://127.0.0.1:2525")

    (email,) = sent
    (part,) = list(email.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "pitch.ics"
    assert Calendar.from_ical(part.get_content())["METHOD"] == "REQUEST"
    assert "Night owls" in email.get_body(preferencelist=("plain",)).get_content()


# ---- the pages ------------------------------------------------------------------------------------------------


def test_the_staff_create_a_series_on_the_schedule_page_in_local_time_and_give_a_slot(jury, client):
    sign_in(client, jury.staff.email)
    page = f"/rounds/{jury.round_id}/slots"
    assert client.get(page).status_code == 200

    form = {"date": "2027-01-15", "start": "09:00", "until": "12:00", "duration": "30", "place": "Room 2"}
    response = post_form(client, page, form, page=page)

    assert response.status_code == 303
    created = jury.db.exec(select(PitchSlot).order_by(col(PitchSlot.starts_at))).all()
    assert len(created) == 6 and created[0].starts_at == datetime(2027, 1, 15, 14, 0, tzinfo=UTC)
    shown = client.get(page).text
    assert "Room 2" in shown and "9:00" in shown and "Lumen Works" in shown  # the entries to give slots to
    response = post_form(client, f"/slots/{created[0].id}/entry", {"entry": str(jury.entry_a.id)}, page=page)
    assert response.status_code == 303
    assert jury.db.get(PitchSlot, created[0].id).entry_id == jury.entry_a.id
    taken = post_form(client, f"/slots/{created[0].id}/entry", {"entry": str(jury.entry_b.id)}, page=page)
    assert taken.status_code == 409 and "This slot is taken" in taken.text


def test_the_schedule_form_names_the_field_in_error_and_keeps_the_input(jury, client):
    sign_in(client, jury.staff.email)
    page = f"/rounds/{jury.round_id}/slots"
    response = post_form(
        client, page, {"date": "2027-01-15", "start": "nine", "duration": "30", "place": "Hall B"}, page=page
    )

    assert response.status_code == 422
    assert 'id="e-start"' in response.text and 'value="Hall B"' in response.text
    assert jury.db.exec(select(PitchSlot)).all() == []


def test_the_schedule_page_is_a_404_to_jurors_and_startups(jury, client):
    for user in (jury.juror, jury.member_a):
        client.cookies.clear()
        sign_in(client, user.email)
        assert client.get(f"/rounds/{jury.round_id}/slots").status_code == 404


def test_a_startup_member_books_on_its_audition_page_and_others_get_404(jury, client):
    first, second = jury.slots(2)
    jury.set_round(slots_bookable=True)
    page = f"/proposals/{jury.proposal_a.id}/pitch"
    sign_in(client, jury.member_a2.email)  # a plain member books too
    before = client.get(page)
    assert before.status_code == 200 and "Choose a time" in before.text

    assert post_form(client, page, {"slot": str(second.id)}, page=page).status_code == 303
    after = client.get(page).text
    assert "Your pitch:" in after and "9:30" in after
    assert slots.slot_for_entry(jury.db, jury.entry_a.id).id == second.id
    for user in (jury.staff, jury.juror, jury.member_b):
        client.cookies.clear()
        sign_in(client, user.email)
        assert client.get(page).status_code == 404
    own_page = f"/proposals/{jury.proposal_b.id}/pitch"
    assert post_form(client, page, {"slot": str(first.id)}, page=own_page).status_code == 404  # B on A's page
    assert jury.db.get(PitchSlot, first.id).entry_id is None


def test_a_taken_slot_is_refused_on_the_audition_page_with_409(jury, client):
    (slot,) = jury.slots()
    jury.set_round(slots_bookable=True)
    slots.book_slot(jury.db, jury.actor(jury.member_a), slot.id)
    sign_in(client, jury.member_b.email)
    page = f"/proposals/{jury.proposal_b.id}/pitch"

    response = post_form(client, page, {"slot": str(slot.id)}, page=page)

    assert response.status_code == 409 and "This slot is taken" in response.text
    assert "Lumen" not in response.text


# ---- the API --------------------------------------------------------------------------------------------------


def _bearer(jury: Jury, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {jury.make.token(user, 'write')[1]}"}


def test_the_api_creates_a_series_lists_it_books_and_assigns(jury, client):
    staff = _bearer(jury, jury.staff)
    created = client.post(
        f"/api/v1/rounds/{jury.round_id}/slots",
        json={"starts_at": "2027-01-15T09:00:00", "duration_minutes": 30, "every_minutes": 30,
              "until": "2027-01-15T10:00:00", "video_url": "https://meet.example.org/p"},
        headers=staff,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    items = created.json()["items"]
    assert [i["starts_at"] for i in items] == ["2027-01-15T09:00:00-05:00", "2027-01-15T09:30:00-05:00"]
    first, second = (i["id"] for i in items)

    refused = client.post(f"/api/v1/slots/{first}/book", headers=_bearer(jury, jury.member_a))
    assert refused.status_code == 409  # booking is not open
    jury.set_round(slots_bookable=True)
    booked = client.post(f"/api/v1/slots/{first}/book", headers=_bearer(jury, jury.member_a))
    assert booked.status_code == 200 and booked.json()["proposal"] == jury.proposal_a.id
    assert client.post(f"/api/v1/slots/{first}/book", headers=_bearer(jury, jury.member_b)).status_code == 409
    assert client.post(f"/api/v1/slots/{first}/book", headers=staff).status_code == 403  # sees it, books nothing

    listed = client.get(f"/api/v1/rounds/{jury.round_id}/slots", headers=_bearer(jury, jury.member_b)).json()
    assert [(i["taken"], i["proposal"]) for i in listed["items"]] == [(True, None), (False, None)]
    assigned = client.put(f"/api/v1/slots/{second}/entry", json={"entry": jury.entry_b.id}, headers=staff)
    assert assigned.status_code == 200 and assigned.json()["proposal"] == jury.proposal_b.id
    assert (
        client.put(
            f"/api/v1/slots/{second}/entry", json={"entry": None}, headers=_bearer(jury, jury.member_b)
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/slots/{second}", headers=staff).status_code == 409
    outsider = jury.make.user("x@nowhere.test")
    assert client.get(f"/api/v1/rounds/{jury.round_id}/slots", headers=_bearer(jury, outsider)).status_code == 404


def test_a_juror_lists_the_slots_naming_only_the_pitches_of_their_assignments(jury, client):
    first, second = jury.slots(2)
    staff = jury.actor(jury.staff)
    slots.assign_slot(jury.db, staff, first.id, jury.entry_a.id)
    slots.assign_slot(jury.db, staff, second.id, jury.entry_b.id)
    juror_row = jury.db.exec(select(Juror).where(Juror.user_id == jury.juror.id)).one()
    from app.jury.models import JuryAssignment

    jury.db.add(JuryAssignment(round_id=jury.round_id, juror_id=juror_row.id, entry_id=jury.entry_b.id))
    rounds.open_round(jury.db, staff, jury.view())

    listed = client.get(f"/api/v1/rounds/{jury.round_id}/slots", headers=_bearer(jury, jury.juror)).json()["items"]
    assert [(i["taken"], i["proposal"]) for i in listed] == [(True, None), (True, jury.proposal_b.id)]
    assert slots.slot_for_entry(jury.db, jury.entry_b.id).id == second.id


def test_the_pages_read_in_arabic_right_to_left_with_the_programme_s_local_times(jury, client):
    jury.slots(2)
    jury.set_round(slots_bookable=True)
    pages = (
        (jury.staff, f"/rounds/{jury.round_id}/slots", "مواعيد العروض"),
        (jury.member_a, f"/proposals/{jury.proposal_a.id}/pitch", "عرضكم في جولة الاستماع"),
    )
    for user, page, title in pages:
        user.preferred_language = "ar"
        jury.db.add(user)
        client.cookies.clear()
        sign_in(client, user.email)
        text = client.get(page).text
        assert 'dir="rtl"' in text and title in text
        assert "America/New_York" in text


def test_the_proposal_page_leads_its_startup_to_the_audition_and_shows_the_booked_slot(jury, client):
    (slot,) = jury.slots()
    proposal_page = f"/proposals/{jury.proposal_a.id}"
    sign_in(client, jury.member_a.email)
    jury.set_round(slots_bookable=True)
    page = client.get(proposal_page).text
    assert f'href="/proposals/{jury.proposal_a.id}/pitch"' in page and "Book a pitch slot" in page
    slots.book_slot(jury.db, jury.actor(jury.member_a), slot.id)
    assert "Your pitch for" in client.get(proposal_page).text
