"""The jurors' pages: the rounds I sit on, my queue with themes, bids and conflicts, the scoring page (draft,
autosave, submit with its 422, submit and next, abstain, 409 once closed), attachments shown inline, others'
reviews as the round allows, blind rounds that never name the startup, and the invitation of an outside
expert."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.accounts.models import Organisation
from app.db import utcnow
from app.jury import assignments, jurors
from app.jury import service as jury
from app.jury.models import Juror, JuryAssignment, JuryConflict, JuryEntry, JuryReview, JuryReviewVersion
from app.jury.records import get_managed_round
from app.jury.schemas import AssignmentIn, EntriesIn, JurorIn, RoundCreate
from app.proposals import attachments, records
from app.proposals import service as proposals
from app.proposals.models import Proposal
from app.proposals.schemas import EligibilityDecision
from tests.conftest import CSRF_RE, sign_in
from tests.test_query_counts import counting

STARTUPS = ("LeakSense SARL", "AquaTrack", "PipeWatch")
FOUNDERS = ("Salma Bennani", "Youssef Alaoui", "Nadia Tazi")


def _post(client, path, data, page):
    match = CSRF_RE.search(client.get(page).text)
    assert match, page
    return client.post(path, data={"csrf_token": match.group(1), **data}, headers={"Origin": "http://testserver"})


@pytest.fixture(autouse=True)
def _english(client):
    """The pages in English, whatever the catalogues hold: the assertions read the message ids."""
    client.headers["Accept-Language"] = "en"


@pytest.fixture
def world(db, make):
    """A challenge past its deadline with three eligible proposals (one with a PDF), an open written round of
    them with two criteria, two reviews per proposal and three jurors, assigned."""
    operator = make.organisation("operator")
    lydec = make.organisation("partner", name="Lydec")
    programme = make.programme(operator, partners=[lydec], timezone="Africa/Casablanca")
    challenge = make.published_challenge(lydec, programme=programme, title="Water leaks")
    staff_user = make.user(organisation=lydec, name="City Staff")
    founders, proposal_ids = [], []
    for startup_name, founder_name in zip(STARTUPS, FOUNDERS, strict=True):
        startup = make.organisation("startup", name=startup_name)
        founder = make.user(organisation=startup, role="admin", name=founder_name, email=None)
        proposal = make.proposal(
            founder,
            challenge,
            title=f"{startup_name} listens to pipes",
            summary=f"{startup_name} finds leaks; {founder_name.split()[0]} leads it.",
            team=[{"name": founder_name, "role": "CEO"}],
        )
        if startup_name == STARTUPS[0]:
            attachments.store_attachment_bytes(
                db, make.actor(founder), proposal.id, f"{startup_name} deck.pdf", b"%PDF-1.4 pitch deck"
            )
        view = records.get_proposal(db, make.actor(founder), proposal.id)
        proposals.submit_proposal(db, make.actor(founder), view, accept_terms=True)
        founders.append(founder)
        proposal_ids.append(proposal.id)
    challenge.deadline = utcnow() - timedelta(hours=1)
    db.add(challenge)
    db.flush()
    staff = make.actor(staff_user)
    for proposal_id in proposal_ids:
        view = records.get_proposal(db, staff, proposal_id)
        proposals.decide_eligibility(db, staff, view, EligibilityDecision(eligible=True))
    from app.challenges import service as challenges

    round_view = jury.create_round(
        db,
        staff,
        challenges.get_challenge(db, staff, challenge.id),
        RoundCreate(
            name="Written pre-selection",
            opens_at=utcnow() - timedelta(hours=1),
            closes_at=utcnow() + timedelta(days=3),
            reviews_per_proposal=2,
            others_visible="after_own",
            criteria=[
                {"name": "Team", "description": "Skills of the team.", "weight": 1, "min": 0, "max": 5},
                {"name": "Use of the data", "weight": 3, "min": 0, "max": 10, "step": 0.5},
            ],
        ),
    )
    jury.add_entries(db, staff, round_view, EntriesIn(proposals=proposal_ids))
    people = [make.user(name=f"Juror {n}", email=f"juror{n}@jury.example") for n in range(1, 4)]
    for person in people:
        jurors.add_juror(db, staff, round_view, JurorIn(user=person.id))
    round_view = jury.open_round(db, staff, get_managed_round(db, staff, round_view.id))
    assignments.assign(db, staff, get_managed_round(db, staff, round_view.id))
    db.flush()
    return {
        "round": round_view.round,
        "criteria": round_view.criteria,
        "jurors": people,
        "staff": staff_user,
        "founders": founders,
        "proposal_ids": proposal_ids,
        "challenge": challenge,
    }


def _assignments_of(db, user):
    juror = db.exec(select(Juror).where(Juror.user_id == user.id)).one()
    return list(db.exec(select(JuryAssignment).where(JuryAssignment.juror_id == juror.id).order_by(JuryAssignment.id)))


def _scores(world, team="4", data="7.5"):
    team_c, data_c = world["criteria"]
    return {f"scores.{team_c.id}": team, f"scores.{data_c.id}": data}


def test_the_jury_page_lists_my_rounds_with_progress_and_time_left(client, db, world):
    juror = world["jurors"][0]
    sign_in(client, juror.email)
    page = client.get("/jury")
    assert page.status_code == 200
    assert "Written pre-selection" in page.text
    assert "0 done, 2 to do" in page.text
    assert "2 days left" in page.text
    assert 'href="/jury"' in client.get("/account").text  # the navigation's Jury link


def test_the_jury_link_is_not_shown_to_someone_who_sits_on_no_round(client, db, world):
    sign_in(client, world["staff"].email)
    assert 'href="/jury"' not in client.get("/account").text
    assert "You sit on no jury yet" in client.get("/jury").text


def test_the_round_page_is_my_queue_and_404_for_anyone_else(client, db, world, make):
    juror = world["jurors"][0]
    mine = _assignments_of(db, juror)
    sign_in(client, juror.email)
    page = client.get(f"/jury/rounds/{world['round'].id}")
    assert page.status_code == 200
    for a in mine:
        assert f'href="/jury/assignments/{a.id}"' in page.text
    assert STARTUPS[0] in page.text or STARTUPS[1] in page.text  # not blind: the startups are named
    client.cookies.clear()
    sign_in(client, world["staff"].email)  # the staff run the round elsewhere: this queue is no page of theirs
    assert client.get(f"/jury/rounds/{world['round'].id}").status_code == 404
    assert client.get(f"/jury/assignments/{mine[0].id}").status_code == 404
    client.cookies.clear()
    sign_in(client, make.user().email)
    assert client.get(f"/jury/rounds/{world['round'].id}").status_code == 404


def test_a_juror_saves_themes_and_bids(client, db, world):
    juror = world["jurors"][0]
    first = _assignments_of(db, juror)[0]
    sign_in(client, juror.email)
    page = f"/jury/rounds/{world['round'].id}"
    answer = _post(client, f"{page}/themes", {"themes": ["water", "energy"]}, page)
    assert answer.status_code == 303
    db.expire_all()
    assert db.exec(select(Juror).where(Juror.user_id == juror.id)).one().themes == ["energy", "water"]
    assert _post(client, f"/jury/assignments/{first.id}/bid", {"bid": "eager"}, page).status_code == 303
    assert 'value="eager" selected' in client.get(page).text
    assert _post(client, f"/jury/assignments/{first.id}/bid", {"bid": "keen"}, page).status_code == 422


def test_the_scoring_page_shows_the_proposal_and_its_pdf_inline(client, db, world):
    juror = world["jurors"][0]
    sign_in(client, juror.email)
    for a in _assignments_of(db, juror):
        page = client.get(f"/jury/assignments/{a.id}")
        assert page.status_code == 200
        assert "Skills of the team." in page.text
        assert "From 0 to 10, in half points." in page.text
        for link in re.findall(r"/jury/assignments/\d+/attachments/\d+", page.text):
            shown = client.get(link)
            assert shown.status_code == 200
            assert shown.headers["content-disposition"].startswith("inline;")
            assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]
            assert shown.headers["x-frame-options"] == "SAMEORIGIN"
            assert shown.content == b"%PDF-1.4 pitch deck"


def test_a_draft_is_saved_then_a_submission_missing_a_score_is_refused_naming_the_field(client, db, world):
    juror = world["jurors"][0]
    a = _assignments_of(db, juror)[0]
    team_c, data_c = world["criteria"]
    sign_in(client, juror.email)
    page = f"/jury/assignments/{a.id}"
    saved = _post(client, f"{page}/review", {"action": "draft", f"scores.{team_c.id}": "3", "note": "Keep"}, page)
    assert saved.status_code == 303
    refused = _post(
        client,
        f"{page}/review",
        {"action": "submit", f"scores.{team_c.id}": "4", f"scores.{data_c.id}": "", "comment": "Kept text"},
        page,
    )
    assert refused.status_code == 422
    assert f'href="#f-scores.{data_c.id}">Use of the data</a>' in refused.text
    assert "Kept text" in refused.text
    assert f'name="scores.{team_c.id}" value="4" data-score checked' in refused.text
    db.expire_all()
    review = db.exec(select(JuryReview).where(JuryReview.assignment_id == a.id)).one()
    assert review.status == "draft"
    assert review.scores == {str(team_c.id): 4}  # the draft kept what was typed
    out_of_scale = _post(client, f"{page}/review", {"action": "submit", **_scores(world, data="11")}, page)
    assert out_of_scale.status_code == 422
    assert "Give a score between 0 and 10." in out_of_scale.text
    half = _post(client, f"{page}/review", {"action": "submit", **_scores(world, team="3.5")}, page)
    assert half.status_code == 422
    assert "Use whole points." in half.text
    not_a_number = _post(client, f"{page}/review", {"action": "submit", **_scores(world, team="nan")}, page)
    assert not_a_number.status_code == 422


def test_submit_and_next_goes_to_the_next_proposal_then_back_to_the_queue(client, db, world):
    juror = world["jurors"][0]
    first, second = _assignments_of(db, juror)
    sign_in(client, juror.email)
    page = f"/jury/assignments/{first.id}"
    answer = _post(client, f"{page}/review", {"action": "next", **_scores(world, data="7,5")}, page)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/jury/assignments/{second.id}"
    page = f"/jury/assignments/{second.id}"
    answer = _post(client, f"{page}/review", {"action": "next", **_scores(world)}, page)
    assert answer.headers["location"] == f"/jury/rounds/{world['round'].id}"
    db.expire_all()
    review = db.exec(select(JuryReview).where(JuryReview.assignment_id == first.id)).one()
    assert review.status == "submitted"
    assert review.scores[str(world["criteria"][1].id)] == 7.5
    assert "2 done, 0 to do" in client.get("/jury").text


def test_others_reviews_appear_after_my_own_is_submitted(client, db, world):
    one, two = world["jurors"][:2]
    shared = next(a for a in _assignments_of(db, one) if a.entry_id in {b.entry_id for b in _assignments_of(db, two)})
    theirs = next(b for b in _assignments_of(db, two) if b.entry_id == shared.entry_id)
    sign_in(client, two.email)
    page = f"/jury/assignments/{theirs.id}"
    _post(client, f"{page}/review", {"action": "submit", **_scores(world), "note": "Strong pilot plan"}, page)
    client.cookies.clear()
    sign_in(client, one.email)
    page = f"/jury/assignments/{shared.id}"
    assert "Strong pilot plan" not in client.get(page).text
    assert "once you have submitted your own review" in client.get(page).text
    _post(client, f"{page}/review", {"action": "submit", **_scores(world)}, page)
    shown = client.get(page).text
    assert "Strong pilot plan" in shown
    assert "Juror 2" in shown


def test_an_abstention_needs_a_reason(client, db, world):
    juror = world["jurors"][0]
    a = _assignments_of(db, juror)[0]
    sign_in(client, juror.email)
    page = f"/jury/assignments/{a.id}"
    refused = _post(client, f"{page}/review", {"action": "abstain", "reason": " "}, page)
    assert refused.status_code == 422
    assert 'href="#f-reason"' in refused.text
    assert _post(client, f"{page}/review", {"action": "abstain", "reason": "I mentor them"}, page).status_code == 303
    db.expire_all()
    assert db.exec(select(JuryReview).where(JuryReview.assignment_id == a.id)).one().status == "abstained"


def test_the_autosave_keeps_a_draft_and_answers_the_new_revision(client, db, world):
    juror = world["jurors"][0]
    a = _assignments_of(db, juror)[0]
    team_c = world["criteria"][0]
    sign_in(client, juror.email)
    page = f"/jury/assignments/{a.id}"
    assert 'data-autosave="/jury/assignments/' in client.get(page).text
    first = _post(client, f"{page}/autosave", {f"scores.{team_c.id}": "2", "revision": ""}, page)
    assert first.status_code == 200
    assert 'name="revision" value="1"' in first.text
    second = _post(client, f"{page}/autosave", {f"scores.{team_c.id}": "3", "revision": "1"}, page)
    assert 'name="revision" value="2"' in second.text
    stale = _post(client, f"{page}/autosave", {f"scores.{team_c.id}": "5", "revision": "1"}, page)
    assert stale.status_code == 200
    assert "saved elsewhere" in stale.text
    db.expire_all()
    assert db.exec(select(JuryReview).where(JuryReview.assignment_id == a.id)).one().scores == {str(team_c.id): 3}
    _post(client, f"{page}/review", {"action": "submit", **_scores(world), "revision": "2"}, page)
    paused = _post(client, f"{page}/autosave", _scores(world, team="1"), page)
    assert "submit it again" in paused.text
    assert 'data-autosave="' not in client.get(page).text


def test_a_submitted_review_is_edited_until_the_round_closes_then_409(client, db, world):
    juror = world["jurors"][0]
    a = _assignments_of(db, juror)[0]
    sign_in(client, juror.email)
    page = f"/jury/assignments/{a.id}"
    _post(client, f"{page}/review", {"action": "submit", **_scores(world, team="2")}, page)
    _post(client, f"{page}/review", {"action": "submit", **_scores(world, team="5")}, page)
    db.expire_all()
    review = db.exec(select(JuryReview).where(JuryReview.assignment_id == a.id)).one()
    versions = db.exec(select(JuryReviewVersion).where(JuryReviewVersion.review_id == review.id)).all()
    assert [v.scores[str(world["criteria"][0].id)] for v in versions] == [2, 5]
    world["round"].closes_at = utcnow() - timedelta(minutes=1)
    db.add(world["round"])
    db.flush()
    closed = _post(client, f"{page}/review", {"action": "submit", **_scores(world, team="1"), "comment": "Late"}, page)
    assert closed.status_code == 409
    assert "The round is closed" in closed.text
    assert "Late" in closed.text  # what was typed is kept on the page
    assert 'class="stack jury-review__scores" disabled' in client.get(page).text


def test_a_conflict_declared_from_an_assignment_removes_it_from_my_queue(client, db, world):
    juror = world["jurors"][0]
    a = _assignments_of(db, juror)[0]
    sign_in(client, juror.email)
    page = f"/jury/assignments/{a.id}"
    assert _post(client, f"{page}/conflict", {"reason": ""}, page).status_code == 422
    answer = _post(client, f"{page}/conflict", {"reason": "I advise this startup"}, page)
    assert answer.status_code == 303
    assert client.get(page).status_code == 404
    assert db.exec(select(JuryConflict).where(JuryConflict.user_id == juror.id)).one().reason == "I advise this startup"


def test_a_conflict_is_declared_by_name_in_a_round_that_is_not_blind(client, db, world):
    juror = world["jurors"][0]
    sign_in(client, juror.email)
    page = f"/jury/rounds/{world['round'].id}"
    text = client.get(page).text
    option = re.search(r'<option value="(\d+)" >PipeWatch</option>', text)
    assert option, "the round's startups are offered"
    refused = _post(client, f"{page}/conflicts", {"startup": option.group(1), "reason": ""}, page)
    assert refused.status_code == 422
    assert _post(client, f"{page}/conflicts", {"startup": "999999", "reason": "x"}, page).status_code == 422
    declared = _post(client, f"{page}/conflicts", {"startup": option.group(1), "reason": "Former employer"}, page)
    assert declared.status_code == 303
    assert "Former employer" in client.get(page).text


def test_a_blind_round_names_neither_the_startup_nor_its_members_on_any_juror_page(client, db, world):
    world["round"].blind = True
    db.add(world["round"])
    db.flush()
    juror = world["jurors"][0]
    sign_in(client, juror.email)
    mine = _assignments_of(db, juror)
    pages = ["/jury", f"/jury/rounds/{world['round'].id}"] + [f"/jury/assignments/{a.id}" for a in mine]
    texts = [client.get(p).text for p in pages]
    for a in mine:
        page = client.get(f"/jury/assignments/{a.id}").text
        for link in re.findall(r"/jury/assignments/\d+/attachments/\d+", page):
            disposition = client.get(link).headers["content-disposition"]
            assert "Attachment 1.pdf" in disposition
            texts.append(disposition)
    words = {w for name in STARTUPS + FOUNDERS for w in name.split() if len(w) >= 4}
    for text in texts:
        for word in words:
            assert word not in text, word
    assert f'/jury/rounds/{world["round"].id}/conflicts"' not in texts[1]  # no startup to choose by name
    by_name = _post(client, f"/jury/rounds/{world['round'].id}/conflicts", {"startup": "1", "reason": "x"}, pages[1])
    assert by_name.status_code == 422  # the service refuses a startup named in a blind round


def test_an_invited_expert_creates_an_account_and_sits_on_the_jury(client, db, world, make):
    staff = make.actor(world["staff"])
    view = get_managed_round(db, staff, world["round"].id)
    _, link = jurors.add_juror(db, staff, view, JurorIn(email="expert@university.example", name="Dr Expert"))
    path = link.split("testserver")[-1] if "testserver" in link else link[link.index("/jury/") :]
    page = client.get(path)
    assert page.status_code == 200
    assert "Written pre-selection" in page.text
    refused = _post(client, path, {"name": "Dr Expert", "password": "short"}, path)
    assert refused.status_code == 422
    accepted = _post(client, path, {"name": "Dr Expert", "password": "a long enough passphrase"}, path)
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/jury/rounds/{world['round'].id}"
    assert client.get(accepted.headers["location"]).status_code == 200
    client.cookies.clear()
    assert client.get(path).status_code == 404  # single use


def test_an_invitation_is_accepted_signed_in_with_the_invited_address_only(client, db, world, make):
    staff = make.actor(world["staff"])
    view = get_managed_round(db, staff, world["round"].id)
    expert = make.user(email="known@university.example")
    _, link = jurors.add_juror(db, staff, view, JurorIn(email=expert.email, name="Known"))
    path = link[link.index("/jury/") :]
    sign_in(client, world["jurors"][0].email)
    refused = _post(client, path, {}, path)
    assert refused.status_code == 403
    assert "another email address" in refused.text
    client.cookies.clear()
    assert "Sign in first" in client.get(path).text
    sign_in(client, expert.email)
    assert _post(client, path, {}, path).status_code == 303
    assert client.get(f"/jury/rounds/{world['round'].id}").status_code == 200


def test_in_a_blind_round_another_jurors_text_is_shown_without_the_startups_names(client, db, world):
    world["round"].blind = True
    db.add(world["round"])
    db.flush()
    one, two = world["jurors"][:2]
    shared = next(a for a in _assignments_of(db, one) if a.entry_id in {b.entry_id for b in _assignments_of(db, two)})
    theirs = next(b for b in _assignments_of(db, two) if b.entry_id == shared.entry_id)
    entry = db.get(JuryEntry, shared.entry_id)
    startup = db.get(Organisation, db.get(Proposal, entry.proposal_id).startup_id)
    sign_in(client, two.email)
    page = f"/jury/assignments/{theirs.id}"
    note = f"{startup.name} pitched this to me last year."
    _post(client, f"{page}/review", {"action": "submit", **_scores(world), "note": note}, page)
    client.cookies.clear()
    sign_in(client, one.email)
    page = f"/jury/assignments/{shared.id}"
    _post(client, f"{page}/review", {"action": "submit", **_scores(world)}, page)
    shown = client.get(page).text
    assert "pitched this to me last year." in shown
    assert startup.name not in shown


def test_a_member_of_the_staff_who_sits_on_the_jury_has_their_own_queue(client, db, world, make):
    staff = make.actor(world["staff"])
    view = get_managed_round(db, staff, world["round"].id)
    jurors.add_juror(db, staff, view, JurorIn(user=world["staff"].id))
    assignments.assign(db, staff, get_managed_round(db, staff, world["round"].id))
    mine = {a.id for a in _assignments_of(db, world["staff"])}
    assert mine
    sign_in(client, world["staff"].email)
    page = client.get(f"/jury/rounds/{world['round'].id}").text
    shown = {int(n) for n in re.findall(r'<a href="/jury/assignments/(\d+)"', page)}
    assert shown == mine


def test_the_queue_and_the_jury_page_cost_the_same_queries_with_one_more_assignment(client, db, world, engine, make):
    juror = world["jurors"][0]
    sign_in(client, juror.email)
    pages = ("/jury", f"/jury/rounds/{world['round'].id}")

    def cost() -> dict[str, int]:
        found = {}
        for path in pages:
            with counting(engine) as statements:
                assert client.get(path).status_code == 200
            found[path] = len(statements)
        return found

    before = cost()
    mine = {a.entry_id for a in _assignments_of(db, juror)}
    missing = next(
        e for e in db.exec(select(JuryEntry).where(JuryEntry.round_id == world["round"].id)) if e.id not in mine
    )
    staff = make.actor(world["staff"])
    seat = db.exec(select(Juror).where(Juror.user_id == juror.id)).one()
    assignments.add_assignment(
        db,
        staff,
        get_managed_round(db, staff, world["round"].id),
        AssignmentIn(juror=seat.id, proposal=missing.proposal_id),
    )
    assert "0 done, 3 to do" in client.get("/jury").text
    assert cost() == before


def test_a_submitted_review_changes_only_by_a_new_submission_its_checks_allow(client, db, world):
    juror = world["jurors"][0]
    a = _assignments_of(db, juror)[0]
    team_c = world["criteria"][0]
    sign_in(client, juror.email)
    page = f"/jury/assignments/{a.id}"
    _post(client, f"{page}/review", {"action": "submit", **_scores(world, team="2")}, page)
    assert 'value="draft"' not in client.get(page).text
    draft = _post(client, f"{page}/review", {"action": "draft", **_scores(world, team="5")}, page)
    assert draft.status_code == 409
    refused = _post(client, f"{page}/review", {"action": "submit", **_scores(world, team="9")}, page)
    assert refused.status_code == 422
    assert "Your submitted review is unchanged" in refused.text
    assert f'name="scores.{world["criteria"][1].id}" value="7.5" data-score checked' in refused.text  # as typed
    db.expire_all()
    review = db.exec(select(JuryReview).where(JuryReview.assignment_id == a.id)).one()
    assert (review.status, review.scores[str(team_c.id)]) == ("submitted", 2)
