"""The staff's pages for running a round: the rounds of a challenge, the round form with its criteria, and the
round's page (opening and closing, entries, jurors, conflicts, assignment, progress, reminders), walked through
with the test client as the challenge's staff would; refusals shown on the page; 404 to anyone else."""

from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from app.accounts.models import Organisation
from app.db import utcnow
from app.jury.models import Juror, JuryAssignment, JuryConflict, JuryCriterion, JuryEntry, JuryRound
from app.notifications.models import OutboxMessage
from app.proposals import records as proposal_records
from app.proposals import service as proposals
from app.proposals.models import Proposal
from app.proposals.schemas import EligibilityDecision
from tests.conftest import CSRF_RE, sign_in

TZ = ZoneInfo("Africa/Casablanca")


@pytest.fixture
def world(db, make):
    """Partner Lydec's challenge in Casablanca's programme, past its deadline, with two eligible proposals (Atlas
    Water's and Blue Pipes'); Lydec's Salma and Sami and the operator's Omar run it; Olga of the operator has an
    address at Atlas Water's domain (a conflict of interest with it); Pierre belongs to another partner."""
    operator = make.organisation("operator", name="Casa Innovation")
    lydec = make.organisation("partner", name="Lydec")
    programme = make.programme(operator, partners=[lydec], slug="casa-jury", name="Casablanca")
    challenge = make.published_challenge(lydec, programme=programme, slug="leaks-jury", title="Water leaks")
    atlas = make.organisation("startup", name="Atlas Water")
    blue = make.organisation("startup", name="Blue Pipes")
    people = {
        "salma": make.user("salma@lydec.test", organisation=lydec, role="admin", name="Salma Bennani"),
        "sami": make.user("sami@lydec.test", organisation=lydec, name="Sami Alaoui"),
        "omar": make.user("omar@casa-innovation.test", organisation=operator, name="Omar Idrissi"),
        "olga": make.user("olga@atlas-water.test", organisation=operator, name="Olga Tazi"),
        "pierre": make.user("pierre@other.test", organisation=make.organisation("partner"), name="Pierre Martin"),
        "atlas": make.user("founder@atlas-water.test", organisation=atlas, role="admin", name="Amal Chraibi"),
        "blue": make.user("founder@blue-pipes.test", organisation=blue, role="admin", name="Badr Ziani"),
    }
    ids = [
        make.proposal(people[who], challenge, submitted=True, title=title).id
        for who, title in (("atlas", "Acoustic leak sensors"), ("blue", "Pipe relining robots"))
    ]
    challenge.deadline = utcnow() - timedelta(hours=1)
    db.add(challenge)
    db.flush()
    sponsor = make.actor(people["salma"])
    for proposal_id in ids:
        view = proposal_records.get_proposal(db, sponsor, proposal_id)
        proposals.decide_eligibility(db, sponsor, view, EligibilityDecision(eligible=True))
    db.flush()
    return {"challenge": challenge, "atlas_proposal": ids[0], "blue_proposal": ids[1], "atlas": atlas, **people}


@pytest.fixture
def client(client):
    """The pages in English (the house's default is French)."""
    client.headers["Accept-Language"] = "en"
    return client


def _post(client, path, data, page):
    token = CSRF_RE.search(client.get(page).text)
    assert token, page
    return client.post(path, data={"csrf_token": token.group(1), **data}, headers={"Origin": "http://testserver"})


def _local(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


def _round_form(**fields) -> dict:
    """A new round's form as filled in: DataCity's five criteria in the first rows."""
    now = utcnow()
    form = {
        "name": "Written pre-selection",
        "kind": "written",
        "opens_at": _local(now - timedelta(hours=1)),
        "closes_at": _local(now + timedelta(days=14)),
        "reviews_per_proposal": "2",
        "max_load": "",
        "others_visible": "after_close",
    }
    names = ("Team", "Ability to run the experiment", "Potential to scale", "Problem/solution fit", "Use of the data")
    for i, name in enumerate(names):
        form |= {f"criteria-{i}-name": name, f"criteria-{i}-weight": "1", f"criteria-{i}-min": "0"}
        form |= {f"criteria-{i}-max": "5", f"criteria-{i}-step": "1"}
    return form | fields


def _pairs(db, round_id: int) -> set[tuple[int, int]]:
    """The round's assignments as (juror, entry) pairs."""
    rows = db.exec(select(JuryAssignment).where(JuryAssignment.round_id == round_id))
    return {(a.juror_id, a.entry_id) for a in rows}


def _create_round(client, world, **fields) -> int:
    challenge_id = world["challenge"].id
    page = f"/challenges/{challenge_id}/rounds/new"
    response = _post(client, page, _round_form(**fields), page)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[-1])


def test_the_staff_run_a_round_from_the_challenge_page_to_its_closing(client, db, world):
    challenge_id = world["challenge"].id
    sign_in(client, "salma@lydec.test")
    page = client.get("/programmes/casa-jury/challenges/leaks-jury")
    assert "Jury rounds" in page.text and f"/challenges/{challenge_id}/rounds/new" in page.text

    # the form starts from DataCity's criteria on request; the times are read in the programme's zone
    preset = client.get(f"/challenges/{challenge_id}/rounds/new?preset=datacity")
    assert preset.status_code == 200
    assert 'value="Ability to run the experiment on the test site"' in preset.text
    opens = (utcnow() - timedelta(hours=1)).replace(second=0, microsecond=0)
    round_id = _create_round(client, world, opens_at=_local(opens))
    stored = db.get(JuryRound, round_id)
    assert (stored.name, stored.status, stored.reviews_per_proposal) == ("Written pre-selection", "draft", 2)
    assert stored.opens_at == opens
    criteria = db.exec(select(JuryCriterion).where(JuryCriterion.round_id == round_id)).all()
    assert [c.name for c in criteria][:1] == ["Team"] and len(criteria) == 5
    assert client.get(f"/challenges/{challenge_id}/rounds").text.count(f'href="/rounds/{round_id}"') == 1

    # entries: all that may enter, one left out with its reason, then included again
    room = f"/rounds/{round_id}"
    assert "Enter all 2 proposals that may enter" in client.get(room).text
    assert _post(client, f"{room}/entries", {"all": "true"}, room).status_code == 303
    entries = {e.proposal_id: e for e in db.exec(select(JuryEntry).where(JuryEntry.round_id == round_id))}
    assert set(entries) == {world["atlas_proposal"], world["blue_proposal"]}
    blue_entry = entries[world["blue_proposal"]].id
    left_out = _post(client, f"{room}/entries/{blue_entry}/exclude", {"reason": "Out of scope"}, room)
    assert left_out.status_code == 303
    db.refresh(entries[world["blue_proposal"]])
    assert entries[world["blue_proposal"]].excluded_reason == "Out of scope"
    assert "Out of scope" in client.get(room).text
    assert _post(client, f"{room}/entries/{blue_entry}/include", {}, room).status_code == 303
    db.refresh(entries[world["blue_proposal"]])
    assert entries[world["blue_proposal"]].excluded_at is None

    # jurors: staff of the challenge's organisations from the list (not another partner's), an expert by email
    listed = client.get(room).text
    assert "Omar Idrissi — Casa Innovation" in listed and "Pierre Martin" not in listed
    for who in ("salma", "omar", "olga"):
        assert _post(client, f"{room}/jurors", {"by": "user", "user": str(world[who].id)}, room).status_code == 303
    invited = _post(client, f"{room}/jurors", {"by": "email", "email": "Nadia@Lab.example.net", "name": "Nadia"}, room)
    assert invited.status_code == 303
    shown = client.get(room).text
    assert "/jury/invitations/" in shown and "Invitation pending" in shown
    seated = db.exec(select(Juror).where(Juror.round_id == round_id)).all()
    assert sorted(j.email for j in seated) == [
        "nadia@lab.example.net",
        "olga@atlas-water.test",
        "omar@casa-innovation.test",
        "salma@lydec.test",
    ]
    assert db.exec(select(OutboxMessage).where(OutboxMessage.to_address == "nadia@lab.example.net")).first()

    # the automatic conflict is shown with its source and reason
    assert "Same email domain as a member of the startup (atlas-water.test)" in shown

    # opening asks for confirmation; then the criteria are frozen
    assert _post(client, f"{room}/open", {"confirm": "yes"}, room).status_code == 303
    db.refresh(stored)
    assert stored.status == "open"
    assert "The criteria cannot change once the round is open" in client.get(room).text

    # the automatic assignment: Atlas Water's proposal never goes to Olga
    assigned = _post(client, f"{room}/assign", {}, room)
    assert assigned.status_code == 303
    report = client.get(room).text
    assert "Assigned automatically: 4 review(s) among 3 juror(s), 1 to 2 each." in report
    olga = next(j for j in seated if j.user_id == world["olga"].id)
    atlas_entry = entries[world["atlas_proposal"]].id
    pairs = _pairs(db, round_id)
    assert len(pairs) == 4 and (olga.id, atlas_entry) not in pairs

    # by hand: the conflicted juror is refused with the service's message, nothing is added
    by_hand = {"juror": str(olga.id), "proposal": str(world["atlas_proposal"])}
    refused = _post(client, f"{room}/assignments", by_hand, room)
    assert refused.status_code == 409
    assert "This juror has a conflict of interest with the proposal's startup." in refused.text
    assert _pairs(db, round_id) == pairs

    # removing an assignment, then declaring a conflict for a juror: their assignment to that startup goes
    omar = next(j for j in seated if j.user_id == world["omar"].id)
    omars = db.exec(select(JuryAssignment).where(JuryAssignment.juror_id == omar.id)).all()
    removed = omars[0].id
    assert _post(client, f"{room}/assignments/{removed}/remove", {"confirm": "yes"}, room).status_code == 303
    assert db.get(JuryAssignment, removed) is None
    blue_startup = db.get(Proposal, world["blue_proposal"]).startup_id
    declaration = {"juror": str(omar.id), "startup": str(blue_startup), "reason": "Former adviser"}
    assert _post(client, f"{room}/conflicts", declaration, room).status_code == 303
    declared = db.exec(select(JuryConflict).where(JuryConflict.user_id == world["omar"].id)).one()
    assert (declared.startup_id, declared.reason) == (blue_startup, "Former adviser")
    assert (omar.id, blue_entry) not in _pairs(db, round_id)
    assert "Former adviser" in client.get(room).text

    # progress and reminders: every seated juror with reviews to write gets an email
    before = len(db.exec(select(OutboxMessage)).all())
    reminded = _post(client, f"{room}/remind", {}, room)
    assert reminded.status_code == 303
    late = [
        j
        for j in db.exec(select(Juror).where(Juror.round_id == round_id, col(Juror.accepted_at).is_not(None))).all()
        if db.exec(select(JuryAssignment).where(JuryAssignment.juror_id == j.id)).first()
    ]
    assert len(db.exec(select(OutboxMessage)).all()) == before + len(late) > before
    reminder = db.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc())).first()
    assert "Written pre-selection" in reminder.body and f"/jury/rounds/{round_id}" in reminder.body
    assert f"A reminder is sent to {len(late)} juror(s)" in client.get(room).text

    # closing asks for confirmation too
    assert _post(client, f"{room}/close", {}, room).status_code == 422
    assert _post(client, f"{room}/close", {"confirm": "yes"}, room).status_code == 303
    db.refresh(stored)
    assert stored.status == "closed"
    assert "Closed: its reviews can no longer change." in client.get(room).text


def test_criteria_sent_for_an_open_round_are_refused_with_the_reason_and_the_input_kept(client, db, world):
    sign_in(client, "salma@lydec.test")
    round_id = _create_round(client, world)
    room = f"/rounds/{round_id}"
    assert _post(client, f"{room}/open", {"confirm": "yes"}, room).status_code == 303
    edit = client.get(f"{room}/edit")
    assert "The criteria cannot change once the round is open" in edit.text and "criteria-0-name" not in edit.text
    revision = str(db.get(JuryRound, round_id).revision)
    form = _round_form(name="Renamed", revision=revision, **{"criteria-0-name": "Teamwork"})
    refused = _post(client, f"{room}/edit", form, f"{room}/edit")
    assert refused.status_code == 409
    assert "The criteria cannot change once the round is open." in refused.text
    assert 'value="Renamed"' in refused.text
    db.expire_all()
    assert db.get(JuryRound, round_id).name == "Written pre-selection"
    names = db.exec(select(JuryCriterion.name).where(JuryCriterion.round_id == round_id)).all()
    assert "Teamwork" not in names
    # the settings alone still change while the round is open
    settings = {k: v for k, v in form.items() if not k.startswith("criteria-")}
    assert _post(client, f"{room}/edit", settings, f"{room}/edit").status_code == 303
    db.expire_all()
    assert db.get(JuryRound, round_id).name == "Renamed"


def test_a_stale_round_form_says_someone_changed_it_and_keeps_the_input(client, db, world):
    sign_in(client, "salma@lydec.test")
    round_id = _create_round(client, world)
    room = f"/rounds/{round_id}"
    stale = str(db.get(JuryRound, round_id).revision)
    first = _round_form(name="First edit", revision=stale)
    assert _post(client, f"{room}/edit", first, f"{room}/edit").status_code == 303
    second = _post(client, f"{room}/edit", _round_form(name="Second edit", revision=stale), f"{room}/edit")
    assert second.status_code == 412
    assert "Someone else changed this round since you loaded it." in second.text
    assert 'value="Second edit"' in second.text and "First edit" in second.text  # the input, and the saved one
    db.expire_all()
    current = db.get(JuryRound, round_id)
    assert current.name == "First edit"
    assert f'name="revision" value="{current.revision}"' in second.text  # sent again, it applies


def test_a_refused_round_form_names_the_fields_on_their_rows(client, db, world):
    sign_in(client, "salma@lydec.test")
    challenge_id = world["challenge"].id
    page = f"/challenges/{challenge_id}/rounds/new"
    form = _round_form(closes_at=_local(utcnow() - timedelta(days=2)), **{"criteria-3-weight": "0"})
    refused = _post(client, page, form, page)
    assert refused.status_code == 422
    assert 'id="f-criteria-3-weight"' in refused.text and 'id="e-criteria-3-weight"' in refused.text
    assert 'value="Problem/solution fit"' in refused.text
    # blank rows are ignored; a row with guidance but no name is not
    form = _round_form(**{"criteria-6-description": "Guidance without a name"})
    refused = _post(client, page, form, page)
    assert refused.status_code == 422 and 'id="e-criteria-6-name"' in refused.text
    later = _post(client, page, _round_form(opens_at=_local(utcnow() + timedelta(days=3))), page)
    assert later.status_code == 303
    assert db.exec(select(JuryRound).where(JuryRound.challenge_id == challenge_id)).one().name


def test_a_round_with_a_closing_time_before_its_opening_is_refused(client, db, world):
    sign_in(client, "salma@lydec.test")
    page = f"/challenges/{world['challenge'].id}/rounds/new"
    now = utcnow()
    refused = _post(client, page, _round_form(opens_at=_local(now), closes_at=_local(now - timedelta(days=1))), page)
    assert refused.status_code == 422
    assert "The round must close after it opens." in refused.text
    assert not db.exec(select(JuryRound).where(JuryRound.challenge_id == world["challenge"].id)).first()


def test_opening_a_round_without_criteria_says_why(client, db, world):
    sign_in(client, "salma@lydec.test")
    form = {k: v for k, v in _round_form().items() if not k.startswith("criteria-")}
    page = f"/challenges/{world['challenge'].id}/rounds/new"
    response = _post(client, page, form, page)
    assert response.status_code == 303
    round_id = int(response.headers["location"].rsplit("/", 1)[-1])
    room = f"/rounds/{round_id}"
    refused = _post(client, f"{room}/open", {"confirm": "yes"}, room)
    assert refused.status_code == 422
    assert "Add at least one criterion before opening the round." in refused.text
    assert db.get(JuryRound, round_id).status == "draft"


@pytest.mark.parametrize("who", ["pierre", "atlas", "juror"])
def test_anyone_but_the_staff_gets_404_on_the_rounds_pages_jurors_included(client, db, make, world, who):
    sign_in(client, "salma@lydec.test")
    round_id = _create_round(client, world)
    room = f"/rounds/{round_id}"
    assert _post(client, f"{room}/open", {"confirm": "yes"}, room).status_code == 303
    if who == "juror":
        juror = make.user("nadia@lab.example.net", name="Nadia")
        assert _post(client, f"{room}/jurors", {"by": "user", "user": str(juror.id)}, room).status_code == 303
        email = juror.email
    else:
        email = world[who].email
    client.cookies.clear()
    sign_in(client, email)
    challenge_id = world["challenge"].id
    for path in (f"/challenges/{challenge_id}/rounds", f"/challenges/{challenge_id}/rounds/new", room, f"{room}/edit"):
        assert client.get(path).status_code == 404, path
    assert _post(client, f"{room}/close", {"confirm": "yes"}, "/account").status_code == 404
    assert db.get(JuryRound, round_id).status == "open"
    assert "Jury rounds" not in client.get("/programmes/casa-jury/challenges/leaks-jury").text


def test_a_visitor_is_sent_to_sign_in(client, world):
    response = client.get(f"/challenges/{world['challenge'].id}/rounds")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_round_pages_read_in_arabic_right_to_left_and_in_french(client, world):
    sign_in(client, "salma@lydec.test")
    round_id = _create_round(client, world)
    arabic = client.get(f"/rounds/{round_id}", headers={"Accept-Language": "ar"})
    assert 'dir="rtl"' in arabic.text and "جولات التحكيم" in arabic.text and "فتح الجولة" in arabic.text
    french = client.get(f"/challenges/{world['challenge'].id}/rounds", headers={"Accept-Language": "fr"})
    assert "Tours du jury" in french.text and "Nouveau tour" in french.text


def test_the_assignment_report_names_the_proposals_left_short_and_why(client, db, world):
    sign_in(client, "salma@lydec.test")
    round_id = _create_round(client, world, reviews_per_proposal="3")
    room = f"/rounds/{round_id}"
    assert _post(client, f"{room}/entries", {"all": "true"}, room).status_code == 303
    for who in ("omar", "olga"):
        assert _post(client, f"{room}/jurors", {"by": "user", "user": str(world[who].id)}, room).status_code == 303
    assert _post(client, f"{room}/assign", {}, room).status_code == 303
    report = client.get(room).text
    assert "Assigned automatically: 3 review(s) among 2 juror(s), 1 to 2 each." in report
    assert "“Pipe relining robots” lacks 1 review(s): the round has too few jurors." in report
    assert "“Acoustic leak sensors” lacks 2 review(s): the round has too few jurors." in report
    assert report.count("short</span>") == 2
    assert len(_pairs(db, round_id)) == 3


@contextmanager
def _counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _queries(client, db, engine, path: str) -> int:
    db.expunge_all()  # the app shares the test's session: each count starts from an empty identity map
    with _counting(engine) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def _more_eligible_proposals(db, make, world, count: int) -> None:
    challenge = world["challenge"]
    challenge.deadline = utcnow() + timedelta(days=1)  # reopened for a moment to submit them
    db.add(challenge)
    db.flush()
    ids = [
        make.proposal(make.user(organisation=make.organisation("startup")), challenge, submitted=True).id
        for _ in range(count)
    ]
    challenge.deadline = utcnow() - timedelta(hours=1)
    db.add(challenge)
    db.flush()
    sponsor = make.actor(world["salma"])
    for proposal_id in ids:
        view = proposal_records.get_proposal(db, sponsor, proposal_id)
        proposals.decide_eligibility(db, sponsor, view, EligibilityDecision(eligible=True))
    db.flush()


def test_the_round_pages_cost_as_many_queries_for_many_proposals_and_jurors_as_for_few(client, db, engine, make, world):
    sign_in(client, "salma@lydec.test")
    round_id = _create_round(client, world)
    room = f"/rounds/{round_id}"
    pages = (room, f"/challenges/{world['challenge'].id}/rounds", "/programmes/casa-jury/challenges/leaks-jury")

    def fill(jurors) -> None:
        assert _post(client, f"{room}/entries", {"all": "true"}, room).status_code == 303
        for juror in jurors:
            assert _post(client, f"{room}/jurors", {"by": "user", "user": str(juror.id)}, room).status_code == 303
        assert _post(client, f"{room}/assign", {}, room).status_code == 303

    fill([world["omar"], world["sami"]])
    assert _post(client, f"{room}/open", {"confirm": "yes"}, room).status_code == 303
    small = [_queries(client, db, engine, page) for page in pages]
    _more_eligible_proposals(db, make, world, 12)
    lydec = db.get(Organisation, world["challenge"].lead_sponsor_id)
    fill([make.user(organisation=lydec) for _ in range(6)])
    assert len(_pairs(db, round_id)) == 14 * 2
    large = [_queries(client, db, engine, page) for page in pages]
    assert large == small, f"queries grew with the round's rows: {small} → {large}"


def test_a_member_of_the_staff_in_conflict_with_a_startup_is_not_shown_its_proposal(client, db, world):
    sign_in(client, "salma@lydec.test")
    round_id = _create_round(client, world)
    room = f"/rounds/{round_id}"
    client.cookies.clear()
    sign_in(client, "olga@atlas-water.test")  # the operator's, at Atlas Water's domain
    before = client.get(room).text
    assert "Pipe relining robots" in before and "Acoustic leak sensors" not in before
    assert "Enter the 1 proposal that may enter" in before  # not counted either
    named = _post(client, f"{room}/entries", {"proposals": str(world["atlas_proposal"])}, room)
    assert named.status_code == 422  # as any proposal that may not enter
    assert _post(client, f"{room}/entries", {"all": "true"}, room).status_code == 303
    entered = db.exec(select(JuryEntry.proposal_id).where(JuryEntry.round_id == round_id)).all()
    assert entered == [world["blue_proposal"]]  # "all" is what they were shown
    assert _post(client, f"{room}/jurors", {"by": "user", "user": str(world["olga"].id)}, room).status_code == 303
    client.cookies.clear()
    sign_in(client, "salma@lydec.test")
    assert _post(client, f"{room}/entries", {"all": "true"}, room).status_code == 303  # the others enter it
    client.cookies.clear()
    sign_in(client, "olga@atlas-water.test")
    after = client.get(room).text
    assert "Pipe relining robots" in after and "Acoustic leak sensors" not in after
    assert "Olga Tazi" in after and "Atlas Water" in after  # the conflict itself is shown, with its source


def test_a_member_of_the_staff_in_conflict_with_a_startup_may_not_leave_its_entry_out_nor_take_it_back(
    client, db, world
):
    sign_in(client, "salma@lydec.test")
    round_id = _create_round(client, world)
    room = f"/rounds/{round_id}"
    assert _post(client, f"{room}/entries", {"all": "true"}, room).status_code == 303
    entry = db.exec(
        select(JuryEntry).where(JuryEntry.round_id == round_id, JuryEntry.proposal_id == world["atlas_proposal"])
    ).one()
    client.cookies.clear()
    sign_in(client, "olga@atlas-water.test")
    left_out = _post(client, f"{room}/entries/{entry.id}/exclude", {"reason": "Sabotage."}, room)
    assert left_out.status_code == 404
    db.refresh(entry)
    assert entry.excluded_at is None
    entry.excluded_at, entry.excluded_reason = utcnow(), "Left out by the others."
    db.add(entry)
    db.flush()
    assert _post(client, f"{room}/entries/{entry.id}/include", {}, room).status_code == 404
    db.refresh(entry)
    assert entry.excluded_at is not None
