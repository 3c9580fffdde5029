"""The jury's deliberation on an entry: who reads its thread under each `others_visible` setting, conflicted
readers (404, and never listed), mentions by checkbox and by "@address" (one email each, in the recipient's
language, never to someone who may not read the thread), staff notes the jurors never see, the names a blind
round hides, bodies' limits, a decided round read-only, and a constant number of queries."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import utcnow
from app.jury import assignments, jurors, reviews
from app.jury import service as jury
from app.jury.models import Juror, JuryAssignment, JuryConflict, RoundStatus
from app.jury.records import get_assignment, get_managed_round
from app.jury.schemas import AssignmentIn, EntriesIn, JurorIn, ReviewIn, RoundCreate
from app.notifications.models import OutboxMessage
from app.proposals import records
from app.proposals import service as proposals
from app.proposals.schemas import EligibilityDecision
from app.selection import deliberation
from app.selection.models import DeliberationMessage, StaffNote
from tests.conftest import CSRF_RE, sign_in
from tests.test_jury_staff_web import _queries


def _post(client, path, data, page=None):
    match = CSRF_RE.search(client.get(page or "/login").text)
    assert match
    return client.post(path, data={"csrf_token": match.group(1), **data}, headers={"Origin": "http://testserver"})


@pytest.fixture(autouse=True)
def _english(client):
    client.headers["Accept-Language"] = "en"


def _build(db, make, *, others_visible="after_own", blind=False, domain="jury.example"):
    """A challenge of Lydec past its deadline; LeakSense's and AquaTrack's proposals in an open round; the staff
    (Lydec's City Staff and Other Staff); jurors Amina and Brahim on LeakSense, Chaima on AquaTrack, and Driss,
    who declared a conflict with LeakSense, on AquaTrack."""
    operator = make.organisation("operator")
    lydec = make.organisation("partner", name="Lydec")
    programme = make.programme(operator, partners=[lydec])
    challenge = make.published_challenge(lydec, programme=programme, title="Water leaks")
    staff_user = make.user(organisation=lydec, name="City Staff")
    other_staff = make.user(organisation=lydec, name="Other Staff")
    proposal_ids, startups = [], []
    for startup_name, founder_name in (("LeakSense", "Salma Bennani"), ("AquaTrack", "Youssef Alaoui")):
        startup = make.organisation("startup", name=startup_name)
        founder = make.user(organisation=startup, role="admin", name=founder_name)
        proposal = make.proposal(
            founder, challenge, title=f"{startup_name} listens to pipes", team=[{"name": founder_name, "role": "CEO"}]
        )
        proposals.submit_proposal(
            db, make.actor(founder), records.get_proposal(db, make.actor(founder), proposal.id), accept_terms=True
        )
        proposal_ids.append(proposal.id)
        startups.append(startup)
    challenge.deadline = utcnow() - timedelta(hours=1)
    db.add(challenge)
    db.flush()
    staff = make.actor(staff_user)
    for proposal_id in proposal_ids:
        proposals.decide_eligibility(
            db, staff, records.get_proposal(db, staff, proposal_id), EligibilityDecision(eligible=True)
        )
    from app.challenges import service as challenges

    view = jury.create_round(
        db,
        staff,
        challenges.get_challenge(db, staff, challenge.id),
        RoundCreate(
            name="Written pre-selection",
            opens_at=utcnow() - timedelta(hours=1),
            closes_at=utcnow() + timedelta(days=3),
            reviews_per_proposal=2,
            others_visible=others_visible,
            blind=blind,
            criteria=[{"name": "Team", "weight": 1, "min": 0, "max": 5}],
        ),
    )
    entries = jury.add_entries(db, staff, view, EntriesIn(proposals=proposal_ids))
    people = {
        n: make.user(name=f"{n} Juror", email=f"{n.lower()}@{domain}") for n in ("Amina", "Brahim", "Chaima", "Driss")
    }
    for person in people.values():
        jurors.add_juror(db, staff, view, JurorIn(user=person.id))
    db.add(JuryConflict(user_id=people["Driss"].id, startup_id=startups[0].id, reason="Former adviser."))
    view = jury.open_round(db, staff, get_managed_round(db, staff, view.id))
    view = get_managed_round(db, staff, view.id)
    for name, proposal_id in (("Amina", 0), ("Brahim", 0), ("Chaima", 1), ("Driss", 1)):
        juror = db.exec(select(Juror).where(Juror.user_id == people[name].id)).one()
        assignments.add_assignment(db, staff, view, AssignmentIn(juror=juror.id, proposal=proposal_ids[proposal_id]))
    db.flush()
    entry_a, entry_b = (next(e for e in entries if e.proposal_id == pid) for pid in proposal_ids)
    return {
        "round": view.round,
        "staff": staff_user,
        "other_staff": other_staff,
        "jurors": people,
        "entry_a": entry_a,
        "entry_b": entry_b,
        "startups": startups,
    }


@pytest.fixture
def world(db, make):
    return _build(db, make)


def _submit(db, make, world, name: str) -> None:
    user = world["jurors"][name]
    actor = make.actor(user)
    juror = db.exec(select(Juror).where(Juror.user_id == user.id)).one()
    for a in db.exec(select(JuryAssignment).where(JuryAssignment.juror_id == juror.id)):
        view = get_assignment(db, actor, a.id)
        scores = {str(c.id): 4 for c in view.round.criteria}
        saved = reviews.save_review(db, actor, view, ReviewIn(scores=scores, submit=True))
        assert saved.problems is None


def _told(db, user=None) -> list[OutboxMessage]:
    """The emails sent about a discussion (the seating emails of the world's jurors left aside), to `user`."""
    found = [m for m in db.exec(select(OutboxMessage)) if "/discussion" in m.body]
    return [m for m in found if user is None or m.to_address == user.email]


def _as(client, user) -> None:
    client.cookies.clear()
    sign_in(client, user.email)


def _path(world, entry="entry_a"):
    return deliberation.discussion_path(world["round"].id, world[entry].id)


def _status(client, user, path) -> int:
    _as(client, user)
    return client.get(path).status_code


def _close(db, world):
    world["round"].status = RoundStatus.closed
    db.add(world["round"])
    db.flush()


# ---- who reads the thread ----------------------------------------------------------------------------------


def test_after_own_a_juror_reads_the_thread_once_their_own_review_is_in(client, db, make, world):
    amina = world["jurors"]["Amina"]
    assert _status(client, amina, _path(world)) == 404
    _submit(db, make, world, "Amina")
    assert _status(client, amina, _path(world)) == 200
    # an entry not theirs: once all their own assignments are done (Amina's one is)
    assert _status(client, amina, _path(world, "entry_b")) == 200
    chaima = world["jurors"]["Chaima"]
    assert _status(client, chaima, _path(world)) == 404  # AquaTrack's review still to write
    _submit(db, make, world, "Chaima")
    assert _status(client, chaima, _path(world)) == 200
    assert _status(client, world["staff"], _path(world)) == 200


def test_after_close_jurors_read_the_thread_once_the_round_closes(client, db, make):
    world = _build(db, make, others_visible="after_close")
    _submit(db, make, world, "Amina")
    amina = world["jurors"]["Amina"]
    assert _status(client, amina, _path(world)) == 404
    _close(db, world)
    assert _status(client, amina, _path(world)) == 200
    assert _status(client, world["jurors"]["Chaima"], _path(world)) == 200  # not theirs, their own not needed


def test_never_only_the_staff_read_the_thread(client, db, make):
    world = _build(db, make, others_visible="never")
    _submit(db, make, world, "Amina")
    _close(db, world)
    assert _status(client, world["jurors"]["Amina"], _path(world)) == 404
    assert _status(client, world["staff"], _path(world)) == 200


def test_a_conflicted_juror_gets_404_and_is_never_listed_nor_told(client, db, make, world):
    _submit(db, make, world, "Driss")
    _submit(db, make, world, "Amina")
    _submit(db, make, world, "Brahim")
    _submit(db, make, world, "Chaima")
    driss = world["jurors"]["Driss"]
    assert _status(client, driss, _path(world)) == 404
    assert _status(client, driss, _path(world, "entry_b")) == 200  # AquaTrack's: no conflict there
    _as(client, world["staff"])
    page = client.get(_path(world)).text
    assert "Amina Juror" in page and "Brahim Juror" in page and "Chaima Juror" in page
    assert "Driss" not in page
    found = deliberation.get_discussion(db, make.actor(world["staff"]), world["round"].id, world["entry_a"].id)
    driss_seat = db.exec(select(Juror).where(Juror.user_id == driss.id)).one()
    answer = _post(client, _path(world), {"body": "Driss?", "mentions": f"j{driss_seat.id}"}, _path(world))
    assert answer.status_code == 422
    assert f"j{driss_seat.id}" not in {p.key for p in found.participants}
    answer = _post(client, _path(world), {"body": "Hello @driss@jury.example"}, _path(world))
    assert answer.status_code == 422
    assert not _told(db, driss)


def test_a_conflicted_member_of_the_staff_gets_404(client, db, make, world):
    staff = world["staff"]
    db.add(JuryConflict(user_id=staff.id, startup_id=world["startups"][0].id, reason="My cousin's."))
    db.flush()
    assert _status(client, staff, _path(world)) == 404
    assert _status(client, staff, _path(world, "entry_b")) == 200
    round_page = client.get(f"/rounds/{world['round'].id}").text
    assert f'href="{_path(world)}"' not in round_page and f'href="{_path(world, "entry_b")}"' in round_page
    other = deliberation.get_discussion(db, make.actor(world["other_staff"]), world["round"].id, world["entry_a"].id)
    assert staff.id not in {p.user.id for p in other.participants}  # nor offered to anyone to be told
    notes = _path(world).replace("discussion", "notes")
    assert _post(client, notes, {"note": "Mine."}, _path(world, "entry_b")).status_code == 404
    assert _post(client, _path(world), {"body": "Mine."}, _path(world, "entry_b")).status_code == 404


def test_outsiders_and_a_draft_round_s_jurors_get_404(client, db, make, world):
    assert _status(client, make.user(), _path(world)) == 404
    founder = make.user(organisation=world["startups"][0], name="Founder Two")
    assert _status(client, founder, _path(world)) == 404
    world["round"].status = RoundStatus.draft
    db.add(world["round"])
    db.flush()
    assert _status(client, world["jurors"]["Amina"], _path(world)) == 404
    assert _status(client, world["staff"], _path(world)) == 200
    client.cookies.clear()
    assert client.get(_path(world), follow_redirects=False).status_code == 303


def test_an_entry_of_another_round_is_404(client, db, make, world):
    other = _build(db, make, domain="other.example")
    path = deliberation.discussion_path(world["round"].id, other["entry_a"].id)
    assert _status(client, world["staff"], path) == 404


# ---- messages and mentions ---------------------------------------------------------------------------------


def test_the_staff_post_a_message_and_the_juror_ticked_is_told_in_their_language(client, db, make, world):
    _submit(db, make, world, "Amina")
    amina = world["jurors"]["Amina"]
    amina.preferred_language = "fr"
    db.add(amina)
    db.flush()
    seat = db.exec(select(Juror).where(Juror.user_id == amina.id)).one()
    _as(client, world["staff"])
    page = client.get(_path(world)).text
    assert f'value="j{seat.id}"' in page
    brahim = db.exec(select(Juror).where(Juror.user_id == world["jurors"]["Brahim"].id)).one()
    assert f'value="j{brahim.id}"' not in page  # his own review is not in: he may not read the thread yet
    answer = _post(client, _path(world), {"body": "Is the **sensor** proven?", "mentions": f"j{seat.id}"}, _path(world))
    assert answer.status_code == 303
    message = db.exec(select(DeliberationMessage)).one()
    assert message.mentions == [amina.id] and message.author_id == world["staff"].id
    emails = _told(db, amina)
    assert len(emails) == 1
    mail = emails[0]
    assert "City Staff" in mail.body and _path(world) in mail.body
    assert "Bonjour" in mail.body  # French
    assert "LeakSense" not in mail.body and "sensor" not in mail.body and "listens to pipes" not in mail.body
    assert len(_told(db)) == 1  # nobody else
    _as(client, amina)
    page = client.get(_path(world)).text
    assert "<strong>sensor</strong>" in page and "City Staff (équipe)" in page  # her language: French


def test_an_at_address_tells_a_participant_once(client, db, make, world):
    _submit(db, make, world, "Amina")
    _as(client, world["jurors"]["Amina"])
    staff_key = f"s{world['other_staff'].id}"
    answer = _post(
        client,
        _path(world),
        {"body": "@other-staff and @" + world["other_staff"].email + " look", "mentions": staff_key},
        _path(world),
    )
    assert answer.status_code == 303
    assert len(_told(db, world["other_staff"])) == 1 and len(_told(db)) == 1
    assert "Amina Juror" in _told(db)[0].body


def test_naming_someone_who_may_not_read_the_thread_is_refused_with_the_text_kept(client, db, make, world):
    _submit(db, make, world, "Amina")
    _as(client, world["staff"])
    body = "Brahim, see @brahim@jury.example"  # Brahim's own review is not in: he may not read it yet
    answer = _post(client, _path(world), {"body": body}, _path(world))
    assert answer.status_code == 422
    assert "The address brahim@jury.example is not among the people of this discussion" in answer.text
    assert "Brahim, see @brahim@jury.example</textarea>" in answer.text
    answer = _post(client, _path(world), {"body": "Hi", "mentions": "j999999"}, _path(world))
    assert answer.status_code == 422 and "Choose among the people listed." in answer.text
    assert not db.exec(select(DeliberationMessage)).all()
    assert not _told(db)


def test_a_body_is_required_and_at_most_ten_thousand_characters(client, db, make, world):
    _as(client, world["staff"])
    answer = _post(client, _path(world), {"body": "   "}, _path(world))
    assert answer.status_code == 422 and "This field is required." in answer.text
    answer = _post(client, _path(world), {"body": "x" * 10_001}, _path(world))
    assert answer.status_code == 422 and "Use at most 10000 characters." in answer.text
    assert _post(client, _path(world), {"body": "x" * 10_000}, _path(world)).status_code == 303


def test_markdown_is_rendered_safely(client, db, make, world):
    _as(client, world["staff"])
    _post(client, _path(world), {"body": "<script>alert(1)</script> [x](javascript:alert(1))"}, _path(world))
    page = client.get(_path(world)).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert 'href="javascript' not in page


def test_a_decided_round_s_thread_is_read_only(client, db, make, world):
    world["round"].status = RoundStatus.decided
    db.add(world["round"])
    db.flush()
    _as(client, world["staff"])
    page = client.get(_path(world))
    assert page.status_code == 200 and "read-only" in page.text and 'name="body"' not in page.text
    answer = _post(client, _path(world), {"body": "Late"}, _path(world))
    assert answer.status_code == 409
    assert not db.exec(select(DeliberationMessage)).all()


def test_an_entry_left_out_of_the_round_is_read_only_for_the_staff_and_404_for_jurors(client, db, make, world):
    _submit(db, make, world, "Amina")
    _as(client, world["staff"])
    _post(client, _path(world), {"body": "Before it was left out."}, _path(world))
    jury.exclude_entry(
        db, make.actor(world["staff"]), get_managed_round(db, make.actor(world["staff"]), world["round"].id),
        world["entry_a"].id, "Out of scope.",
    )  # fmt: skip
    page = client.get(_path(world)).text
    assert "Before it was left out." in page and "left out of the round" in page and 'name="body"' not in page
    assert _post(client, _path(world), {"body": "After"}, _path(world)).status_code == 409
    assert _status(client, world["jurors"]["Amina"], _path(world)) == 404


# ---- staff notes -------------------------------------------------------------------------------------------


def test_staff_notes_are_the_staff_s_only(client, db, make, world):
    _submit(db, make, world, "Amina")
    notes = _path(world).replace("discussion", "notes")
    _as(client, world["staff"])
    assert _post(client, notes, {"note": ""}, _path(world)).status_code == 422
    assert _post(client, notes, {"note": "Their *finances* look thin."}, _path(world)).status_code == 303
    assert db.exec(select(StaffNote)).one().author_id == world["staff"].id
    _as(client, world["other_staff"])
    assert "<em>finances</em>" in client.get(_path(world)).text
    amina = world["jurors"]["Amina"]
    _as(client, amina)
    page = client.get(_path(world)).text
    assert "finances" not in page and "Staff notes" not in page
    assert _post(client, notes, {"note": "Sneaky."}, _path(world)).status_code == 404
    assert len(db.exec(select(StaffNote)).all()) == 1


# ---- blind rounds ------------------------------------------------------------------------------------------


def test_a_blind_round_numbers_the_jurors_and_hides_the_startup_to_jurors(client, db, make):
    world = _build(db, make, blind=True)
    _submit(db, make, world, "Amina")
    _submit(db, make, world, "Brahim")
    _as(client, world["staff"])
    _post(client, _path(world), {"body": "LeakSense and Salma convinced me."}, _path(world))
    _as(client, world["jurors"]["Brahim"])
    _post(client, _path(world), {"body": "I agree."}, _path(world))
    _as(client, world["jurors"]["Amina"])
    page = client.get(_path(world)).text
    assert "LeakSense" not in page and "Salma" not in page
    assert "City Staff (staff)" in page
    assert "Brahim" not in page
    assert "Juror 2" in page  # Brahim sits in the second seat
    assert "▇▇▇ and ▇▇▇ convinced me." in page  # the staff's message, as a juror of a blind round reads it
    # the checkbox list names the other juror by number, the staff by name; an address matches the staff only
    assert "Juror 2" in page and "Other Staff (staff)" in page
    answer = _post(client, _path(world), {"body": "@brahim@jury.example?"}, _path(world))
    assert answer.status_code == 422
    seat = db.exec(select(Juror).where(Juror.user_id == world["jurors"]["Brahim"].id)).one()
    assert (
        _post(client, _path(world), {"body": "Your view?", "mentions": f"j{seat.id}"}, _path(world)).status_code == 303
    )
    (mail,) = _told(db, world["jurors"]["Brahim"])
    assert "Juror 1" in mail.body and "Amina" not in mail.body and "LeakSense" not in mail.body
    _as(client, world["staff"])
    page = client.get(_path(world)).text
    assert "Amina Juror" in page and "Brahim Juror" in page and "LeakSense" in page


def test_a_juror_removed_after_writing_is_no_one_to_a_blind_round_s_jurors(client, db, make):
    world = _build(db, make, blind=True)
    staff = make.actor(world["staff"])
    late = make.user(name="Late Juror")
    seat, _ = jurors.add_juror(db, staff, get_managed_round(db, staff, world["round"].id), JurorIn(user=late.id))
    _as(client, late)  # nothing assigned to them: all theirs is done, they read every thread
    assert _post(client, _path(world), {"body": "Strong team."}, _path(world)).status_code == 303
    jurors.remove_juror(db, staff, get_managed_round(db, staff, world["round"].id), seat.id)
    _submit(db, make, world, "Amina")
    _as(client, world["jurors"]["Amina"])
    page = client.get(_path(world)).text
    assert "Strong team." in page and "A former participant" in page and "Late Juror" not in page
    _as(client, world["staff"])
    assert "Late Juror" in client.get(_path(world)).text


# ---- links and cost ----------------------------------------------------------------------------------------


def test_the_review_page_and_the_staff_s_round_page_link_the_discussion(client, db, make, world):
    _submit(db, make, world, "Amina")
    amina = world["jurors"]["Amina"]
    seat = db.exec(select(Juror).where(Juror.user_id == amina.id)).one()
    assignment = db.exec(select(JuryAssignment).where(JuryAssignment.juror_id == seat.id)).one()
    _as(client, amina)
    assert f'href="{_path(world)}"' in client.get(f"/jury/assignments/{assignment.id}").text
    brahim = world["jurors"]["Brahim"]
    seat = db.exec(select(Juror).where(Juror.user_id == brahim.id)).one()
    assignment = db.exec(select(JuryAssignment).where(JuryAssignment.juror_id == seat.id)).one()
    _as(client, brahim)
    assert f'href="{_path(world)}"' not in client.get(f"/jury/assignments/{assignment.id}").text
    _as(client, world["staff"])
    assert f'href="{_path(world)}"' in client.get(f"/rounds/{world['round'].id}").text


def test_the_page_costs_the_same_queries_for_a_long_thread(client, db, make, engine, world):
    for name in ("Amina", "Brahim", "Chaima"):
        _submit(db, make, world, name)
    _as(client, world["staff"])
    _post(client, _path(world), {"body": "One"}, _path(world))
    small = _queries(client, db, engine, _path(world))
    for n in range(20):
        db.add(
            DeliberationMessage(
                round_id=world["round"].id,
                entry_id=world["entry_a"].id,
                author_id=world["jurors"]["Amina"].id,
                author_name="Amina Juror",
                body=f"Message {n}",
            )
        )
        db.add(
            StaffNote(
                round_id=world["round"].id,
                entry_id=world["entry_a"].id,
                author_id=world["staff"].id,
                author_name="City Staff",
                body=f"Note {n}",
            )
        )
    staff = make.actor(world["staff"])
    for n in range(6):  # more jurors, who may read the thread (nothing assigned: all of theirs is done)
        person = make.user(name=f"Extra {n}")
        jurors.add_juror(db, staff, get_managed_round(db, staff, world["round"].id), JurorIn(user=person.id))
    db.flush()
    client.get(_path(world))  # the seated jurors' emails go out (the in-process job runner), not counted
    assert _queries(client, db, engine, _path(world)) == small


# ---- the API -----------------------------------------------------------------------------------------------


def _bearer(make, user, scope="write"):
    return {"Authorization": f"Bearer {make.token(user, scope)[1]}", "Accept-Language": "en"}


def test_the_api_reads_and_writes_the_thread_with_the_same_rules(client, db, make):
    world = _build(db, make, blind=True)
    path = f"/api/v1/rounds/{world['round'].id}/entries/{world['entry_a'].id}"
    staff, amina, brahim = world["staff"], world["jurors"]["Amina"], world["jurors"]["Brahim"]
    assert client.get(f"{path}/messages", headers=_bearer(make, amina)).status_code == 404  # her review not in
    _submit(db, make, world, "Amina")
    _submit(db, make, world, "Brahim")
    answer = client.post(f"{path}/messages", json={"body": "LeakSense looks **solid**."}, headers=_bearer(make, staff))
    assert answer.status_code == 201, answer.text
    assert answer.json()["author"] == "City Staff (staff)" and answer.json()["own"] is True
    people = client.get(f"{path}/participants", headers=_bearer(make, amina)).json()
    assert {p["name"] for p in people} == {"City Staff (staff)", "Other Staff (staff)", "Juror 2"}
    brahim_key = next(p["key"] for p in people if p["juror"])
    answer = client.post(
        f"{path}/messages", json={"body": "Agreed.", "mentions": [brahim_key]}, headers=_bearer(make, amina)
    )
    assert answer.status_code == 201
    (mail,) = _told(db, brahim)
    assert "Juror 1" in mail.body and "Amina" not in mail.body
    items = client.get(f"{path}/messages", headers=_bearer(make, brahim)).json()["items"]
    assert [(m["author"], m["body"]) for m in items] == [
        ("City Staff (staff)", "▇▇▇ looks **solid**."),
        ("Juror 1", "Agreed."),
    ]
    refused = client.post(f"{path}/messages", json={"body": "@driss@jury.example?"}, headers=_bearer(make, staff))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body"
    assert client.post(f"{path}/messages", json={"body": ""}, headers=_bearer(make, staff)).status_code == 422
    assert client.post(f"{path}/messages", json={"body": "x"}, headers=_bearer(make, staff, "read")).status_code == 403
    driss = world["jurors"]["Driss"]
    _submit(db, make, world, "Driss")
    assert client.get(f"{path}/messages", headers=_bearer(make, driss)).status_code == 404
    assert client.get(f"{path}/participants", headers=_bearer(make, driss)).status_code == 404
    found = deliberation.get_discussion(db, make.actor(staff), world["round"].id, world["entry_a"].id)
    deliberation.add_note(db, make.actor(staff), found, "Their finances look thin.")
    assert "finances" not in client.get(f"{path}/messages", headers=_bearer(make, staff)).text  # notes: no API
