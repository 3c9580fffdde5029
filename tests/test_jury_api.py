"""The jury through /api/v1 with bearer tokens: what a partner running a selection relies on — rounds with their
criteria, ETag / If-Match, opening and closing, entries, jurors and email invitations, conflicts of interest,
the automatic assignment, the blind projection of a proposal, reviews (422 keeping the draft, 409 after the
close) and who may read the others' reviews. A conflicted juror gets 404 on everything about the entry."""

import json
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlmodel import col, select

from app.accounts.models import Organisation, User
from app.challenges import service as challenges
from app.db import utcnow
from app.errors import Invalid
from app.jury import assignments, jurors, records, reviews, service
from app.jury.models import Juror, JuryAssignment, JuryEntry, JuryReview
from app.jury.schemas import AssignmentIn, ConflictIn, EntriesIn, JurorIn, ReviewIn, RoundCreate
from app.proposals import attachments
from app.proposals import records as proposal_records
from app.proposals import service as proposals
from app.proposals.models import ProposalStatus
from app.proposals.schemas import EligibilityDecision
from tests.conftest import mailed_link
from tests.dbutil import schemathesis_examples
from tests.test_query_counts import counting

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def auth(make):
    """Headers with a write-scoped bearer token of that user (one per user, English messages)."""
    cache: dict[int, dict[str, str]] = {}

    def headers(user) -> dict[str, str]:
        if user.id not in cache:
            cache[user.id] = {"Authorization": f"Bearer {make.token(user, 'write')[1]}", "Accept-Language": "en"}
        return cache[user.id]

    return headers


@pytest.fixture
def jury(db, make):
    """A challenge of Lydec past its deadline with two eligible proposals — Aquasense's (it names its founder
    and carries a deck named after the startup) and AquaTrack's — and the people around a jury: the staff,
    two jurors from partner Inwi, an adviser at Aquasense's email domain (conflicted with it), an outsider."""
    operator = make.organisation("operator", name="Casa Innovation")
    lydec = make.organisation("partner", name="Lydec")
    inwi = make.organisation("partner", name="Inwi")
    programme = make.programme(operator, partners=[lydec], slug="casa-jury", name="Casablanca")
    challenge = make.published_challenge(lydec, programme=programme, slug="leaks-jury", title="Leaks")
    other_challenge = make.published_challenge(lydec, programme=programme, slug="other-jury", title="Other")
    aquasense = make.organisation("startup", name="Aquasense")
    aquatrack = make.organisation("startup", name="AquaTrack")
    founder = make.user("yasmine@aquasense.ma", organisation=aquasense, role="admin", name="Yasmine Benali")
    tracker = make.user("omar@aquatrack.ma", organisation=aquatrack, role="admin", name="Omar Idrissi")
    a = make.proposal(
        founder,
        challenge,
        title="Aquasense listens to the pipes",
        description="Yasmine Benali built the model at Aquasense; Salma Tazi runs the pilots.",
        team=[{"name": "Yasmine Benali", "role": "CEO"}, {"name": "Salma Tazi", "role": "Operations"}],
    )
    attachments.store_attachment_bytes(db, make.actor(founder), a.id, "Aquasense-deck.pdf", PDF)
    proposals.submit_proposal(
        db, make.actor(founder), proposal_records.get_proposal(db, make.actor(founder), a.id), accept_terms=True
    )
    b = make.proposal(tracker, challenge, submitted=True, title="Tracking leaks")
    late = make.proposal(make.user(organisation=make.organisation("startup")), challenge, title="Never submitted")
    elsewhere = make.proposal(tracker, other_challenge, submitted=True, title="Elsewhere")
    sponsor = make.user("staff@lydec.ma", organisation=lydec, role="admin", name="Lydec Staff")
    for c in (challenge, other_challenge):
        c.deadline = utcnow() - timedelta(hours=1)
        db.add(c)
    db.flush()
    for p in (a, b, elsewhere):
        view = proposal_records.get_proposal(db, make.actor(sponsor), p.id)
        proposals.decide_eligibility(db, make.actor(sponsor), view, EligibilityDecision(eligible=True))
    return {
        "challenge": challenge,
        "a": a,
        "b": b,
        "late": late,
        "elsewhere": elsewhere,
        "aquasense": aquasense,
        "aquatrack": aquatrack,
        "founder": founder,
        "sponsor": sponsor,
        "operator": make.user(organisation=operator),
        "juror": make.user("nadia@inwi.ma", organisation=inwi, name="Nadia Juror"),
        "juror2": make.user("karim@inwi.ma", organisation=inwi, name="Karim Juror"),
        "conflicted": make.user("adviser@aquasense.ma", name="Conflicted Adviser"),
        "outsider": make.user("someone@elsewhere.ma", organisation=make.organisation("partner")),
    }


def _round(
    db, make, jury, *, open_it=True, entries=True, seat=("juror", "juror2", "conflicted"), assign=False, **fields
):
    """A round of the jury's challenge made through the services, as the staff would."""
    actor = make.actor(jury["sponsor"])
    now = utcnow()
    data = RoundCreate(
        name=fields.pop("name", "Written pre-selection"),
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        preset="datacity",
        **fields,
    )
    view = service.create_round(db, actor, challenges.get_challenge(db, actor, jury["challenge"].id), data)
    if entries:
        service.add_entries(db, actor, view, EntriesIn(proposals=[jury["a"].id, jury["b"].id]))
    if open_it:
        view = service.open_round(db, actor, view)
    for role in seat:
        jurors.add_juror(db, actor, records.get_managed_round(db, actor, view.id), JurorIn(user=jury[role].id))
    if assign:
        assignments.assign(db, actor, records.get_managed_round(db, actor, view.id))
    return records.get_managed_round(db, actor, view.id)


def _juror_id(db, view, user) -> int:
    return db.exec(select(Juror.id).where(Juror.round_id == view.id, Juror.user_id == user.id)).one()


def _entry_id(db, view, proposal) -> int:
    return db.exec(
        select(JuryEntry.id).where(JuryEntry.round_id == view.id, JuryEntry.proposal_id == proposal.id)
    ).one()


def _assign(db, make, jury, view, role, proposal) -> int:
    """A manual assignment of the proposal to the role's juror; its id."""
    found = assignments.add_assignment(
        db,
        make.actor(jury["sponsor"]),
        records.get_managed_round(db, make.actor(jury["sponsor"]), view.id),
        AssignmentIn(juror=_juror_id(db, view, jury[role]), proposal=proposal.id),
    )
    return found.id


CRITERIA = [
    {"name": "Team", "description": "Who they are.", "weight": 2, "min": 0, "max": 5},
    {"name": "Use of the data", "weight": 1, "min": 0, "max": 10, "step": 0.5},
]


def _create_body(**fields):
    now = utcnow()
    return {
        "name": "Written pre-selection",
        "kind": "written",
        "opens_at": (now + timedelta(days=1)).replace(tzinfo=None, microsecond=0).isoformat(),
        "closes_at": (now + timedelta(days=15)).replace(tzinfo=None, microsecond=0).isoformat(),
        "reviews_per_proposal": 2,
        "blind": True,
        "others_visible": "after_own",
        "criteria": CRITERIA,
        **fields,
    }


# ---- rounds ---------------------------------------------------------------------------------------------


def test_staff_create_a_round_with_its_criteria_and_read_it_back(client, db, make, jury, auth):
    path = f"/api/v1/challenges/{jury['challenge'].id}/rounds"
    created = client.post(path, json=_create_body(), headers=auth(jury["sponsor"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == body["url"] and body["url"].endswith(f"/api/v1/rounds/{body['id']}")
    assert created.headers["ETag"] == f'"r{body["id"]}-1"'
    assert body["status"] == "draft" and body["position"] == 1 and body["blind"] is True
    assert [(c["name"], c["weight"], c["min"], c["max"], c["step"]) for c in body["criteria"]] == [
        ("Team", 2, 0, 5, 1),
        ("Use of the data", 1, 0, 10, 0.5),
    ]
    # times without an offset are the programme's (Casablanca, +01:00), and answered with that offset
    assert body["timezone"] == "Africa/Casablanca" and body["opens_at"].endswith("+01:00")
    assert {"created_at", "updated_at", "revision"} <= set(body)
    got = client.get(body["url"].replace("http://testserver", ""), headers=auth(jury["operator"]))
    assert got.status_code == 200 and got.json() == body
    listed = client.get(path, headers=auth(jury["operator"])).json()
    assert [r["id"] for r in listed["items"]] == [body["id"]] and listed["next"] is None


def test_only_the_staff_create_rounds_and_a_bad_scale_names_its_field(client, db, make, jury, auth):
    path = f"/api/v1/challenges/{jury['challenge'].id}/rounds"
    assert client.post(path, json=_create_body()).status_code == 401
    refused = client.post(path, json=_create_body(), headers=auth(jury["outsider"]))
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    bad = client.post(
        path, json=_create_body(criteria=[{"name": "Team", "min": 5, "max": 5}]), headers=auth(jury["sponsor"])
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("criteria.0")
    backwards = _create_body()
    backwards["closes_at"], backwards["opens_at"] = backwards["opens_at"], backwards["closes_at"]
    wrong = client.post(path, json=backwards, headers=auth(jury["sponsor"]))
    assert wrong.status_code == 422 and [e["field"] for e in wrong.json()["errors"]] == ["closes_at"]


def test_rounds_are_unknown_to_whoever_neither_runs_nor_sits_on_them(client, db, make, jury, auth):
    view = _round(db, make, jury)
    draft = _round(db, make, jury, open_it=False, entries=False, name="Auditions")
    listed = client.get(f"/api/v1/challenges/{jury['challenge'].id}/rounds", headers=auth(jury["juror"])).json()
    assert [r["id"] for r in listed["items"]] == [view.id]  # a juror sees the rounds they sit on, once open
    assert client.get(f"/api/v1/challenges/{jury['challenge'].id}/rounds", headers=auth(jury["outsider"])).json() == {
        "items": [],
        "next": None,
    }
    for user in (jury["outsider"], jury["founder"]):
        assert client.get(f"/api/v1/rounds/{view.id}", headers=auth(user)).status_code == 404
    assert client.get(f"/api/v1/rounds/{draft.id}", headers=auth(jury["juror"])).status_code == 404
    assert client.get(f"/api/v1/rounds/{view.id}", headers=auth(jury["juror"])).status_code == 200
    assert client.get(f"/api/v1/rounds/{view.id}").status_code == 401


def test_a_stale_if_match_is_refused_with_412_and_criteria_freeze_once_open(client, db, make, jury, auth):
    path = f"/api/v1/challenges/{jury['challenge'].id}/rounds"
    created = client.post(path, json=_create_body(), headers=auth(jury["sponsor"]))
    url, tag = f"/api/v1/rounds/{created.json()['id']}", created.headers["ETag"]
    changed = client.patch(url, json={"name": "Pre-selection"}, headers={**auth(jury["sponsor"]), "If-Match": tag})
    assert changed.status_code == 200 and changed.json()["name"] == "Pre-selection"
    assert changed.headers["ETag"] != tag
    stale = client.patch(url, json={"name": "Lost edit"}, headers={**auth(jury["operator"]), "If-Match": tag})
    assert stale.status_code == 412, stale.text
    assert client.get(url, headers=auth(jury["sponsor"])).json()["name"] == "Pre-selection"
    new_criteria = client.patch(url, json={"criteria": [{"name": "Only one"}]}, headers=auth(jury["sponsor"]))
    assert [c["name"] for c in new_criteria.json()["criteria"]] == ["Only one"]
    opened = client.post(url + "/open", headers=auth(jury["sponsor"]))
    assert opened.status_code == 200 and opened.json()["status"] == "open" and opened.json()["opened_at"]
    frozen = client.patch(url, json={"criteria": CRITERIA}, headers=auth(jury["sponsor"]))
    assert frozen.status_code == 409, frozen.text
    assert client.patch(url, json={"max_load": 4}, headers=auth(jury["sponsor"])).json()["max_load"] == 4


def test_open_and_close_follow_draft_open_closed(client, db, make, jury, auth):
    view = _round(db, make, jury, open_it=False)
    url, staff = f"/api/v1/rounds/{view.id}", auth(jury["sponsor"])
    assert client.post(url + "/close", headers=staff).status_code == 409
    assert client.post(url + "/open", headers=staff).json()["status"] == "open"
    assert client.post(url + "/open", headers=staff).status_code == 409
    closed = client.post(url + "/close", headers=staff)
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert client.post(url + "/close", headers=staff).status_code == 409


def test_a_juror_who_sees_the_round_is_forbidden_its_staff_actions(client, db, make, jury, auth):
    view = _round(db, make, jury)
    url, juror = f"/api/v1/rounds/{view.id}", auth(jury["juror"])
    for method, path, body in (
        ("PATCH", url, {"name": "Mine"}),
        ("POST", url + "/close", None),
        ("POST", url + "/assign", None),
        ("GET", url + "/entries", None),
        ("POST", url + "/entries", {"proposals": [jury["a"].id]}),
        ("GET", url + "/jurors", None),
        ("POST", url + "/jurors", {"user": jury["outsider"].id}),
        ("POST", url + "/assignments", {"juror": _juror_id(db, view, jury["juror"]), "proposal": jury["b"].id}),
    ):
        answer = client.request(method, path, json=body, headers=juror)
        assert answer.status_code == 403, (method, path, answer.text)
        assert client.request(method, path, json=body, headers=auth(jury["outsider"])).status_code == 404


# ---- entries --------------------------------------------------------------------------------------------


def test_entries_take_eligible_proposals_and_answer_their_review_counts(client, db, make, jury, auth):
    view = _round(db, make, jury, entries=False)
    url, staff = f"/api/v1/rounds/{view.id}/entries", auth(jury["sponsor"])
    for refused in (jury["late"], jury["elsewhere"]):
        answer = client.post(url, json={"proposals": [jury["a"].id, refused.id]}, headers=staff)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "proposals", answer.text
        assert str(refused.id) in answer.json()["errors"][0]["message"]
    added = client.post(url, json={"proposals": [jury["a"].id, jury["b"].id]}, headers=staff)
    assert added.status_code == 200, added.text
    assert sorted(e["proposal"] for e in added.json()) == sorted([jury["a"].id, jury["b"].id])
    again = client.post(url, json={"proposals": [jury["a"].id]}, headers=staff)
    assert [e["proposal"] for e in again.json()] == [jury["a"].id]  # already in: kept as it was
    entry_a = next(e for e in added.json() if e["proposal"] == jury["a"].id)
    service.exclude_entry(db, make.actor(jury["sponsor"]), view, entry_a["id"], "Duplicate of an earlier bid.")
    assignment = _assign(db, make, jury, view, "juror", jury["b"])
    client.put(
        f"/api/v1/assignments/{assignment}/review",
        json={"scores": {str(c.id): 3 for c in view.criteria}, "submit": True},
        headers=auth(jury["juror"]),
    )
    listed = {e["proposal"]: e for e in client.get(url, headers=staff).json()["items"]}
    assert listed[jury["a"].id]["excluded"] is True
    assert listed[jury["a"].id]["excluded_reason"] == "Duplicate of an earlier bid."
    assert listed[jury["a"].id]["startup"]["name"] == "Aquasense"
    assert (listed[jury["b"].id]["assigned"], listed[jury["b"].id]["submitted"]) == (1, 1)
    assert listed[jury["b"].id]["excluded"] is False and listed[jury["b"].id]["url"].endswith(
        f"/rounds/{view.id}/entries/{listed[jury['b'].id]['id']}"
    )


def test_staff_leave_an_entry_out_with_a_reason_and_take_it_back(client, db, make, jury, auth):
    view = _round(db, make, jury)
    pending = _assign(db, make, jury, view, "juror", jury["a"])
    url, staff = f"/api/v1/rounds/{view.id}/entries/{_entry_id(db, view, jury['a'])}", auth(jury["sponsor"])
    assert client.get(url, headers=staff).json()["assigned"] == 1
    unexplained = client.post(url + "/exclude", json={"reason": " "}, headers=staff)
    assert unexplained.status_code == 422 and unexplained.json()["errors"][0]["field"] == "reason"
    excluded = client.post(url + "/exclude", json={"reason": "Withdrawn by the startup."}, headers=staff)
    assert excluded.status_code == 200, excluded.text
    body = excluded.json()
    assert (body["excluded"], body["excluded_reason"], body["assigned"]) == (True, "Withdrawn by the startup.", 0)
    assert client.get(f"/api/v1/assignments/{pending}", headers=auth(jury["juror"])).status_code == 404
    included = client.post(url + "/include", headers=staff).json()
    assert (included["excluded"], included["excluded_reason"], included["excluded_at"]) == (False, "", None)
    assert client.get(url, headers=auth(jury["juror"])).status_code == 403
    assert client.get(f"/api/v1/rounds/{view.id}/entries/999999", headers=staff).status_code == 404
    client.post(f"/api/v1/rounds/{view.id}/close", headers=staff)
    assert client.post(url + "/exclude", json={"reason": "Too late."}, headers=staff).status_code == 409


# ---- jurors ---------------------------------------------------------------------------------------------


def test_staff_seat_a_user_and_invite_an_expert_whose_link_is_only_emailed(client, db, make, jury, auth, caplog):
    view = _round(db, make, jury, seat=())
    url, staff = f"/api/v1/rounds/{view.id}/jurors", auth(jury["sponsor"])
    seated = client.post(url, json={"user": jury["juror"].id, "themes": ["water"]}, headers=staff)
    assert seated.status_code == 201, seated.text
    assert seated.json()["status"] == "seated" and seated.json()["user"] == jury["juror"].id
    assert seated.headers["Location"] == seated.json()["url"]
    with caplog.at_level("INFO"):
        invited = client.post(url, json={"email": "Expert@Lab.example.net", "name": "Dr Expert"}, headers=staff)
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert (body["status"], body["user"], body["email"], body["name"]) == (
        "pending",
        None,
        "expert@lab.example.net",
        "Dr Expert",
    )
    link = mailed_link(caplog, "expert@lab.example.net", "/jury/invitations/")
    secret = link.rsplit("/", 1)[-1]
    assert secret not in invited.text and "invitation" not in json.dumps(body).replace("invitation_expires_at", "")
    again = client.post(url, json={"email": "expert@lab.example.net", "name": "Dr Expert"}, headers=staff)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "email"
    listed = client.get(url, headers=staff).json()["items"]
    assert {j["name"]: j["status"] for j in listed} == {"Nadia Juror": "seated", "Dr Expert": "pending"}
    removed = client.delete(f"{url}/{body['id']}", headers=staff)
    assert removed.status_code == 204
    assert [j["name"] for j in client.get(url, headers=staff).json()["items"]] == ["Nadia Juror"]
    assert client.delete(f"{url}/{body['id']}", headers=staff).status_code == 404
    assert client.post(url, json={"user": jury["juror"].id, "email": "x@y.ma"}, headers=staff).status_code == 422


def test_a_juror_reads_as_the_staff_list_them_with_their_progress(client, db, make, jury, auth):
    view = _round(db, make, jury)
    assignment = _assign(db, make, jury, view, "juror", jury["a"])
    client.put(f"/api/v1/assignments/{assignment}/review", json={"comment": "Started."}, headers=auth(jury["juror"]))
    juror_id = _juror_id(db, view, jury["juror"])
    url = f"/api/v1/rounds/{view.id}/jurors/{juror_id}"
    one = client.get(url, headers=auth(jury["sponsor"]))
    assert one.status_code == 200 and one.json()["url"].endswith(url)
    assert (one.json()["assigned"], one.json()["drafts"], one.json()["submitted"]) == (1, 1, 0)
    listed = client.get(f"/api/v1/rounds/{view.id}/jurors", headers=auth(jury["sponsor"])).json()["items"]
    assert next(j for j in listed if j["id"] == juror_id) == one.json()
    written = client.delete(url, headers=auth(jury["sponsor"]))
    assert written.status_code == 409, written.text  # a review is started: the juror stays on record
    assert client.get(f"/api/v1/rounds/{view.id}/jurors/999999", headers=auth(jury["sponsor"])).status_code == 404


# ---- conflicts ------------------------------------------------------------------------------------------


def test_staff_see_every_conflict_with_its_source_and_a_juror_their_own(client, db, make, jury, auth):
    view = _round(db, make, jury)
    url = f"/api/v1/rounds/{view.id}/conflicts"
    everyone = client.get(url, headers=auth(jury["sponsor"])).json()["items"]
    assert [(c["juror_name"], c["startup"]["name"], c["source"]) for c in everyone] == [
        ("Conflicted Adviser", "Aquasense", "automatic")
    ]
    assert "aquasense.ma" in everyone[0]["reason"] and everyone[0]["created_at"] is None
    assert client.get(url, headers=auth(jury["juror"])).json()["items"] == []
    own = client.get(url, headers=auth(jury["conflicted"])).json()["items"]
    assert [c["id"] for c in own] == [everyone[0]["id"]]
    assert (
        client.get(own[0]["url"].replace("http://testserver", ""), headers=auth(jury["sponsor"])).json()["items"]
        == everyone
    )


def test_a_juror_declares_a_conflict_and_loses_the_assignment(client, db, make, jury, auth):
    view = _round(db, make, jury)
    _assign(db, make, jury, view, "juror", jury["b"])
    url = f"/api/v1/rounds/{view.id}/conflicts"
    declared = client.post(
        url, json={"startup": jury["aquatrack"].id, "reason": "I advised them last year."}, headers=auth(jury["juror"])
    )
    assert declared.status_code == 201, declared.text
    body = declared.json()
    assert (body["source"], body["reason"], body["juror_name"]) == (
        "declared",
        "I advised them last year.",
        "Nadia Juror",
    )
    own = client.get(f"/api/v1/rounds/{view.id}/assignments", headers=auth(jury["juror"])).json()["items"]
    assert jury["b"].id not in [a["proposal"] for a in own]  # removed (the refill may give them A instead)
    assert not db.exec(
        select(JuryAssignment).where(
            JuryAssignment.entry_id == _entry_id(db, view, jury["b"]),
            JuryAssignment.juror_id == _juror_id(db, view, jury["juror"]),
        )
    ).first()
    for_someone_else = client.post(
        url,
        json={"startup": jury["aquatrack"].id, "reason": "Theirs.", "juror": _juror_id(db, view, jury["juror2"])},
        headers=auth(jury["juror"]),
    )
    assert for_someone_else.status_code == 403
    by_staff = client.post(
        url,
        json={"startup": jury["aquatrack"].id, "reason": "Board member.", "juror": _juror_id(db, view, jury["juror2"])},
        headers=auth(jury["sponsor"]),
    )
    assert by_staff.status_code == 201 and by_staff.json()["juror_name"] == "Karim Juror"
    sources = {(c["juror_name"], c["source"]) for c in client.get(url, headers=auth(jury["sponsor"])).json()["items"]}
    assert {("Nadia Juror", "declared"), ("Karim Juror", "declared"), ("Conflicted Adviser", "automatic")} == sources


# ---- assignment -----------------------------------------------------------------------------------------


def test_the_automatic_assignment_reports_loads_and_what_it_could_not_fill(client, db, make, jury, auth):
    view = _round(db, make, jury, reviews_per_proposal=3, seat=("juror", "conflicted"))
    url, staff = f"/api/v1/rounds/{view.id}", auth(jury["sponsor"])
    short = client.post(url + "/assign", headers=staff)
    assert short.status_code == 200, short.text
    assert {(u["proposal"], u["missing"], u["reason"]) for u in short.json()["unfilled"]} == {
        (jury["a"].id, 2, "too_few_jurors"),
        (jury["b"].id, 1, "too_few_jurors"),
    }
    client.post(url + "/jurors", json={"user": jury["juror2"].id}, headers=staff)
    client.patch(url, json={"reviews_per_proposal": 2}, headers=staff)
    body = client.post(url + "/assign", headers=staff).json()
    # three jurors, one conflicted with Aquasense: A gets the two others, B two of the three
    assert (body["assigned"], body["jurors"], body["unfilled"]) == (4, 3, [])
    assert body["max_load"] - body["min_load"] <= 1
    listed = client.get(url + "/assignments", headers=staff).json()["items"]
    assert len(listed) == 4
    conflicted = _juror_id(db, view, jury["conflicted"])
    assert not [a for a in listed if a["juror"] == conflicted and a["proposal"] == jury["a"].id]


def test_staff_assign_by_hand_but_never_across_a_conflict(client, db, make, jury, auth):
    view = _round(db, make, jury)
    url, staff = f"/api/v1/rounds/{view.id}/assignments", auth(jury["sponsor"])
    conflicted = client.post(
        url, json={"juror": _juror_id(db, view, jury["conflicted"]), "proposal": jury["a"].id}, headers=staff
    )
    assert conflicted.status_code == 409, conflicted.text
    added = client.post(
        url, json={"juror": _juror_id(db, view, jury["juror"]), "proposal": jury["a"].id}, headers=staff
    )
    assert added.status_code == 201 and added.json()["manual"] is True and added.json()["status"] == "pending"
    assert added.headers["Location"] == added.json()["url"]
    twice = client.post(
        url, json={"juror": _juror_id(db, view, jury["juror"]), "proposal": jury["a"].id}, headers=staff
    )
    assert twice.status_code == 409
    own = client.get(url, headers=auth(jury["juror"])).json()["items"]
    assert [a["id"] for a in own] == [added.json()["id"]]
    assert client.get(url, headers=auth(jury["juror2"])).json()["items"] == []
    path = f"/api/v1/assignments/{added.json()['id']}"
    assert client.delete(path, headers=auth(jury["juror"])).status_code == 403
    assert client.delete(path, headers=auth(jury["juror2"])).status_code == 404
    assert client.delete(path, headers=staff).status_code == 204
    assert client.get(path, headers=staff).status_code == 404


# ---- the proposal as the juror sees it ------------------------------------------------------------------


def test_a_blind_assignment_names_neither_the_startup_nor_its_people(client, db, make, jury, auth):
    view = _round(db, make, jury, blind=True)
    assignment = _assign(db, make, jury, view, "juror", jury["a"])
    answer = client.get(f"/api/v1/assignments/{assignment}", headers=auth(jury["juror"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    text = answer.text.lower()
    listed = client.get(f"/api/v1/rounds/{view.id}/assignments", headers=auth(jury["juror"])).text.lower()
    # Salma Tazi has no account: she is named in the proposal's team only
    for name in ("aquasense", "yasmine", "benali", "salma", "tazi"):
        assert name not in text and name not in listed, name
    assert body["blind"] is True and body["startup"] is None and body["accepts_reviews"] is True
    assert body["proposal_content"]["attachments"][0]["name"] == "Attachment 1.pdf"
    assert body["proposal_content"]["team"][0]["name"] == "Member 1"
    assert [c["id"] for c in body["criteria"]] == [c.id for c in view.criteria] and body["review"] is None
    # for its runs the staff see who it is
    staff = client.get(f"/api/v1/assignments/{assignment}", headers=auth(jury["sponsor"])).json()
    assert (
        staff["startup"]["name"] == "Aquasense"
        and staff["proposal_content"]["attachments"][0]["name"] == "Aquasense-deck.pdf"
    )


def test_a_juror_downloads_an_attachment_under_the_name_they_may_see(client, db, make, jury, auth):
    view = _round(db, make, jury, blind=True)
    assignment = _assign(db, make, jury, view, "juror", jury["a"])
    other = _assign(db, make, jury, view, "juror2", jury["b"])
    shown = client.get(f"/api/v1/assignments/{assignment}", headers=auth(jury["juror"])).json()
    attachment = shown["proposal_content"]["attachments"][0]
    path = attachment["download_url"].replace("http://testserver", "")
    got = client.get(path, headers=auth(jury["juror"]))
    assert got.status_code == 200 and got.content == PDF
    assert "Attachment 1.pdf" in got.headers["content-disposition"]
    assert "aquasense" not in got.headers["content-disposition"].lower()
    staff = client.get(path, headers=auth(jury["sponsor"]))
    assert staff.status_code == 200 and "Aquasense-deck.pdf" in staff.headers["content-disposition"]
    # another juror's assignment does not reach A's files, nor does a conflicted juror
    sideways = f"/api/v1/assignments/{other}/attachments/{attachment['id']}/download"
    assert client.get(sideways, headers=auth(jury["juror2"])).status_code == 404
    for user in (jury["juror2"], jury["conflicted"], jury["founder"]):
        assert client.get(path, headers=auth(user)).status_code == 404


def test_an_open_round_names_the_startup_to_its_jurors(client, db, make, jury, auth):
    view = _round(db, make, jury, blind=False)
    assignment = _assign(db, make, jury, view, "juror", jury["a"])
    body = client.get(f"/api/v1/assignments/{assignment}", headers=auth(jury["juror"])).json()
    assert body["startup"]["name"] == "Aquasense" and "Yasmine Benali" in body["proposal_content"]["description"]


def test_a_conflicted_juror_gets_404_on_everything_about_the_entry(client, db, make, jury, auth):
    view = _round(db, make, jury, others_visible="after_own")
    theirs = _assign(db, make, jury, view, "juror", jury["a"])
    scores = {str(c.id): 4 for c in view.criteria}
    client.put(
        f"/api/v1/assignments/{theirs}/review", json={"scores": scores, "submit": True}, headers=auth(jury["juror"])
    )
    review_id = db.exec(select(JuryReview.id).where(JuryReview.assignment_id == theirs)).one()
    # a conflict found after the assignment was made (the adviser was assigned B, submitted, and has A's id)
    own = _assign(db, make, jury, view, "conflicted", jury["b"])
    client.put(
        f"/api/v1/assignments/{own}/review", json={"scores": scores, "submit": True}, headers=auth(jury["conflicted"])
    )
    headers = auth(jury["conflicted"])
    assert client.get(f"/api/v1/assignments/{theirs}", headers=headers).status_code == 404
    assert (
        client.put(f"/api/v1/assignments/{theirs}/review", json={"scores": scores}, headers=headers).status_code == 404
    )
    assert client.get(f"/api/v1/reviews/{review_id}", headers=headers).status_code == 404
    listed = client.get(f"/api/v1/rounds/{view.id}/assignments", headers=headers).json()["items"]
    assert [a["proposal"] for a in listed] == [jury["b"].id]
    seen = client.get(f"/api/v1/rounds/{view.id}/reviews", headers=headers).json()["items"]
    assert {r["proposal"] for r in seen} == {jury["b"].id}
    for path in (
        f"/api/v1/rounds/{view.id}/assignments?proposal={jury['a'].id}",
        f"/api/v1/rounds/{view.id}/reviews?proposal={jury['a'].id}",
    ):
        assert client.get(path, headers=headers).json()["items"] == [], path
    assert client.get(f"/api/v1/reviews/{review_id}", headers=auth(jury["sponsor"])).status_code == 200


# ---- reviews --------------------------------------------------------------------------------------------


def test_a_refused_submission_names_the_fields_and_keeps_the_draft(client, db, make, jury, auth):
    view = _round(db, make, jury)
    assignment = _assign(db, make, jury, view, "juror", jury["a"])
    url, juror = f"/api/v1/assignments/{assignment}/review", auth(jury["juror"])
    first, second, *rest = [str(c.id) for c in view.criteria]
    draft = client.put(
        url, json={"scores": {first: 3}, "comment": "Solid team.", "note": "Ask about costs."}, headers=juror
    )
    assert draft.status_code == 200, draft.text
    assert (draft.json()["status"], draft.json()["scores"], draft.json()["weighted_score"]) == (
        "draft",
        {first: 3},
        None,
    )
    refused = client.put(
        url,
        json={
            "scores": {first: 3, second: 9},
            "comment": "Solid team.",
            "submit": True,
            "revision": draft.json()["revision"],
        },
        headers=juror,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert fields[f"scores.{second}"] == "Give a score between 0 and 5."
    assert set(fields) == {f"scores.{c}" for c in [second, *rest]}
    kept = client.get(f"/api/v1/assignments/{assignment}", headers=juror).json()["review"]
    assert (kept["status"], kept["scores"], kept["comment"]) == ("draft", {first: 3, second: 9}, "Solid team.")
    stale = client.put(url, json={"scores": {first: 4}, "revision": draft.json()["revision"]}, headers=juror)
    assert stale.status_code == 412
    complete = {c: 4 for c in [first, second, *rest]}
    submitted = client.put(url, json={"scores": complete, "submit": True, "note": "Ask about costs."}, headers=juror)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted" and submitted.json()["weighted_score"] == 4
    assert submitted.json()["url"].endswith(f"/api/v1/reviews/{submitted.json()['id']}")
    shown = client.get(f"/api/v1/assignments/{assignment}", headers=juror).json()
    assert shown["status"] == "submitted" and [v["status"] for v in shown["history"]] == ["submitted"]
    assert (
        client.put(url, json={"scores": {"999999": 1}}, headers=juror).json()["errors"][0]["field"] == "scores.999999"
    )
    # a submitted review changes by a new submission only: a draft save would leave it submitted but unchecked
    assert client.put(url, json={"scores": {first: 1}}, headers=juror).status_code == 409
    edited = client.put(url, json={"scores": {**complete, first: 2}, "submit": True}, headers=juror)
    assert edited.status_code == 200 and edited.json()["scores"][first] == 2
    history = client.get(f"/api/v1/assignments/{assignment}", headers=juror).json()["history"]
    assert [v["scores"][first] for v in history] == [4, 2]


def test_a_juror_abstains_with_a_reason_and_the_staff_cannot_write_for_them(client, db, make, jury, auth):
    view = _round(db, make, jury)
    assignment = _assign(db, make, jury, view, "juror", jury["a"])
    url = f"/api/v1/assignments/{assignment}/review"
    assert client.put(url, json={"scores": {}}, headers=auth(jury["sponsor"])).status_code == 403
    assert client.put(url, json={"scores": {}}, headers=auth(jury["juror2"])).status_code == 404
    unexplained = client.put(url, json={"abstain": True}, headers=auth(jury["juror"]))
    assert unexplained.status_code == 422 and unexplained.json()["errors"][0]["field"] == "reason"
    abstained = client.put(url, json={"abstain": True, "reason": "Too far from my field."}, headers=auth(jury["juror"]))
    assert abstained.status_code == 200
    assert (abstained.json()["status"], abstained.json()["reason"]) == ("abstained", "Too far from my field.")


def test_reviews_are_read_only_once_the_round_closes(client, db, make, jury, auth):
    view = _round(db, make, jury)
    assignment = _assign(db, make, jury, view, "juror", jury["a"])
    url = f"/api/v1/assignments/{assignment}/review"
    assert client.put(url, json={"comment": "Typed."}, headers=auth(jury["juror"])).status_code == 200
    assert client.post(f"/api/v1/rounds/{view.id}/close", headers=auth(jury["sponsor"])).status_code == 200
    late = client.put(url, json={"comment": "Too late."}, headers=auth(jury["juror"]))
    assert late.status_code == 409, late.text
    shown = client.get(f"/api/v1/assignments/{assignment}", headers=auth(jury["juror"])).json()
    assert shown["review"]["comment"] == "Typed." and shown["accepts_reviews"] is False


def _two_reviews(client, db, make, jury, auth, **fields):
    """A round where the juror submitted a review of A and juror2, also assigned A, has not."""
    view = _round(db, make, jury, **fields)
    mine = _assign(db, make, jury, view, "juror", jury["a"])
    theirs = _assign(db, make, jury, view, "juror2", jury["a"])
    scores = {str(c.id): 4 for c in view.criteria}
    answer = client.put(
        f"/api/v1/assignments/{mine}/review",
        json={"scores": scores, "submit": True, "comment": "For the startup.", "note": "Jury only."},
        headers=auth(jury["juror"]),
    )
    assert answer.status_code == 200, answer.text
    return view, theirs, scores


def _seen_by(client, auth, user, view) -> list[dict]:
    answer = client.get(f"/api/v1/rounds/{view.id}/reviews", headers=auth(user))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_after_own_shows_the_others_reviews_once_the_juror_submitted_theirs(client, db, make, jury, auth):
    view, theirs, scores = _two_reviews(client, db, make, jury, auth, others_visible="after_own", blind=False)
    assert _seen_by(client, auth, jury["juror2"], view) == []
    client.put(
        f"/api/v1/assignments/{theirs}/review", json={"scores": scores, "submit": True}, headers=auth(jury["juror2"])
    )
    seen = {r["juror_name"]: r for r in _seen_by(client, auth, jury["juror2"], view)}
    assert set(seen) == {"Nadia Juror", "Karim Juror"}
    assert seen["Nadia Juror"]["note"] == "Jury only." and seen["Nadia Juror"]["comment"] == "For the startup."
    assert len(_seen_by(client, auth, jury["sponsor"], view)) == 2
    assert client.get(f"/api/v1/rounds/{view.id}/reviews", headers=auth(jury["founder"])).status_code == 404


def test_after_close_shows_the_others_reviews_only_once_the_round_is_closed(client, db, make, jury, auth):
    view, theirs, scores = _two_reviews(client, db, make, jury, auth, others_visible="after_close")
    client.put(
        f"/api/v1/assignments/{theirs}/review", json={"scores": scores, "submit": True}, headers=auth(jury["juror2"])
    )
    assert [r["juror"] for r in _seen_by(client, auth, jury["juror2"], view)] == [_juror_id(db, view, jury["juror2"])]
    assert len(_seen_by(client, auth, jury["sponsor"], view)) == 2  # the staff, always
    client.post(f"/api/v1/rounds/{view.id}/close", headers=auth(jury["sponsor"]))
    assert len(_seen_by(client, auth, jury["juror2"], view)) == 2


def test_never_keeps_the_others_reviews_from_jurors_and_a_blind_round_hides_their_names(client, db, make, jury, auth):
    view, theirs, scores = _two_reviews(client, db, make, jury, auth, others_visible="never", blind=True)
    client.put(
        f"/api/v1/assignments/{theirs}/review", json={"scores": scores, "submit": True}, headers=auth(jury["juror2"])
    )
    client.post(f"/api/v1/rounds/{view.id}/close", headers=auth(jury["sponsor"]))
    assert [r["juror_name"] for r in _seen_by(client, auth, jury["juror2"], view)] == ["Karim Juror"]
    staff = {r["juror_name"] for r in _seen_by(client, auth, jury["sponsor"], view)}
    assert staff == {"Nadia Juror", "Karim Juror"}
    # the same round with after_close: the juror sees the other review, its juror unnamed
    view.round.others_visible = "after_close"
    db.add(view.round)
    db.flush()
    seen = _seen_by(client, auth, jury["juror2"], view)
    other = next(r for r in seen if r["juror_name"] != "Karim Juror")
    assert (other["juror"], other["juror_name"], other["assignment"]) == (None, None, None)
    assert "Nadia" not in json.dumps(seen)


def test_the_review_endpoint_documents_its_refusals(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/assignments/{assignment_id}/review"]["put"]
    assert {"403", "404", "409", "412", "422"} <= set(operation["responses"])


@pytest.mark.slow
@pytest.mark.parametrize("role", ["sponsor", "juror"])
def test_the_jury_api_conforms_to_its_schema(app, db, make, jury, role):
    """schemathesis on the jury's operations, as the staff and as a juror, on the records of an open, assigned
    round with a review written (the path's ids are real ones), so that the random bodies and queries reach the
    services: no 5xx, every answer as documented. (tests/test_openapi.py sends random ids.)"""
    view = _round(db, make, jury, assign=True)
    juror = make.actor(jury["juror"])
    seat = _juror_id(db, view, jury["juror"])
    mine = db.exec(select(JuryAssignment.id).where(JuryAssignment.juror_id == seat)).first()
    scores = {str(c.id): 3 for c in view.criteria}
    shown = records.get_assignment(db, juror, mine)
    saved = reviews.save_review(db, juror, shown, ReviewIn(scores=scores, submit=True))
    deck = shown.content["attachments"]
    real = {
        "challenge_id": jury["challenge"].id,
        "round_id": view.id,
        "entry_id": _entry_id(db, view, jury["a"]),
        "juror_id": seat,
        "assignment_id": mine,
        "review_id": saved.review.id,
        "attachment_id": deck[0]["id"] if deck else 1,
    }
    _, secret = make.token(jury[role], "write")
    db.commit()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    jury_paths = ("/rounds", "/assignments", "/reviews")
    operations = [r.ok() for r in schema.get_all_operations() if any(p in r.ok().path for p in jury_paths)]
    assert len(operations) >= 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=schemathesis_examples(15),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case) -> None:
            case.path_parameters = {name: real.get(name, value) for name, value in (case.path_parameters or {}).items()}
            case.call_and_validate(
                headers={"Authorization": f"Bearer {secret}"}, excluded_checks=[positive_data_acceptance]
            )

        check()


def _more_entries(db, make, jury, view, count: int) -> None:
    """`count` more eligible proposals of as many startups, entered in the round."""
    challenge, sponsor = jury["challenge"], make.actor(jury["sponsor"])
    challenge.deadline = utcnow() + timedelta(hours=1)
    db.add(challenge)
    db.flush()
    founders = [make.user(organisation=make.organisation("startup"), role="admin") for _ in range(count)]
    added = [make.proposal(founder, challenge, submitted=True) for founder in founders]
    challenge.deadline = utcnow() - timedelta(hours=1)
    db.add(challenge)
    db.flush()
    for p in added:
        proposals.decide_eligibility(
            db, sponsor, proposal_records.get_proposal(db, sponsor, p.id), EligibilityDecision(eligible=True)
        )
    service.add_entries(db, sponsor, view, EntriesIn(proposals=[p.id for p in added]))


def test_the_jury_lists_cost_a_constant_number_of_queries(client, db, engine, make, jury, auth):
    view = _round(db, make, jury, reviews_per_proposal=2, assign=True)
    paths = [
        f"/api/v1/rounds/{view.id}/{name}" for name in ("entries", "jurors", "conflicts", "assignments", "reviews")
    ]

    def costs(user) -> dict[str, int]:
        found = {}
        for path in paths:
            client.get(path, headers=auth(user))  # the token's first use of the minute records it: not counted
            with counting(engine) as statements:
                answer = client.get(path, headers=auth(user))
            if answer.status_code == 200:  # a juror is refused the staff's lists (403)
                found[path] = len(statements)
        return found

    scores = dict.fromkeys((str(c.id) for c in view.criteria), 3)
    staff = make.actor(jury["sponsor"])

    def submit_all() -> None:
        for a in db.exec(select(JuryAssignment).where(JuryAssignment.round_id == view.id)):
            if db.exec(select(JuryReview.id).where(JuryReview.assignment_id == a.id)).first() is None:
                actor = make.actor(db.get(User, db.get(Juror, a.juror_id).user_id))
                shown = records.get_assignment(db, actor, a.id)
                reviews.save_review(db, actor, shown, ReviewIn(scores=scores, submit=True))

    submit_all()
    small = {"staff": costs(jury["sponsor"]), "juror": costs(jury["juror"])}
    _more_entries(db, make, jury, view, 6)
    for _ in range(4):
        jurors.add_juror(db, staff, view, JurorIn(user=make.user().id))
    assignments.assign(db, staff, records.get_managed_round(db, staff, view.id))
    submit_all()
    large = {"staff": costs(jury["sponsor"]), "juror": costs(jury["juror"])}
    assert large == small, f"queries grew with rows: {small} → {large}"
    assert len(large["staff"]) == 5 and len(large["juror"]) == 3


# ---- the jury's read-through: regressions -------------------------------------------------------------------


def _submit(db, make, jury, view, role, assignment_id, *, score=4, comment="", note=""):
    """The role's juror submits a complete review of the assignment through the service."""
    me = make.actor(jury[role])
    data = ReviewIn(scores={str(c.id): score for c in view.criteria}, comment=comment, note=note, submit=True)
    saved = reviews.save_review(db, me, records.get_assignment(db, me, assignment_id), data)
    assert saved.problems is None
    return saved.review


def test_a_conflict_declared_after_the_close_leaves_the_review_on_record_and_empties_the_open_rounds(db, make, jury):
    closed = _round(db, make, jury)
    written = _assign(db, make, jury, closed, "juror", jury["a"])
    review = _submit(db, make, jury, closed, "juror", written)
    staff = make.actor(jury["sponsor"])
    service.close_round(db, staff, records.get_managed_round(db, staff, closed.id))
    for p in (jury["a"], jury["b"]):
        p.status = ProposalStatus.shortlisted  # as the selection would, for the next round to take them
        db.add(p)
    running = _round(db, make, jury, name="Auditions", seat=("juror", "juror2"))
    started = _assign(db, make, jury, running, "juror", jury["a"])
    me = make.actor(jury["juror"])
    reviews.save_review(db, me, records.get_assignment(db, me, started), ReviewIn(comment="Half done"))
    data = ConflictIn(startup=jury["aquasense"].id, reason="I joined their board.")
    jurors.declare_conflict(db, me, records.get_round(db, me, closed.id), data)
    assert db.get(JuryAssignment, written) is not None and db.get(JuryReview, review.id) is not None
    # the open round's started review goes (it must not count) and another juror takes the entry
    refilled = db.exec(
        select(Juror.user_id)
        .join(JuryAssignment, col(JuryAssignment.juror_id) == Juror.id)
        .where(JuryAssignment.entry_id == _entry_id(db, running, jury["a"]))
    ).all()
    assert refilled == [jury["juror2"].id]


def test_a_blind_round_hides_who_wrote_the_proposal_in_the_other_jurors_texts_the_api_answers(
    client, db, make, jury, auth
):
    view = _round(db, make, jury, blind=True, others_visible="after_own")
    first = _assign(db, make, jury, view, "juror", jury["a"])
    second = _assign(db, make, jury, view, "juror2", jury["a"])
    said = "Yasmine Benali of Aquasense impressed me; Salma Tazi too."
    _submit(db, make, jury, view, "juror", first, comment=said, note="Aquasense: ask Salma.")
    _submit(db, make, jury, view, "juror2", second, comment="Aquasense again", note="Mine")
    db.commit()
    items = client.get(f"/api/v1/rounds/{view.id}/reviews", headers=auth(jury["juror2"])).json()["items"]
    other = next(i for i in items if i["juror"] is None)
    assert other["comment"] == "▇▇▇ of ▇▇▇ impressed me; ▇▇▇ too."
    assert other["note"] == "▇▇▇: ask ▇▇▇."
    own = next(i for i in items if i["juror"] is not None)
    assert (own["comment"], own["note"]) == ("Aquasense again", "Mine")  # their own words, as they wrote them
    one = client.get(f"/api/v1/reviews/{other['id']}", headers=auth(jury["juror2"])).json()
    assert "Aquasense" not in json.dumps(one) and "Salma" not in json.dumps(one)
    staff = client.get(f"/api/v1/rounds/{view.id}/reviews", headers=auth(jury["sponsor"])).json()["items"]
    assert said in [i["comment"] for i in staff]


def test_a_blind_rounds_juror_declares_a_conflict_by_assignment_and_may_not_probe_startups(
    client, db, make, jury, auth
):
    view = _round(db, make, jury, blind=True)
    mine = _assign(db, make, jury, view, "juror", jury["a"])
    theirs = _assign(db, make, jury, view, "juror2", jury["b"])
    db.commit()
    url, me = f"/api/v1/rounds/{view.id}/conflicts", auth(jury["juror"])
    probe = client.post(url, json={"startup": jury["aquasense"].id, "reason": "A guess."}, headers=me)
    assert probe.status_code == 422 and [e["field"] for e in probe.json()["errors"]] == ["startup"]
    assert client.get(f"/api/v1/assignments/{mine}", headers=me).status_code == 200  # nothing was declared
    other = client.post(url, json={"assignment": theirs, "reason": "Not mine."}, headers=me)
    assert other.status_code == 422 and [e["field"] for e in other.json()["errors"]] == ["assignment"]
    declared = client.post(url, json={"assignment": mine, "reason": "I advised them."}, headers=me)
    assert declared.status_code == 201, declared.text
    assert declared.json()["startup"] is None and "Aquasense" not in declared.text
    assert "startup=" not in declared.json()["url"]
    assert client.get(f"/api/v1/assignments/{mine}", headers=me).status_code == 404
    listed = client.get(url, headers=me).json()["items"]
    assert all(c["startup"] is None for c in listed) and "Aquasense" not in json.dumps(listed)


def test_a_conflict_is_declared_with_a_startup_of_the_round_only(client, db, make, jury, auth):
    view = _round(db, make, jury)
    stranger = make.organisation("startup", name="Not In The Round")
    db.commit()
    url = f"/api/v1/rounds/{view.id}/conflicts"
    answer = client.post(url, json={"startup": stranger.id, "reason": "Friends."}, headers=auth(jury["juror"]))
    assert answer.status_code == 422 and [e["field"] for e in answer.json()["errors"]] == ["startup"]
    named = client.post(url, json={"startup": jury["aquatrack"].id, "reason": "Friends."}, headers=auth(jury["juror"]))
    assert named.status_code == 201 and named.json()["startup"]["name"] == "AquaTrack"


def _conflicted_staff(db, make, jury):
    """A member of Lydec's staff at Aquasense's email domain: conflicted with Aquasense's proposal."""
    lydec = db.get(Organisation, jury["challenge"].lead_sponsor_id)
    return make.user("boss@aquasense.ma", organisation=lydec, role="admin", name="Conflicted Boss")


def test_the_automatic_assignments_report_counts_nothing_of_an_entry_its_reader_is_conflicted_with(
    client, db, make, jury, auth
):
    view = _round(db, make, jury, seat=("juror",))
    boss = _conflicted_staff(db, make, jury)
    db.commit()
    report = client.post(f"/api/v1/rounds/{view.id}/assign", headers=auth(boss)).json()
    assert [u["proposal"] for u in report["unfilled"]] == [jury["b"].id]
    assert (report["assigned"], report["added"], report["min_load"], report["max_load"]) == (1, 1, 1, 1)
    full = client.post(f"/api/v1/rounds/{view.id}/assign", headers=auth(jury["sponsor"])).json()
    assert {u["proposal"] for u in full["unfilled"]} == {jury["a"].id, jury["b"].id}
    assert (full["assigned"], full["max_load"]) == (2, 2)


@pytest.mark.parametrize(("others_visible", "after"), [("after_own", 409), ("after_close", 200)])
def test_an_abstention_that_showed_the_others_reviews_cannot_turn_into_scores(
    client, db, make, jury, auth, others_visible, after
):
    view = _round(db, make, jury, others_visible=others_visible)
    mine = _assign(db, make, jury, view, "juror", jury["a"])
    _submit(db, make, jury, view, "juror2", _assign(db, make, jury, view, "juror2", jury["a"]), score=5)
    db.commit()
    url, me = f"/api/v1/assignments/{mine}/review", auth(jury["juror"])
    assert client.put(url, json={"abstain": True, "reason": "Not my field."}, headers=me).status_code == 200
    scores = {str(c.id): 1 for c in view.criteria}
    answer = client.put(url, json={"scores": scores, "submit": True}, headers=me)
    assert answer.status_code == after, answer.text
    if after == 409:
        assert "abstention stays" in answer.json()["detail"]
        assert db.get(JuryReview, _review_of(db, mine)).status == "abstained"


def _review_of(db, assignment_id) -> int:
    return db.exec(select(JuryReview.id).where(JuryReview.assignment_id == assignment_id)).one()


def test_a_second_pending_email_invitation_in_the_same_round_is_sent(db, make, jury):
    view = _round(db, make, jury)
    staff = make.actor(jury["sponsor"])
    jurors.add_juror(db, staff, view, JurorIn(email="one@expert.org", name="One"))
    second, link = jurors.add_juror(db, staff, view, JurorIn(email="two@expert.org", name="Two"))
    assert second.email == "two@expert.org" and link
    with pytest.raises(Invalid) as again:
        jurors.add_juror(db, staff, view, JurorIn(email="TWO@expert.org", name="Two again"))
    assert list(again.value.errors) == ["email"]


def test_an_assignment_with_a_draft_review_is_not_removed(client, db, make, jury, auth):
    view = _round(db, make, jury)
    started = _assign(db, make, jury, view, "juror", jury["a"])
    me = make.actor(jury["juror"])
    reviews.save_review(db, me, records.get_assignment(db, me, started), ReviewIn(comment="Half written"))
    db.commit()
    answer = client.delete(f"/api/v1/assignments/{started}", headers=auth(jury["sponsor"]))
    assert answer.status_code == 409 and "stays on record" in answer.json()["detail"]
    assert db.exec(select(JuryReview).where(JuryReview.assignment_id == started)).one().comment == "Half written"
