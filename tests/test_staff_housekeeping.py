"""Staff housekeeping: deleting a draft challenge, removing a dataset file, editing and reordering the extra
questions, confirming destructive forms, eligibility emails, the account page, and the set-up (email
addresses the demo uses, email links on the port `make run` serves)."""

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.challenges.models import Challenge
from app.datasets import service as datasets
from app.datasets.models import Dataset, DatasetFile
from app.datasets.schemas import DatasetCreate
from app.db import utcnow
from app.files import staging
from app.notifications.models import OutboxMessage
from app.proposals import questions, records, service
from app.proposals.models import ProposalQuestion
from app.proposals.schemas import EligibilityDecision, ProposalCreate, QuestionCreate
from tests.conftest import post_form, sign_in

EN = {"Accept-Language": "en"}
CSV = b"stop,boardings\nCasa Port,1200\n"
CONFIRMED = {"confirm": "yes"}


@pytest.fixture
def setting(db, make):
    sponsor, lydec = make.member("partner", role="admin")
    draft = make.published_challenge(lydec, status="draft", published_at=None, title="Draft to delete")
    published = make.published_challenge(lydec, programme=draft.programme_id, title="Open challenge")
    startup_user, _startup = make.member("startup", role="admin")
    return {"sponsor": sponsor, "lydec": lydec, "draft": draft, "published": published, "startup": startup_user}


def _events(db, action):
    return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def _page_of(db, challenge):
    from app.programmes.models import Programme

    return f"/programmes/{db.get(Programme, challenge.programme_id).slug}/challenges/{challenge.slug}"


# ---- deleting a draft -------------------------------------------------------------------------------------


def test_staff_delete_a_draft_with_its_datasets_files_and_questions_once_confirmed(client, db, make, setting):
    sponsor = make.actor(setting["sponsor"])
    draft = setting["draft"]
    from app.challenges import service as challenges

    view = challenges.get_challenge(db, sponsor, draft.id)
    dataset = datasets.create_dataset(db, sponsor, view, DatasetCreate(title="Stops", licence="ODbL-1.0"))
    stored = datasets.store_bytes(db, sponsor, dataset.dataset.id, "stops.csv", CSV)
    questions.add_question(db, sponsor, view, QuestionCreate(kind="short_text", label="Where are you?"))
    db.commit()
    bytes_on_disk = staging.path_for(stored.storage_key)
    assert bytes_on_disk.is_file()

    sign_in(client, setting["sponsor"].email)
    page = _page_of(db, draft)
    shown = client.get(page, headers=EN).text
    assert "Delete this draft" in shown and "1 dataset and its files" in shown and "1 question for applicants" in shown

    unconfirmed = post_form(client, f"/challenges/{draft.id}/delete", {}, page=page, headers=EN)
    assert unconfirmed.status_code == 422 and "Tick “I confirm” to go ahead. Nothing was changed." in unconfirmed.text
    assert db.get(Challenge, draft.id) is not None

    deleted = post_form(client, f"/challenges/{draft.id}/delete", CONFIRMED, page=page, headers=EN)
    assert deleted.status_code == 303
    db.expire_all()
    assert db.get(Challenge, draft.id) is None
    assert db.exec(select(Dataset).where(Dataset.challenge_id == draft.id)).all() == []
    assert db.exec(select(ProposalQuestion).where(ProposalQuestion.challenge_id == draft.id)).all() == []
    assert not bytes_on_disk.exists()
    (event,) = _events(db, "challenge.deleted")
    assert event.actor_id == setting["sponsor"].id and event.data["title"] == "Draft to delete"
    assert "Draft to delete" in client.get(deleted.headers["location"], headers=EN).text  # the flash says so
    assert client.get(page).status_code == 404


def test_a_published_challenge_is_never_deleted_and_outsiders_get_404(client, db, make, setting):
    published = setting["published"]
    sign_in(client, setting["sponsor"].email)
    page = _page_of(db, published)
    assert "Delete this draft" not in client.get(page, headers=EN).text
    refused = post_form(client, f"/challenges/{published.id}/delete", CONFIRMED, page=page, headers=EN)
    assert refused.status_code == 409 and "archive it instead" in refused.text
    client.cookies.clear()
    sign_in(client, setting["startup"].email)
    draft = setting["draft"]
    assert post_form(client, f"/challenges/{draft.id}/delete", CONFIRMED, page="/challenges").status_code == 404
    db.expire_all()
    assert db.get(Challenge, published.id) is not None and db.get(Challenge, draft.id) is not None
    assert _events(db, "challenge.deleted") == []


def test_the_status_filter_offers_drafts_to_those_who_may_have_them(client, setting):
    sign_in(client, setting["sponsor"].email)
    listing = client.get("/challenges?status=draft", headers=EN).text
    assert '<option value="draft" selected>' in listing
    assert "Draft to delete" in listing and "Open challenge" not in listing
    client.cookies.clear()
    sign_in(client, setting["startup"].email)
    assert '<option value="draft"' not in client.get("/challenges", headers=EN).text


# ---- removing a dataset file ------------------------------------------------------------------------------


@pytest.fixture
def dataset(db, make, setting):
    from app.challenges import service as challenges

    sponsor = make.actor(setting["sponsor"])
    view = challenges.get_challenge(db, sponsor, setting["published"].id)
    made = datasets.create_dataset(db, sponsor, view, DatasetCreate(title="Stops", licence="ODbL-1.0"))
    good = datasets.store_bytes(db, sponsor, made.dataset.id, "stops.csv", CSV)
    broken = datasets.store_bytes(db, sponsor, made.dataset.id, "broken.csv", b"a,b,c\n1,2,3\n")
    db.commit()
    return {"id": made.dataset.id, "good": good, "broken": broken}


def test_a_file_nobody_downloaded_is_deleted_with_its_bytes_and_audited(client, db, setting, dataset):
    broken = dataset["broken"]
    path = staging.path_for(broken.storage_key)
    sign_in(client, setting["sponsor"].email)
    page = f"/datasets/{dataset['id']}"
    assert client.get(f"{page}/files/{broken.id}/download").status_code == 200  # staff downloads do not count
    removed = post_form(client, f"{page}/files/{broken.id}/remove", CONFIRMED, page=page, headers=EN)
    assert removed.status_code == 303
    db.expire_all()
    assert db.get(DatasetFile, broken.id) is None and not path.exists()
    shown = client.get(page, headers=EN).text
    assert "The file is deleted." in shown and "broken.csv" not in shown and "stops.csv" in shown
    (event,) = _events(db, "dataset.file_removed")
    assert event.data["sha256"] == broken.sha256 and event.data["kept_for_downloaders"] is False


def test_a_downloaded_file_leaves_the_list_but_stays_for_whoever_downloaded_it(client, db, make, setting, dataset):
    broken = dataset["broken"]
    page = f"/datasets/{dataset['id']}"
    sign_in(client, setting["startup"].email)
    first = client.get(f"{page}/files/{broken.id}/download")
    assert first.status_code == 200
    client.cookies.clear()

    sign_in(client, setting["sponsor"].email)
    removed = post_form(client, f"{page}/files/{broken.id}/remove", CONFIRMED, page=page, headers=EN)
    assert removed.status_code == 303
    staff_page = client.get(page, headers=EN).text
    assert "it is kept for those who have it" in staff_page and "1 removed file" in staff_page
    db.expire_all()
    kept = db.get(DatasetFile, broken.id)
    assert kept is not None and kept.removed_at is not None and staging.path_for(kept.storage_key).is_file()
    client.cookies.clear()

    sign_in(client, setting["startup"].email)
    theirs = client.get(page, headers=EN).text
    current = theirs.split('id="removed-files"')[0]
    assert "broken.csv" not in current and "stops.csv" in current
    assert "broken.csv" in theirs and broken.sha256 in theirs  # under "removed files", with its checksum
    again = client.get(f"{page}/files/{broken.id}/download")
    assert again.status_code == 200 and again.content == first.content
    client.cookies.clear()

    newcomer = make.user()
    db.commit()
    sign_in(client, newcomer.email)
    assert "broken.csv" not in client.get(page, headers=EN).text
    assert client.get(f"{page}/files/{broken.id}/download").status_code == 404
    api = client.get(
        f"/api/v1/datasets/{dataset['id']}", headers={"Authorization": f"Bearer {make.token(newcomer)[1]}"}
    )
    assert [f["name"] for f in api.json()["files"]] == ["stops.csv"]


def test_the_api_removes_a_file_through_the_same_rule(client, db, make, setting, dataset):
    token = make.token(setting["sponsor"], "write")[1]
    db.commit()
    answer = client.delete(
        f"/api/v1/datasets/{dataset['id']}/files/{dataset['broken'].id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 204
    db.expire_all()
    assert db.get(DatasetFile, dataset["broken"].id) is None
    assert len(_events(db, "dataset.file_removed")) == 1


# ---- extra questions --------------------------------------------------------------------------------------


def _two_questions(db, make, setting):
    from app.challenges import service as challenges

    sponsor = make.actor(setting["sponsor"])
    view = challenges.get_challenge(db, sponsor, setting["published"].id)
    first = questions.add_question(db, sponsor, view, QuestionCreate(kind="short_text", label="Where are you based?"))
    second = questions.add_question(
        db, sponsor, view, QuestionCreate(kind="single_choice", label="Team size?", choices=["1-5", "6+"])
    )
    db.commit()
    return first, second


def test_staff_edit_and_reorder_questions_and_the_form_follows(client, db, make, setting):
    _first, second = _two_questions(db, make, setting)
    challenge_id = setting["published"].id
    listing = f"/challenges/{challenge_id}/proposal-questions"
    sign_in(client, setting["sponsor"].email)
    edit = f"/proposal-questions/{second.id}/edit"
    assert "Team size?" in client.get(edit, headers=EN).text
    bad = post_form(client, edit, {"label": "Team size now?", "choices": "Only one"}, page=edit, headers=EN)
    assert (
        bad.status_code == 422 and "Give at least two different options." in bad.text and "Team size now?" in bad.text
    )
    saved = post_form(
        client, edit, {"label": "How big is the team?", "choices": "1-5\n6-20\n21+", "required": "true"}, page=edit
    )
    assert saved.status_code == 303
    moved = post_form(client, f"/proposal-questions/{second.id}/move", {"direction": "up"}, page=listing)
    assert moved.status_code == 303
    shown = client.get(listing, headers=EN).text
    assert shown.index("How big is the team?") < shown.index("Where are you based?")
    db.expire_all()
    question = db.get(ProposalQuestion, second.id)
    assert (question.label, question.choices, question.required, question.kind) == (
        "How big is the team?",
        ["1-5", "6-20", "21+"],
        True,
        "single_choice",
    )
    assert _events(db, "proposal_question.updated")[0].data["fields"] == ["label", "choices", "required"]
    assert len(_events(db, "proposal_question.reordered")) == 1


def test_the_api_reorders_and_edits_questions_with_the_same_rules(client, db, make, setting):
    first, second = _two_questions(db, make, setting)
    headers = {"Authorization": f"Bearer {make.token(setting['sponsor'], 'write')[1]}"}
    db.commit()
    url = f"/api/v1/challenges/{setting['published'].id}/proposal-questions"
    partial = client.put(f"{url}/order", json={"order": [second.id]}, headers=headers)
    assert partial.status_code == 422
    reordered = client.put(f"{url}/order", json={"order": [second.id, first.id]}, headers=headers)
    assert reordered.status_code == 200 and [q["id"] for q in reordered.json()] == [second.id, first.id]
    assert [q["id"] for q in client.get(url, headers=headers).json()] == [second.id, first.id]
    patched = client.patch(f"/api/v1/proposal-questions/{first.id}", json={"label": "City?"}, headers=headers)
    assert patched.status_code == 200 and patched.json()["label"] == "City?"
    assert client.delete(f"/api/v1/proposal-questions/{first.id}", headers=headers).status_code == 204
    assert [q["id"] for q in client.get(url, headers=headers).json()] == [second.id]


def test_removing_a_question_asks_for_confirmation(client, db, make, setting):
    first, _ = _two_questions(db, make, setting)
    listing = f"/challenges/{setting['published'].id}/proposal-questions"
    sign_in(client, setting["sponsor"].email)
    page = client.get(listing, headers=EN).text
    assert 'data-confirm="Remove the question “Where are you based?”' in page and 'name="confirm"' in page
    assert post_form(client, f"/proposal-questions/{first.id}/remove", {}, page=listing).status_code == 422
    assert db.get(ProposalQuestion, first.id) is not None
    assert post_form(client, f"/proposal-questions/{first.id}/remove", CONFIRMED, page=listing).status_code == 303
    db.expire_all()
    assert db.get(ProposalQuestion, first.id) is None


# ---- eligibility emails -----------------------------------------------------------------------------------


def test_the_startup_s_members_are_emailed_the_eligibility_decision_with_the_reason(db, make, setting):
    admin = make.actor(setting["startup"])
    startup_id = next(iter(admin.organisation_ids()))
    from app.accounts.models import Organisation

    colleague = make.user(organisation=db.get(Organisation, startup_id), name="Nora")
    colleague.preferred_language = "fr"
    setting["startup"].preferred_language = "en"
    db.add_all([colleague, setting["startup"]])
    challenge = setting["published"]
    view = service.create_proposal(
        db,
        admin,
        ProposalCreate(
            challenge=challenge.id,
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
    service.submit_proposal(db, admin, records.get_proposal(db, admin, view.proposal.id), accept_terms=True)
    challenge.deadline = utcnow() - timedelta(seconds=1)
    db.add(challenge)
    db.flush()
    before = len(db.exec(select(OutboxMessage)).all())
    sponsor = make.actor(setting["sponsor"])
    decided = records.get_proposal(db, sponsor, view.proposal.id)
    service.decide_eligibility(db, sponsor, decided, EligibilityDecision(eligible=False, reason="No pilot site."))
    mails = {m.to_address: m for m in db.exec(select(OutboxMessage)).all()[before:]}
    assert set(mails) == {setting["startup"].email, colleague.email}
    english = mails[setting["startup"].email]
    assert "not eligible" in english.subject and "No pilot site." in english.body and "LeakSense" in english.body
    french = mails[colleague.email]
    assert "n’est pas éligible" in french.subject and "No pilot site." in french.body


# ---- the account page -------------------------------------------------------------------------------------


def test_the_account_page_changes_the_name_and_language(client, db, make):
    user = make.user(name="Old Name")
    db.commit()
    sign_in(client, user.email)
    bad = post_form(client, "/account", {"full_name": "  ", "preferred_language": "en"}, page="/account", headers=EN)
    assert bad.status_code == 422 and "This field is required." in bad.text
    saved = post_form(
        client, "/account", {"full_name": "Salma Bennani", "preferred_language": "ar"}, page="/account", headers=EN
    )
    assert saved.status_code == 303
    db.refresh(user)
    assert (user.name, user.preferred_language) == ("Salma Bennani", "ar")
    page = client.get("/account")
    assert 'lang="ar"' in page.text and "Salma Bennani" in page.text
    assert _events(db, "account.updated")[0].data["fields"] == ["name", "preferred_language"]


def test_a_new_password_needs_the_current_one_and_signs_out_the_other_sessions(app, client, db, make):
    from fastapi.testclient import TestClient

    user = make.user()
    token = make.token(user, "read")[1]
    db.commit()
    other_device = TestClient(app, base_url="http://testserver", follow_redirects=False)
    sign_in(other_device, user.email)
    sign_in(client, user.email)
    change = "/account/password"
    wrong = post_form(
        client,
        change,
        {"current_password": "not-it-at-all", "new_password": "a-new-long-passphrase-1"},
        page="/account",
        headers=EN,
    )
    assert wrong.status_code == 422 and "This is not your current password." in wrong.text
    assert "not-it-at-all" not in wrong.text
    weak = post_form(client, change, {"current_password": "x", "new_password": "short"}, page="/account", headers=EN)
    assert weak.status_code == 422
    from tests.factories import PASSWORD

    done = post_form(
        client,
        change,
        {"current_password": PASSWORD, "new_password": "a-new-long-passphrase-1", "revoke_tokens": "on"},
        page="/account",
        headers=EN,
    )
    assert done.status_code == 303
    assert client.get("/account").status_code == 200  # this session stays
    assert other_device.get("/account").status_code == 303  # the other one is signed out
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    client.cookies.clear()
    assert sign_in(client, user.email, "a-new-long-passphrase-1").status_code == 303
    assert len(_events(db, "password.changed")) == 1


# ---- set-up -----------------------------------------------------------------------------------------------


def test_the_web_form_and_api_take_the_demo_s_test_addresses(client, db, make):
    registered = post_form(
        client,
        "/register",
        {
            "name": "Demo Person",
            "email": "someone@medina.test",
            "password": "a-long-unusual-passphrase-7",
            "organisation_name": "Demo startup",
            "accept_terms": "true",
        },
        page="/register",
        headers=EN,
    )
    assert registered.status_code == 303
    refused = post_form(
        client,
        "/register",
        {"name": "X", "email": "x@localhost", "password": "a-long-unusual-passphrase-8", "organisation_name": "Xy"},
        page="/register",
        headers=EN,
    )
    assert refused.status_code == 422 and "Enter a valid email address" in refused.text


def test_make_run_points_email_links_at_its_port_unless_told_otherwise(tmp_path):
    probe = tmp_path / "probe.mk"
    makefile = Path(__file__).resolve().parents[1] / "Makefile"
    probe.write_text(f"include {makefile}\nshow-base-url:\n\t@echo $$MEDINA_BASE_URL\n")

    def base_url(*args: str, env: dict[str, str] | None = None) -> str:
        import os

        environment = {k: v for k, v in os.environ.items() if k != "MEDINA_BASE_URL"} | (env or {})
        done = subprocess.run(
            ["make", "-s", "-f", str(probe), "show-base-url", *args],
            capture_output=True,
            text=True,
            env=environment,
            check=True,
        )
        return done.stdout.strip()

    assert base_url("PORT=8200") == "http://127.0.0.1:8200"
    assert base_url() == "http://127.0.0.1:8000"
    assert base_url("PORT=8200", env={"MEDINA_BASE_URL": "https://medina.example.org"}) == "https://medina.example.org"
