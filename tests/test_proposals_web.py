"""Proposal pages: apply, edit with autosave and the version check, submit with a receipt, the sponsors' list
and exports, extra questions; confidentiality through pages and download links."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import utcnow
from app.proposals.models import Proposal, ProposalVersion
from tests.conftest import CSRF_RE, sign_in

FORM = {
    "title": "LeakSense",
    "summary": "Acoustic sensors find leaks early.",
    "description": "Sensors on valves.",
    "data_use": "Pressure data.",
    "experimentation_plan": "Twelve sensors in Ain Sebaâ.",
    "team": "Salma | CEO\nYoussef | CTO",
    "trl": "5",
    "plan": "1 | Sensors installed\n6 | First results",
    "needs": "Access to valves.",
    "video_url": "",
}


@pytest.fixture
def world(db, make):
    operator_org = make.organisation("operator")
    lydec = make.organisation("partner", name="Lydec")
    programme = make.programme(operator_org, partners=[lydec], slug="casa-w", name="Casablanca")
    challenge = make.published_challenge(
        lydec,
        programme=programme,
        slug="leaks",
        title="Water leaks",
        kpis=[{"name": "Non-revenue water", "unit": "%", "baseline": "24", "target": "18"}],
    )
    startup = make.organisation("startup", name="LeakSense SARL")
    db.flush()
    return {
        "challenge": challenge,
        "page": f"/programmes/{programme.slug}/challenges/{challenge.slug}",
        "alice": make.user(organisation=startup, role="admin", name="Alice"),
        "bob": make.user(organisation=startup, name="Bob"),
        "other": make.member("startup")[0],
        "sponsor": make.user(organisation=lydec),
        "operator_org": operator_org,
    }


def _token(client, path):
    match = CSRF_RE.search(client.get(path).text)
    assert match, path
    return match.group(1)


def _post(client, path, data, page):
    return client.post(path, data={"csrf_token": _token(client, page), **data}, headers={"Origin": "http://testserver"})


def _start(client, world):
    response = _post(client, f"/challenges/{world['challenge'].id}/proposals", {}, world["page"])
    assert response.status_code == 303
    return int(response.headers["location"].split("/")[2])


def _close(db, world):
    world["challenge"].deadline = utcnow() - timedelta(seconds=1)
    db.add(world["challenge"])
    db.commit()


def test_a_startup_applies_saves_and_submits_and_gets_a_receipt(client, db, world):
    sign_in(client, world["alice"].email)
    assert "Apply to this challenge" in client.get(world["page"], headers={"Accept-Language": "en"}).text
    proposal_id = _start(client, world)
    edit = f"/proposals/{proposal_id}/edit"
    saved = _post(client, edit, {**FORM, "revision": "1", "kpis": "Non-revenue water"}, edit)
    assert saved.status_code == 303
    proposal = db.get(Proposal, proposal_id)
    assert proposal.team == [{"name": "Salma", "role": "CEO"}, {"name": "Youssef", "role": "CTO"}]
    assert proposal.plan[1] == {"month": 6, "milestone": "First results"} and proposal.kpis == ["Non-revenue water"]
    page = f"/proposals/{proposal_id}"
    refused = _post(client, f"{page}/submit", {}, page)
    assert refused.status_code == 422 and db.exec(select(ProposalVersion)).all() == []
    submitted = _post(client, f"{page}/submit", {"accept_terms": "true"}, page)
    assert submitted.status_code == 303 and submitted.headers["location"] == f"{page}/versions/1"
    version = db.exec(select(ProposalVersion)).one()
    receipt = client.get(f"{page}/versions/1")
    assert version.receipt_number in receipt.text and version.sha256 in receipt.text
    assert version.receipt_number in client.get("/my/applications").text


def test_autosave_answers_a_fragment_saying_the_draft_is_saved(client, db, world):
    sign_in(client, world["alice"].email)
    proposal_id = _start(client, world)
    edit = f"/proposals/{proposal_id}/edit"
    response = client.post(
        f"/proposals/{proposal_id}/autosave",
        data={"csrf_token": _token(client, edit), "title": "Typed", "revision": "1"},
        headers={"Origin": "http://testserver", "HX-Request": "true"},
    )
    assert response.status_code == 200 and "autosave--saved" in response.text
    assert db.get(Proposal, proposal_id).title == "Typed" and db.get(Proposal, proposal_id).revision == 2


def test_two_members_saving_at_once_are_told_and_see_both_versions(client, db, world):
    sign_in(client, world["alice"].email)
    proposal_id = _start(client, world)
    edit = f"/proposals/{proposal_id}/edit"
    assert _post(client, edit, {**FORM, "summary": "Alice's summary", "revision": "1"}, edit).status_code == 303
    # Bob opened the form at revision 1 too, and saves after Alice
    client.cookies.clear()
    sign_in(client, world["bob"].email)
    response = _post(client, edit, {**FORM, "summary": "Bob's summary", "revision": "1"}, edit)
    assert response.status_code == 409
    assert "Alice&#39;s summary" in response.text and "Bob&#39;s summary" in response.text
    assert db.get(Proposal, proposal_id).summary == "Alice's summary"


def test_another_startup_gets_404_on_the_proposal_and_its_files(client, db, world):
    sign_in(client, world["alice"].email)
    proposal_id = _start(client, world)
    client.cookies.clear()
    sign_in(client, world["other"].email)
    for path in (f"/proposals/{proposal_id}", f"/proposals/{proposal_id}/edit", f"/proposals/{proposal_id}/versions/1"):
        assert client.get(path).status_code == 404, path
    assert (
        _post(client, f"/proposals/{proposal_id}/submit", {"accept_terms": "true"}, "/my/applications").status_code
        == 404
    )


def test_sponsors_see_counts_before_the_deadline_then_proposals_and_exports(client, db, world):
    sign_in(client, world["alice"].email)
    proposal_id = _start(client, world)
    edit = f"/proposals/{proposal_id}/edit"
    _post(client, edit, {**FORM, "title": "=cmd|' /C calc'!A0", "revision": "1"}, edit)
    page = f"/proposals/{proposal_id}"
    assert _post(client, f"{page}/submit", {"accept_terms": "true"}, page).status_code == 303
    client.cookies.clear()
    sign_in(client, world["sponsor"].email)
    listing = f"/challenges/{world['challenge'].id}/proposals"
    before = client.get(listing, headers={"Accept-Language": "en"})
    assert "1 proposal submitted" in before.text and "LeakSense SARL" not in before.text
    assert client.get(page).status_code == 404
    assert client.get(listing + ".csv").status_code == 403
    _close(db, world)
    after = client.get(listing, headers={"Accept-Language": "en"})
    assert "LeakSense SARL" in after.text
    assert client.get(page).status_code == 200
    exported = client.get(listing + ".csv")
    assert exported.status_code == 200 and "'=cmd|" in exported.text
    decided = _post(client, f"{page}/eligibility", {"eligible": "false", "reason": "Outside Morocco."}, page)
    assert decided.status_code == 303 and db.get(Proposal, proposal_id).status == "ineligible"


def test_late_submission_is_refused_with_the_deadline_shown(client, db, world):
    sign_in(client, world["alice"].email)
    proposal_id = _start(client, world)
    edit = f"/proposals/{proposal_id}/edit"
    _post(client, edit, {**FORM, "revision": "1"}, edit)
    page = f"/proposals/{proposal_id}"
    token = _token(client, page)
    _close(db, world)
    response = client.post(
        f"{page}/submit",
        data={"csrf_token": token, "accept_terms": "true"},
        headers={"Origin": "http://testserver", "Accept-Language": "en"},
    )
    assert response.status_code == 409 and "has passed" in response.text
    assert db.exec(select(ProposalVersion)).all() == []


def test_sponsors_add_extra_questions_that_appear_in_the_form(client, db, world):
    sign_in(client, world["sponsor"].email)
    questions = f"/challenges/{world['challenge'].id}/proposal-questions"
    added = _post(
        client,
        questions,
        {"label": "Where are you based?", "kind": "single_choice", "choices": "Casa\nRabat"},
        questions,
    )
    assert added.status_code == 303
    refused = _post(client, questions, {"label": "Pick one", "kind": "single_choice", "choices": "Only"}, questions)
    assert refused.status_code == 422 and "Pick one" in refused.text
    client.cookies.clear()
    sign_in(client, world["alice"].email)
    proposal_id = _start(client, world)
    assert "Where are you based?" in client.get(f"/proposals/{proposal_id}/edit").text


AFTER_DEADLINE_ROLES = ("startup", "other_startup", "sponsor", "other_sponsor", "operator", "platform_admin")
STAFF = {"sponsor", "operator", "platform_admin"}


def _expect(staff: int, startup: int, others: int = 404) -> dict[str, int]:
    return {role: staff if role in STAFF else startup if role == "startup" else others for role in AFTER_DEADLINE_ROLES}


AFTER_DEADLINE = {
    ("GET", "/proposals/{proposal_id}"): _expect(200, 200),
    ("GET", "/proposals/{proposal_id}/versions/1"): _expect(200, 200),
    ("GET", "/proposals/{proposal_id}/attachments/{attachment_id}/download"): _expect(200, 200),
    ("GET", "/challenges/{challenge_id}/proposals"): _expect(200, 404),
    ("GET", "/challenges/{challenge_id}/proposals.csv"): _expect(200, 404),
    ("GET", "/challenges/{challenge_id}/proposals.zip"): _expect(200, 404),
    ("POST", "/proposals/{proposal_id}/eligibility"): _expect(303, 403),
    ("POST", "/proposals/{proposal_id}/edit"): _expect(404, 409),
    ("POST", "/proposals/{proposal_id}/submit"): _expect(404, 409),
    ("POST", "/proposals/{proposal_id}/withdraw"): _expect(404, 409),
    ("GET", "/api/v1/proposals/{proposal_id}"): _expect(200, 200),
    ("POST", "/api/v1/proposals/{proposal_id}/eligibility"): _expect(200, 403),
    ("PATCH", "/api/v1/proposals/{proposal_id}"): _expect(403, 409),  # staff may read it, never change it
}


@pytest.mark.parametrize("role", AFTER_DEADLINE_ROLES)
@pytest.mark.parametrize("route", sorted(AFTER_DEADLINE), ids=lambda r: f"{r[0]} {r[1]}")
def test_after_the_deadline_each_role_gets_what_it_may(client, db, make, world, route, role):
    from app.proposals import attachments, records, service
    from app.proposals.schemas import ProposalCreate

    alice = make.actor(world["alice"])
    view = service.create_proposal(
        db,
        alice,
        ProposalCreate(
            challenge=world["challenge"].id,
            title="LeakSense",
            summary="Sensors.",
            description="Sensors on valves.",
            data_use="Pressure data.",
            experimentation_plan="Twelve sensors.",
            team=[{"name": "Salma", "role": "CEO"}],
            trl=5,
            plan=[{"month": 1, "milestone": "Installed"}],
        ),
    )
    attachment = attachments.store_attachment_bytes(db, alice, view.proposal.id, "deck.pdf", b"%PDF-1.4 deck")
    service.submit_proposal(db, alice, records.get_proposal(db, alice, view.proposal.id), accept_terms=True)
    _close(db, world)
    users = {
        "startup": world["alice"],
        "other_startup": world["other"],
        "sponsor": world["sponsor"],
        "other_sponsor": make.member("partner")[0],
        "operator": make.user(organisation=world["operator_org"]),
        "platform_admin": make.user(platform_admin=True),
    }
    method, template = route
    path = template.format(
        proposal_id=view.proposal.id, attachment_id=attachment.id, challenge_id=world["challenge"].id
    )
    if template.startswith("/api/"):
        headers = {"Authorization": f"Bearer {make.token(users[role], 'write')[1]}"}
        body = {"eligible": True} if path.endswith("eligibility") else {"summary": "Late."}
        response = client.request(method, path, json=None if method == "GET" else body, headers=headers)
    else:
        sign_in(client, users[role].email)
        if method == "GET":
            response = client.get(path)
        else:
            response = _post(
                client, path, {"eligible": "true", "accept_terms": "true", "confirm": "yes"}, "/my/applications"
            )
    assert response.status_code == AFTER_DEADLINE[route][role], f"{method} {path} as {role}: {response.text[:300]}"


def test_autosave_after_the_deadline_says_so_in_the_fragment(client, db, world):
    sign_in(client, world["alice"].email)
    proposal_id = _start(client, world)
    token = _token(client, f"/proposals/{proposal_id}/edit")
    _close(db, world)
    response = client.post(
        f"/proposals/{proposal_id}/autosave",
        data={"csrf_token": token, "title": "Too late", "revision": "1"},
        headers={"Origin": "http://testserver", "HX-Request": "true", "Accept-Language": "en"},
    )
    assert response.status_code == 200 and "has passed" in response.text and 'id="autosave-status"' in response.text
    assert db.get(Proposal, proposal_id).title == ""


def test_a_member_of_two_startups_chooses_which_one_applies(client, db, make, world):
    second = make.organisation("startup", name="Second startup")
    from app.accounts import service as accounts

    accounts.add_membership(db, world["alice"], second, "admin")
    db.commit()
    sign_in(client, world["alice"].email)
    page = client.get(world["page"], headers={"Accept-Language": "en"})
    assert "Apply on behalf of" in page.text and "Second startup" in page.text
    response = _post(
        client, f"/challenges/{world['challenge'].id}/proposals", {"startup": str(second.id)}, world["page"]
    )
    assert response.status_code == 303
    proposal = db.exec(select(Proposal)).one()
    assert proposal.startup_id == second.id
    # the other startup may still apply; the one that did is offered its proposal
    page = client.get(world["page"], headers={"Accept-Language": "en"})
    assert f'href="/proposals/{proposal.id}"' in page.text and "LeakSense SARL" in page.text


def test_a_plan_line_that_cannot_be_read_is_explained_the_input_kept_and_the_rest_saved(client, db, world):
    sign_in(client, world["alice"].email)
    proposal_id = _start(client, world)
    edit = f"/proposals/{proposal_id}/edit"
    response = client.post(
        edit,
        data={"csrf_token": _token(client, edit), **FORM, "plan": "soon | Sensors installed", "revision": "1"},
        headers={"Origin": "http://testserver", "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "Line 1: give a month from 1 to 9, then the milestone." in response.text
    assert "soon | Sensors installed" in response.text and "Acoustic sensors find leaks early." in response.text
    saved = db.get(Proposal, proposal_id)
    assert saved.summary == "Acoustic sensors find leaks early." and saved.plan == []
