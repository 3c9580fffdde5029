"""Proposals through /api/v1 with bearer tokens: what a partner integrating against API.md relies on —
drafts, ETag / If-Match, submission and its receipts, the deadline, withdrawal, confidentiality (404 for
whoever may not know a proposal exists), attachments, lists and their filters, eligibility and extra
questions."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from app.db import utcnow
from app.files import staging
from app.proposals import attachments, records, service
from app.proposals.models import Proposal, ProposalAttachment, ProposalQuestion, ProposalVersion

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

COMPLETE = {
    "title": "LeakSense",
    "summary": "Acoustic sensors find leaks early.",
    "description": "Sensors on valves, a model that listens.",
    "data_use": "We train on the network's pressure data.",
    "experimentation_plan": "Twelve sensors in Ain Sebaâ for three months.",
    "team": [{"name": "Salma", "role": "CEO"}],
    "trl": 5,
    "plan": [{"month": 1, "milestone": "Sensors installed"}],
}


def leftovers() -> set[Path]:
    root = staging.files_root()
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def world(db, make):
    operator_org = make.organisation("operator")
    lydec = make.organisation("partner", slug="lydec-api", name="Lydec")
    inwi = make.organisation("partner", slug="inwi-api", name="inwi")
    programme = make.programme(operator_org, partners=[lydec, inwi], slug="casa-api", name="Casablanca")
    kpis = [{"name": "Non-revenue water", "unit": "%"}]
    startup_a = make.organisation("startup", name="LeakSense SARL")
    startup_b = make.organisation("startup", name="Other startup")
    return {
        "challenge": make.published_challenge(lydec, programme=programme, slug="leaks", title="Leaks", kpis=kpis),
        # another sponsor's challenge
        "wifi": make.published_challenge(inwi, programme=programme, slug="wifi", title="Wifi", kpis=kpis),
        "sponsor": make.user(organisation=lydec),
        "alice": make.user(organisation=startup_a, role="admin", name="Alice"),
        "bob": make.user(organisation=startup_a, name="Bob"),
        "other": make.user(organisation=startup_b, role="admin"),
        "startup_a": startup_a,
    }


@pytest.fixture
def auth(make):
    """Headers with a bearer token of that user (one token per user and scope, English messages)."""
    cache: dict[tuple[int, str], dict[str, str]] = {}

    def headers(user, scope: str = "write") -> dict[str, str]:
        key = (user.id, scope)
        if key not in cache:
            cache[key] = {"Authorization": f"Bearer {make.token(user, scope)[1]}", "Accept-Language": "en"}
        return cache[key]

    return headers


def _close(db, challenge):
    challenge.deadline = utcnow() - timedelta(minutes=1)
    db.add(challenge)
    db.flush()


def _create(client, headers, challenge, **fields):
    return client.post("/api/v1/proposals", json={"challenge": challenge.id, **fields}, headers=headers)


def _draft(client, headers, challenge, **fields) -> tuple[int, str]:
    created = _create(client, headers, challenge, **fields)
    assert created.status_code == 201, created.text
    return created.json()["id"], created.headers["etag"]


def _submitted(client, headers, challenge) -> int:
    proposal_id, _ = _draft(client, headers, challenge, **COMPLETE)
    submitted = client.post(f"/api/v1/proposals/{proposal_id}/submit", json={"accept_terms": True}, headers=headers)
    assert submitted.status_code == 200, submitted.text
    return proposal_id


def _upload(client, headers, proposal_id, name, data, content_type="application/octet-stream"):
    return client.post(
        f"/api/v1/proposals/{proposal_id}/attachments", files={"file": (name, data, content_type)}, headers=headers
    )


def _row(db, proposal_id) -> Proposal:
    db.expire_all()
    return db.get(Proposal, proposal_id)


def _versions(db, proposal_id) -> list[ProposalVersion]:
    db.expire_all()
    return list(db.exec(select(ProposalVersion).where(ProposalVersion.proposal_id == proposal_id)))


def mine_revision(client, url, headers) -> int:
    return client.get(url, headers=headers).json()["revision"]


def _problem_fields(response) -> set[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return {e["field"] for e in response.json()["errors"]}


# ---- creating --------------------------------------------------------------------------------------------


def test_a_startup_member_creates_a_draft_for_its_startup(client, db, world, auth):
    created = _create(client, auth(world["alice"]), world["challenge"], title="LeakSense", summary="Sensors.")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "draft" and body["title"] == "LeakSense" and body["summary"] == "Sensors."
    assert body["challenge"] == world["challenge"].id and body["startup"]["id"] == world["startup_a"].id
    assert body["versions"] == [] and body["url"] == f"http://testserver/api/v1/proposals/{body['id']}"
    assert created.headers["location"] == body["url"]
    assert created.headers["etag"]
    row = _row(db, body["id"])
    assert row.startup_id == world["startup_a"].id and row.created_by_id == world["alice"].id
    fetched = client.get(created.headers["location"], headers=auth(world["bob"]))
    assert fetched.status_code == 200 and fetched.headers["etag"] == created.headers["etag"]


def test_a_sponsor_cannot_apply(client, db, world, auth):
    refused = _create(client, auth(world["sponsor"]), world["challenge"], title="Ours")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert db.exec(select(Proposal)).all() == []


def test_a_read_token_cannot_create(client, db, world, auth):
    refused = _create(client, auth(world["alice"], "read"), world["challenge"], title="LeakSense")
    assert refused.status_code == 403
    assert db.exec(select(Proposal)).all() == []


def test_a_second_proposal_by_the_same_startup_is_409(client, db, world, auth):
    first, _ = _draft(client, auth(world["alice"]), world["challenge"], title="First")
    second = _create(client, auth(world["bob"]), world["challenge"], title="Second")
    assert second.status_code == 409 and second.headers["content-type"] == "application/problem+json"
    rows = db.exec(select(Proposal).where(Proposal.challenge_id == world["challenge"].id)).all()
    assert [(p.id, p.title) for p in rows] == [(first, "First")]
    # another startup still may apply
    assert _create(client, auth(world["other"]), world["challenge"], title="Theirs").status_code == 201


def test_two_members_creating_the_proposal_at_once_get_201_and_409(client, db, world, auth, monkeypatch):
    """On PostgreSQL both requests pass the check for an existing proposal; the unique constraint decides.
    Here the teammate's row is inserted between this request's check and its insert."""

    check = service._check_kpis

    def teammate_was_faster(challenge, data):
        db.add(Proposal(challenge_id=world["challenge"].id, startup_id=world["startup_a"].id, title="Bob's"))
        db.commit()  # by the teammate's own transaction
        monkeypatch.setattr(service, "_check_kpis", check)
        return check(challenge, data)

    monkeypatch.setattr(service, "_check_kpis", teammate_was_faster)
    late = _create(client, auth(world["alice"]), world["challenge"], title="Alice's")
    assert late.status_code == 409 and late.json()["title"] == "Conflict"
    rows = db.exec(select(Proposal).where(Proposal.challenge_id == world["challenge"].id)).all()
    assert [p.title for p in rows] == ["Bob's"]


def test_fields_the_startup_may_not_set_are_refused_on_patch(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id, etag = _draft(client, headers, world["challenge"], title="LeakSense")
    for body, field in (
        ({"status": "selected"}, "status"),
        ({"startup": world["startup_a"].id}, "startup"),
        ({"challenge": world["wifi"].id}, "challenge"),
        ({"revision": 99}, "revision"),
    ):
        refused = client.patch(f"/api/v1/proposals/{proposal_id}", json=body, headers={**headers, "If-Match": etag})
        assert refused.status_code == 422, (body, refused.text)
        assert field in _problem_fields(refused)
    row = _row(db, proposal_id)
    assert (row.status, row.challenge_id, row.revision) == ("draft", world["challenge"].id, 1)


# ---- reading: who may know a proposal exists --------------------------------------------------------------


def test_only_the_startups_members_see_a_draft_others_get_the_missing_id_404(client, db, world, auth):
    proposal_id, _ = _draft(client, auth(world["alice"]), world["challenge"], title="LeakSense")
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=auth(world["bob"], "read")).status_code == 200
    missing = client.get("/api/v1/proposals/999999", headers=auth(world["other"], "read"))
    assert missing.status_code == 404
    for outsider in ("other", "sponsor"):
        hidden = client.get(f"/api/v1/proposals/{proposal_id}", headers=auth(world[outsider], "read"))
        assert hidden.status_code == 404
        assert hidden.json() == missing.json() and hidden.headers["content-type"] == "application/problem+json"
        assert "etag" not in hidden.headers and "LeakSense" not in hidden.text


def test_the_sponsor_reads_the_last_submitted_version_after_the_deadline(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id = _submitted(client, headers, world["challenge"])
    url = f"/api/v1/proposals/{proposal_id}"
    # a second submitted version, then an edit that is never submitted
    client.patch(url, json={"summary": "Second thoughts."}, headers=headers)
    assert client.post(f"{url}/submit", json={"accept_terms": True}, headers=headers).status_code == 200
    edited = client.patch(url, json={"summary": "Never submitted.", "title": "Draft title"}, headers=headers)
    assert edited.status_code == 200 and edited.json()["has_unsubmitted_changes"] is True
    sponsor = auth(world["sponsor"], "read")
    assert client.get(url, headers=sponsor).status_code == 404  # before the deadline: counts only
    _close(db, world["challenge"])
    seen = client.get(url, headers=sponsor)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["status"] == "submitted" and body["summary"] == "Second thoughts." and body["title"] == "LeakSense"
    assert body["version"] == 2 and [v["number"] for v in body["versions"]] == [2]
    assert body["has_unsubmitted_changes"] is False
    # nor does the working copy's revision leak: the sponsor sees the revision that was submitted
    assert body["revision"] == _row(db, proposal_id).submitted_revision < mine_revision(client, url, headers)
    assert "Never submitted." not in seen.text and "Draft title" not in seen.text
    # the startup still reads its working copy
    mine = client.get(url, headers=headers).json()
    assert mine["summary"] == "Never submitted." and [v["number"] for v in mine["versions"]] == [1, 2]


def test_a_draft_stays_hidden_from_the_sponsor_after_the_deadline(client, db, world, auth):
    proposal_id, _ = _draft(client, auth(world["alice"]), world["challenge"], **COMPLETE)
    _close(db, world["challenge"])
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=auth(world["sponsor"])).status_code == 404


# ---- editing with ETag / If-Match -------------------------------------------------------------------------


def test_patch_with_the_current_etag_saves_and_gives_a_new_etag(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id, etag = _draft(client, headers, world["challenge"], title="LeakSense")
    url = f"/api/v1/proposals/{proposal_id}"
    saved = client.patch(url, json={"summary": "Alice's", "trl": 4}, headers={**headers, "If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert saved.json()["summary"] == "Alice's" and saved.json()["trl"] == 4
    new_etag = saved.headers["etag"]
    assert new_etag and new_etag != etag
    assert client.get(url, headers=headers).headers["etag"] == new_etag
    row = _row(db, proposal_id)
    assert row.summary == "Alice's" and row.trl == 4 and row.updated_by_id == world["alice"].id


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(client, db, world, auth):
    proposal_id, etag = _draft(client, auth(world["alice"]), world["challenge"], title="LeakSense")
    url = f"/api/v1/proposals/{proposal_id}"
    alice = client.patch(url, json={"summary": "Alice's"}, headers={**auth(world["alice"]), "If-Match": etag})
    assert alice.status_code == 200
    before = _row(db, proposal_id).revision
    bob = client.patch(
        url, json={"summary": "Bob's", "title": "Bob's title"}, headers={**auth(world["bob"]), "If-Match": etag}
    )
    assert bob.status_code == 412 and bob.headers["content-type"] == "application/problem+json"
    assert bob.json()["status"] == 412
    row = _row(db, proposal_id)
    assert (row.summary, row.title, row.revision) == ("Alice's", "LeakSense", before)
    # an ETag of another proposal is no match either
    other_id, other_etag = _draft(client, auth(world["other"]), world["challenge"], title="Theirs")
    assert other_id != proposal_id
    wrong = client.patch(url, json={"summary": "x"}, headers={**auth(world["alice"]), "If-Match": other_etag})
    assert wrong.status_code == 412 and _row(db, proposal_id).summary == "Alice's"


def test_another_startup_cannot_patch(client, db, world, auth):
    proposal_id, etag = _draft(client, auth(world["alice"]), world["challenge"], title="LeakSense")
    refused = client.patch(
        f"/api/v1/proposals/{proposal_id}",
        json={"title": "Hijacked"},
        headers={**auth(world["other"]), "If-Match": etag},
    )
    assert refused.status_code == 404 and _row(db, proposal_id).title == "LeakSense"


def test_patch_after_the_deadline_is_409(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id, etag = _draft(client, headers, world["challenge"], title="LeakSense")
    _close(db, world["challenge"])
    late = client.patch(
        f"/api/v1/proposals/{proposal_id}", json={"title": "Late"}, headers={**headers, "If-Match": etag}
    )
    assert late.status_code == 409 and _row(db, proposal_id).title == "LeakSense"


# ---- submitting --------------------------------------------------------------------------------------------


def test_submit_needs_accept_terms_true(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id, _ = _draft(client, headers, world["challenge"], **COMPLETE)
    url = f"/api/v1/proposals/{proposal_id}/submit"
    refused = client.post(url, json={"accept_terms": False}, headers=headers)
    assert refused.status_code == 422 and "accept_terms" in _problem_fields(refused)
    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 422 and "accept_terms" in _problem_fields(missing)
    assert _versions(db, proposal_id) == [] and _row(db, proposal_id).status == "draft"


def test_submit_lists_the_missing_required_fields(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id, _ = _draft(client, headers, world["challenge"], title="LeakSense")
    refused = client.post(f"/api/v1/proposals/{proposal_id}/submit", json={"accept_terms": True}, headers=headers)
    assert refused.status_code == 422
    fields = _problem_fields(refused)
    assert {"summary", "description", "data_use", "experimentation_plan", "team", "trl", "plan"} <= fields
    assert "title" not in fields
    assert _versions(db, proposal_id) == [] and _row(db, proposal_id).status == "draft"


def test_submit_records_a_version_with_receipt_and_sha256(client, db, world, auth):
    headers = auth(world["bob"])
    proposal_id, _ = _draft(client, auth(world["alice"]), world["challenge"], **COMPLETE)
    submitted = client.post(f"/api/v1/proposals/{proposal_id}/submit", json={"accept_terms": True}, headers=headers)
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["status"] == "submitted" and body["submitted_at"] and body["version"] == 1
    [version] = body["versions"]
    [row] = _versions(db, proposal_id)
    assert version["number"] == 1 and version["accepted_by"] == "Bob" and version["terms_version"] == 1
    assert version["receipt_number"] == row.receipt_number
    assert version["receipt_number"].startswith(f"MDN-{world['challenge'].id}-{proposal_id}-1-")
    assert version["sha256"] == row.sha256 == records.content_sha256(row.content)
    assert len(version["sha256"]) == 64 and int(version["sha256"], 16) >= 0
    assert version["terms_sha256"] == hashlib.sha256(b"IP stays with the startup.").hexdigest()
    assert row.content["title"] == "LeakSense" and row.accepted_by_id == world["bob"].id
    assert _row(db, proposal_id).status == "submitted"


def test_submit_after_the_deadline_is_409_and_writes_no_version(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id = _submitted(client, headers, world["challenge"])
    client.patch(f"/api/v1/proposals/{proposal_id}", json={"summary": "Better."}, headers=headers)
    _close(db, world["challenge"])
    late = client.post(f"/api/v1/proposals/{proposal_id}/submit", json={"accept_terms": True}, headers=headers)
    assert late.status_code == 409 and late.headers["content-type"] == "application/problem+json"
    assert "deadline" in late.json()["detail"]
    assert [v.number for v in _versions(db, proposal_id)] == [1]


def test_another_startup_cannot_submit(client, db, world, auth):
    proposal_id, _ = _draft(client, auth(world["alice"]), world["challenge"], **COMPLETE)
    refused = client.post(
        f"/api/v1/proposals/{proposal_id}/submit", json={"accept_terms": True}, headers=auth(world["other"])
    )
    assert refused.status_code == 404 and _versions(db, proposal_id) == []


# ---- withdrawing --------------------------------------------------------------------------------------------


def test_withdraw_before_the_deadline(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id = _submitted(client, headers, world["challenge"])
    withdrawn = client.post(f"/api/v1/proposals/{proposal_id}/withdraw", headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    row = _row(db, proposal_id)
    assert row.status == "withdrawn" and row.withdrawn_at is not None
    _close(db, world["challenge"])
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=auth(world["sponsor"])).status_code == 404


def test_withdrawing_a_draft_or_after_the_deadline_is_409(client, db, world, auth):
    headers = auth(world["alice"])
    draft_id, _ = _draft(client, headers, world["challenge"], title="Draft")
    assert client.post(f"/api/v1/proposals/{draft_id}/withdraw", headers=headers).status_code == 409
    assert _row(db, draft_id).status == "draft"
    proposal_id = _submitted(client, headers, world["wifi"])
    _close(db, world["wifi"])
    assert client.post(f"/api/v1/proposals/{proposal_id}/withdraw", headers=headers).status_code == 409
    assert _row(db, proposal_id).status == "submitted"


# ---- attachments ------------------------------------------------------------------------------------------


def test_upload_and_download_an_attachment(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id, _ = _draft(client, headers, world["challenge"], title="LeakSense")
    uploaded = _upload(client, headers, proposal_id, "deck.pdf", PDF, "application/pdf")
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["size"] == len(PDF)
    assert body["name"] == "deck.pdf" and body["media_type"] == "application/pdf"
    row = db.get(ProposalAttachment, body["id"])
    assert row.proposal_id == proposal_id and row.sha256 == body["sha256"]
    listed = client.get(f"/api/v1/proposals/{proposal_id}", headers=headers).json()["attachments"]
    assert [a["id"] for a in listed] == [body["id"]]
    downloaded = client.get(body["download_url"], headers=auth(world["bob"], "read"))
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["content-disposition"].startswith("attachment")
    assert "deck.pdf" in downloaded.headers["content-disposition"]
    hidden = client.get(body["download_url"], headers=auth(world["other"], "read"))
    assert hidden.status_code == 404 and hidden.content != PDF
    assert client.get(body["download_url"], headers=auth(world["sponsor"], "read")).status_code == 404


def test_the_sponsor_downloads_attachments_of_the_submitted_version_after_the_deadline(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id, _ = _draft(client, headers, world["challenge"], **COMPLETE)
    submitted_file = _upload(client, headers, proposal_id, "deck.pdf", PDF, "application/pdf").json()
    assert client.post(
        f"/api/v1/proposals/{proposal_id}/submit", json={"accept_terms": True}, headers=headers
    ).status_code == 200  # fmt: skip
    later_file = _upload(client, headers, proposal_id, "later.pdf", PDF + b"%later", "application/pdf").json()
    sponsor = auth(world["sponsor"], "read")
    assert client.get(submitted_file["download_url"], headers=sponsor).status_code == 404
    _close(db, world["challenge"])
    seen = client.get(submitted_file["download_url"], headers=sponsor)
    assert seen.status_code == 200 and seen.content == PDF
    assert client.get(later_file["download_url"], headers=sponsor).status_code == 404
    listed = client.get(f"/api/v1/proposals/{proposal_id}", headers=sponsor).json()["attachments"]
    assert [a["name"] for a in listed] == ["deck.pdf"]


def test_another_startup_cannot_upload(client, db, world, auth):
    proposal_id, _ = _draft(client, auth(world["alice"]), world["challenge"], title="LeakSense")
    before = leftovers()
    refused = _upload(client, auth(world["other"]), proposal_id, "deck.pdf", PDF, "application/pdf")
    assert refused.status_code == 404
    assert db.exec(select(ProposalAttachment)).all() == [] and leftovers() == before


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("setup.exe", b"MZ\x90\x00\x03", 415),
        ("fake.pdf", b"MZ\x90\x00 not a pdf", 415),
        ("empty.pdf", b"", 422),
    ],
)
def test_refused_uploads_store_nothing(client, db, world, auth, name, data, expected):
    headers = auth(world["alice"])
    proposal_id, etag = _draft(client, headers, world["challenge"], title="LeakSense")
    before = leftovers()
    refused = _upload(client, headers, proposal_id, name, data)
    assert refused.status_code == expected, refused.text
    assert refused.headers["content-type"] == "application/problem+json" and refused.json()["status"] == expected
    db.expire_all()
    assert db.exec(select(ProposalAttachment)).all() == []
    assert leftovers() == before
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=headers).headers["etag"] == etag


# ---- lists ------------------------------------------------------------------------------------------------


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return sorted(p["id"] for p in response.json()["items"])


def test_a_startup_lists_only_its_own_proposals_with_filters(client, db, world, auth):
    alice = auth(world["alice"], "read")
    leaks = _submitted(client, auth(world["alice"]), world["challenge"])
    wifi, _ = _draft(client, auth(world["alice"]), world["wifi"], title="Wi-Fi draft")
    theirs = _submitted(client, auth(world["other"]), world["challenge"])
    assert _ids(client.get("/api/v1/proposals", headers=alice)) == sorted([leaks, wifi])
    assert _ids(client.get("/api/v1/proposals", headers=auth(world["other"], "read"))) == [theirs]
    assert _ids(client.get(f"/api/v1/proposals?challenge={world['challenge'].id}", headers=alice)) == [leaks]
    assert _ids(client.get(f"/api/v1/proposals?challenge={world['wifi'].id}", headers=alice)) == [wifi]
    assert _ids(client.get("/api/v1/proposals?status=submitted", headers=alice)) == [leaks]
    assert _ids(client.get("/api/v1/proposals?status=draft", headers=alice)) == [wifi]
    assert _ids(client.get(f"/api/v1/proposals?challenge={world['wifi'].id}&status=submitted", headers=alice)) == []
    assert client.get("/api/v1/proposals?status=nonsense", headers=alice).status_code == 422
    listing = client.get("/api/v1/proposals", headers=alice).json()
    assert listing["next"] is None


def test_a_sponsor_lists_proposals_to_its_challenges_only_after_the_deadline(client, db, world, auth):
    sponsor = auth(world["sponsor"], "read")
    submitted = _submitted(client, auth(world["alice"]), world["challenge"])
    _draft(client, auth(world["other"]), world["challenge"], title="Still a draft")
    _submitted(client, auth(world["other"]), world["wifi"])  # another sponsor's challenge
    assert _ids(client.get("/api/v1/proposals", headers=sponsor)) == []
    _close(db, world["challenge"])
    _close(db, world["wifi"])
    listing = client.get("/api/v1/proposals", headers=sponsor)
    assert _ids(listing) == [submitted]
    [item] = listing.json()["items"]
    assert item["summary"] == COMPLETE["summary"] and item["status"] == "submitted"
    assert _ids(client.get("/api/v1/proposals?status=draft", headers=sponsor)) == []
    assert _ids(client.get(f"/api/v1/proposals?challenge={world['wifi'].id}", headers=sponsor)) == []


# ---- eligibility --------------------------------------------------------------------------------------------


def test_the_sponsor_records_eligibility_after_the_deadline(client, db, world, auth):
    proposal_id = _submitted(client, auth(world["alice"]), world["challenge"])
    url = f"/api/v1/proposals/{proposal_id}/eligibility"
    sponsor = auth(world["sponsor"])
    early = client.post(url, json={"eligible": True}, headers=sponsor)
    assert early.status_code == 404 and _row(db, proposal_id).status == "submitted"
    _close(db, world["challenge"])
    no_reason = client.post(url, json={"eligible": False}, headers=sponsor)
    assert no_reason.status_code == 422 and "reason" in _problem_fields(no_reason)
    recorded = client.post(url, json={"eligible": False, "reason": "Not registered in Morocco."}, headers=sponsor)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["status"] == "ineligible"
    assert recorded.json()["eligibility_reason"] == "Not registered in Morocco."
    row = _row(db, proposal_id)
    assert row.status == "ineligible" and row.eligibility_by_id == world["sponsor"].id
    assert row.eligibility_at is not None and row.eligibility_reason == "Not registered in Morocco."


def test_the_startup_may_not_decide_its_own_eligibility(client, db, world, auth):
    proposal_id = _submitted(client, auth(world["alice"]), world["challenge"])
    _close(db, world["challenge"])
    url = f"/api/v1/proposals/{proposal_id}/eligibility"
    refused = client.post(url, json={"eligible": True}, headers=auth(world["alice"]))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert client.post(url, json={"eligible": True}, headers=auth(world["other"])).status_code == 404
    row = _row(db, proposal_id)
    assert row.status == "submitted" and row.eligibility_at is None


# ---- extra questions ----------------------------------------------------------------------------------------


def test_sponsor_adds_a_single_choice_question_and_answers_are_checked(client, db, world, auth):
    url = f"/api/v1/challenges/{world['challenge'].id}/proposal-questions"
    question = {"kind": "single_choice", "label": "Where are you based?", "choices": ["Casablanca", "Rabat"]}
    refused = client.post(url, json=question, headers=auth(world["alice"]))
    assert refused.status_code == 403
    added = client.post(url, json={**question, "required": True}, headers=auth(world["sponsor"]))
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["kind"] == "single_choice" and body["choices"] == ["Casablanca", "Rabat"] and body["required"]
    assert db.get(ProposalQuestion, body["id"]).challenge_id == world["challenge"].id
    listed = client.get(url, headers=auth(world["alice"], "read"))
    assert listed.status_code == 200 and [q["id"] for q in listed.json()] == [body["id"]]

    headers = auth(world["alice"])
    proposal_id, etag = _draft(client, headers, world["challenge"], **COMPLETE)
    key = str(body["id"])
    submit_url = f"/api/v1/proposals/{proposal_id}/submit"
    unanswered = client.post(submit_url, json={"accept_terms": True}, headers=headers)
    assert unanswered.status_code == 422 and f"answers.{key}" in _problem_fields(unanswered)
    wrong = client.patch(
        f"/api/v1/proposals/{proposal_id}",
        json={"title": "Changed with the bad answer", "answers": {key: "Paris"}},
        headers={**headers, "If-Match": etag},
    )
    assert wrong.status_code == 422 and f"answers.{key}" in _problem_fields(wrong)
    row = _row(db, proposal_id)
    assert (row.answers, row.title, row.revision) == ({}, "LeakSense", 1)  # nothing of that save is kept
    unknown = client.patch(f"/api/v1/proposals/{proposal_id}", json={"answers": {"999999": "x"}}, headers=headers)
    assert unknown.status_code == 422 and "answers.999999" in _problem_fields(unknown)
    right = client.patch(
        f"/api/v1/proposals/{proposal_id}", json={"answers": {key: "Rabat"}}, headers={**headers, "If-Match": etag}
    )
    assert right.status_code == 200 and right.json()["answers"] == {key: "Rabat"}
    assert _row(db, proposal_id).answers == {key: "Rabat"}
    submitted = client.post(submit_url, json={"accept_terms": True}, headers=headers)
    assert submitted.status_code == 200, submitted.text
    assert _versions(db, proposal_id)[0].content["answers"] == {key: "Rabat"}
    # questions are frozen once a proposal was submitted
    frozen = client.post(url, json={"kind": "number", "label": "Team size?"}, headers=auth(world["sponsor"]))
    assert frozen.status_code == 409


def test_a_choice_question_needs_two_options(client, db, world, auth):
    url = f"/api/v1/challenges/{world['challenge'].id}/proposal-questions"
    refused = client.post(
        url, json={"kind": "single_choice", "label": "Pick one", "choices": ["Only"]}, headers=auth(world["sponsor"])
    )
    assert refused.status_code == 422 and "choices" in _problem_fields(refused)
    assert db.exec(select(ProposalQuestion)).all() == []


def test_a_file_question_is_answered_by_an_upload_with_the_question_field(client, db, world, auth):
    added = client.post(
        f"/api/v1/challenges/{world['challenge'].id}/proposal-questions",
        json={"kind": "file", "label": "Pitch deck", "required": True},
        headers=auth(world["sponsor"]),
    )
    assert added.status_code == 201, added.text
    question_id = added.json()["id"]
    headers = auth(world["alice"])
    proposal_id, _ = _draft(client, headers, world["challenge"], **COMPLETE)
    submit_url = f"/api/v1/proposals/{proposal_id}/submit"
    unanswered = client.post(submit_url, json={"accept_terms": True}, headers=headers)
    assert unanswered.status_code == 422 and f"answers.{question_id}" in _problem_fields(unanswered)
    as_text = client.patch(
        f"/api/v1/proposals/{proposal_id}", json={"answers": {str(question_id): "x"}}, headers=headers
    )
    assert as_text.status_code == 422
    uploaded = client.post(
        f"/api/v1/proposals/{proposal_id}/attachments",
        files={"file": ("deck.pdf", PDF, "application/pdf")},
        data={"question": str(question_id)},
        headers=headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["question"] == question_id
    assert client.post(submit_url, json={"accept_terms": True}, headers=headers).status_code == 200
    [version] = _versions(db, proposal_id)
    assert [(a["question"], a["sha256"]) for a in version.content["attachments"]] == [
        (question_id, hashlib.sha256(PDF).hexdigest())
    ]


def test_uploads_after_the_deadline_are_409_and_store_nothing(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id = _submitted(client, headers, world["challenge"])
    _close(db, world["challenge"])
    before = leftovers()
    late = _upload(client, headers, proposal_id, "deck.pdf", PDF, "application/pdf")
    assert late.status_code == 409
    by_sponsor = _upload(client, auth(world["sponsor"]), proposal_id, "deck.pdf", PDF, "application/pdf")
    assert by_sponsor.status_code == 403  # the sponsor may read the proposal now, never change it
    db.expire_all()
    assert db.exec(select(ProposalAttachment)).all() == [] and leftovers() == before


def test_no_proposal_for_a_closed_or_unpublished_challenge(client, db, world, auth):
    headers = auth(world["alice"])
    _close(db, world["challenge"])
    late = _create(client, headers, world["challenge"], title="Late")
    assert late.status_code == 409 and "deadline" in late.json()["detail"]
    world["wifi"].status = "draft"
    db.add(world["wifi"])
    db.flush()
    assert _create(client, headers, world["wifi"], title="Unseen").status_code == 404
    assert db.exec(select(Proposal)).all() == []


def test_a_patch_with_one_bad_field_saves_none_of_it(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id, etag = _draft(client, headers, world["challenge"], title="LeakSense")
    refused = client.patch(
        f"/api/v1/proposals/{proposal_id}",
        json={"summary": "New summary", "kpis": ["Not a KPI of this challenge"]},
        headers={**headers, "If-Match": etag},
    )
    assert refused.status_code == 422 and "kpis" in _problem_fields(refused)
    refused = client.patch(
        f"/api/v1/proposals/{proposal_id}", json={"summary": "New summary", "trl": 12}, headers=headers
    )
    assert refused.status_code == 422 and "trl" in _problem_fields(refused)
    row = _row(db, proposal_id)
    assert (row.summary, row.trl, row.revision) == ("", None, 1)
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=headers).headers["etag"] == etag


def test_submitting_again_after_withdrawal_revives_the_proposal(client, db, world, auth):
    headers = auth(world["alice"])
    proposal_id = _submitted(client, headers, world["challenge"])
    assert client.post(f"/api/v1/proposals/{proposal_id}/withdraw", headers=headers).status_code == 200
    again = client.post(f"/api/v1/proposals/{proposal_id}/submit", json={"accept_terms": True}, headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "submitted"
    assert [v["number"] for v in again.json()["versions"]] == [1, 2]
    row = _row(db, proposal_id)
    assert row.status == "submitted" and row.withdrawn_at is None
    _close(db, world["challenge"])
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=auth(world["sponsor"])).status_code == 200


def test_a_refusal_from_the_service_names_its_numbers_on_the_api(client, db, world, auth, monkeypatch):
    """A service's Invalid carries the variables of its messages: the API substitutes them as the pages do."""
    monkeypatch.setattr(attachments, "MAX_ATTACHMENTS", 1)
    headers = auth(world["alice"])
    proposal_id, _ = _draft(client, headers, world["challenge"], **COMPLETE)
    url = f"/api/v1/proposals/{proposal_id}/attachments"
    first = client.post(url, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=headers)
    assert first.status_code == 201, first.text
    refused = client.post(url, files={"file": ("b.pdf", PDF, "application/pdf")}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "file", "message": "A proposal has at most 1 attachments."}]


def test_the_api_shapes_name_exactly_the_statuses_and_question_kinds_the_models_declare():
    from typing import get_args

    from app.proposals.models import STATUS_LABELS, ProposalStatus, QuestionKind
    from app.proposals.schemas import Kind, Status

    assert set(get_args(Status)) == {s.value for s in ProposalStatus} == set(STATUS_LABELS)
    assert set(get_args(Kind)) == {k.value for k in QuestionKind}
