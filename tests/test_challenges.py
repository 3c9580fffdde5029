"""Challenges: life cycle, visibility, filters, edits with the change log and terms versions, Q&A, API."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.challenges import service
from app.challenges.models import Challenge, ChallengeChange, ChallengeTerms, Question
from app.challenges.schemas import AnswerCreate, ChallengeCreate, ChallengeUpdate, QuestionCreate
from app.challenges.service import ChallengeFilters
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from app.notifications.models import OutboxMessage
from tests.conftest import post_form, sign_in


@pytest.fixture
def setting(db, make):
    """A programme run by an operator, with Lydec as partner; staff users for each."""
    operator_org = make.organisation("operator")
    lydec = make.organisation("partner", slug="lydec", name="Lydec")
    inwi = make.organisation("partner", slug="inwi", name="inwi")
    programme = make.programme(operator_org, partners=[lydec], slug="casa-2017", name="Casablanca 2017")
    return {
        "programme": programme,
        "lydec": lydec,
        "inwi": inwi,
        "sponsor": make.user(organisation=lydec, role="member"),
        "outsider": make.user(organisation=inwi, role="admin"),
        "operator": make.user(organisation=operator_org),
        "startup": make.member("startup")[0],
    }


def _create(db, make, setting, **overrides):
    data = {
        "programme": setting["programme"].id,
        "title": "Water-network leaks",
        "summary": "Find leaks in the water network before they surface.",
        "problem": "Lydec loses **a quarter** of the water it distributes.",
        "deadline": utcnow() + timedelta(days=30),
        "themes": ["water"],
        "kpis": [{"name": "Non-revenue water", "unit": "%", "baseline": "24", "target": "18"}],
        **overrides,
    }
    return service.create_challenge(db, make.actor(setting["sponsor"]), ChallengeCreate(**data))


def test_sponsor_creates_a_draft_seen_only_by_its_staff(db, make, setting):
    view = _create(db, make, setting)
    assert view.challenge.status == "draft" and view.lead_sponsor.slug == "lydec"
    assert view.challenge.slug == "water-network-leaks"
    assert view.terms_in("fr").text.startswith("La propriété intellectuelle des solutions")
    assert "intellectual property" in view.terms_in("en").text and "الملكية الفكرية" in view.terms_in("ar").text
    assert service.get_challenge(db, make.actor(setting["operator"]), view.challenge.id)
    for outsider in ("outsider", "startup"):
        with pytest.raises(NotFound):
            service.get_challenge(db, make.actor(setting[outsider]), view.challenge.id)
    with pytest.raises(NotFound):
        service.get_challenge(db, make.actor(None), view.challenge.id)
    public, total = service.list_challenges(db, make.actor(setting["startup"]), ChallengeFilters())
    assert total == 0 and public == []


def test_only_programme_staff_create_challenges(db, make, setting):
    with pytest.raises(Forbidden):
        _create(db, make, {**setting, "sponsor": setting["startup"]})


def test_publication_checks_required_fields_and_a_future_deadline(db, make, setting):
    actor = make.actor(setting["sponsor"])
    view = _create(db, make, setting, problem="", themes=[], deadline=utcnow() - timedelta(minutes=1))
    with pytest.raises(Invalid) as refused:
        service.publish_challenge(db, actor, view)
    assert set(refused.value.errors) == {"problem", "themes", "deadline"}
    view = service.update_challenge(
        db, actor, view, ChallengeUpdate(problem="Leaks.", themes=["water"], deadline=utcnow() + timedelta(days=10))
    )
    view = service.publish_challenge(db, actor, view)
    assert view.status == "published" and view.challenge.published_at is not None
    with pytest.raises(Conflict):
        service.publish_challenge(db, actor, view)
    assert service.get_challenge(db, make.actor(None), view.challenge.id).status == "published"


def test_a_published_challenge_closes_itself_at_the_deadline(db, make, setting):
    view = service.publish_challenge(db, make.actor(setting["sponsor"]), _create(db, make, setting))
    assert service.effective_status(view.challenge, utcnow() + timedelta(days=31)) == "closed"
    view.challenge.deadline = utcnow() - timedelta(seconds=1)
    db.add(view.challenge)
    db.flush()
    closed, total = service.list_challenges(db, make.actor(None), ChallengeFilters(status="closed"))
    assert total == 1 and closed[0].status == "closed"
    assert service.list_challenges(db, make.actor(None), ChallengeFilters(status="published"))[1] == 0
    awarded = service.set_final_status(db, make.actor(setting["operator"]), closed[0], "awarded")
    assert awarded.status == "awarded"


def test_edits_after_publication_are_logged_and_new_terms_are_versioned(db, make, setting):
    actor = make.actor(setting["sponsor"])
    view = service.publish_challenge(db, actor, _create(db, make, setting))
    revision = view.challenge.revision
    view = service.update_challenge(
        db,
        actor,
        view,
        ChallengeUpdate(summary="Find leaks sooner.", ip_terms="New terms.", note="Clarified the scope"),
        expected_revision=revision,
    )
    assert view.challenge.terms_version == 2 and view.ip_terms == "New terms."
    versions = db.exec(select(ChallengeTerms).where(ChallengeTerms.challenge_id == view.challenge.id)).all()
    assert sorted(t.version for t in versions) == [1, 2]
    change = db.exec(select(ChallengeChange).where(ChallengeChange.challenge_id == view.challenge.id)).one()
    assert change.fields == ["summary", "ip_terms"] and change.note == "Clarified the scope"
    with pytest.raises(PreconditionFailed):
        service.update_challenge(db, actor, view, ChallengeUpdate(summary="Stale"), expected_revision=revision)
    with pytest.raises(Invalid):
        service.update_challenge(db, actor, view, ChallengeUpdate(slug="another-address"))


def test_other_sponsors_cannot_edit(db, make, setting):
    view = service.publish_challenge(db, make.actor(setting["sponsor"]), _create(db, make, setting))
    with pytest.raises(Forbidden):
        service.update_challenge(db, make.actor(setting["outsider"]), view, ChallengeUpdate(summary="Hijack"))


def test_duplicate_slug_is_refused_with_the_field_named(db, make, setting):
    _create(db, make, setting)
    with pytest.raises(Invalid) as refused:
        _create(db, make, setting)
    assert "slug" in refused.value.errors


def test_filters(db, make, setting):
    actor = make.actor(setting["sponsor"])
    service.publish_challenge(db, actor, _create(db, make, setting))
    service.publish_challenge(
        db,
        actor,
        _create(
            db,
            make,
            setting,
            title="Tram feeder buses",
            summary="Feed the tram.",
            themes=["mobility"],
            sponsors=[setting["inwi"].id],
        ),
    )
    anyone = make.actor(None)

    def titles(**filters):
        return [v.challenge.title for v in service.list_challenges(db, anyone, ChallengeFilters(**filters))[0]]

    assert titles(theme="mobility") == ["Tram feeder buses"]
    assert titles(sponsor="inwi") == ["Tram feeder buses"]
    assert sorted(titles(sponsor="lydec")) == ["Tram feeder buses", "Water-network leaks"]
    assert titles(q="LEAK") == ["Water-network leaks"]
    assert len(titles(programme="casa-2017")) == 2 and titles(programme="nope") == []


def test_questions_are_answered_publicly_without_the_askers_name_and_followers_are_told(db, make, setting):
    view = service.publish_challenge(db, make.actor(setting["sponsor"]), _create(db, make, setting))
    startup = make.actor(setting["startup"])
    question = service.ask_question(db, startup, view, QuestionCreate(body="Is the pressure data hourly?"))
    assert service.list_questions(db, make.actor(None), view) == []  # unanswered: staff and the asker only
    assert service.list_questions(db, make.actor(setting["outsider"]), view) == []
    assert service.list_questions(db, startup, view) == [question]
    assert service.list_questions(db, make.actor(setting["sponsor"]), view) == [question]
    with pytest.raises(NotFound):
        service.answer_question(db, make.actor(setting["outsider"]), question.id, AnswerCreate(answer="Yes"))
    service.answer_question(db, make.actor(setting["sponsor"]), question.id, AnswerCreate(answer="Yes, hourly."))
    assert [q.answer for q in service.list_questions(db, make.actor(None), view)] == ["Yes, hourly."]
    mail = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == setting["startup"].email)).one()
    assert "Yes, hourly." in mail.body


def test_questions_close(db, make, setting):
    view = service.publish_challenge(
        db, make.actor(setting["sponsor"]), _create(db, make, setting, qa_closes_at=utcnow() + timedelta(days=1))
    )
    view.challenge.qa_closes_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(Conflict):
        service.ask_question(db, make.actor(setting["startup"]), view, QuestionCreate(body="Too late for this?"))


# ---- pages -----------------------------------------------------------------------------------------------


def test_public_page_list_and_filters(client, db, make, setting):
    view = service.publish_challenge(db, make.actor(setting["sponsor"]), _create(db, make, setting))
    page = client.get(f"/programmes/casa-2017/challenges/{view.challenge.slug}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Water-network leaks" in page.text and "<strong>a quarter</strong>" in page.text
    assert "Non-revenue water" in page.text and "days left" in page.text
    listing = client.get("/challenges?theme=water", headers={"Accept-Language": "en"})
    assert "Water-network leaks" in listing.text and "1 challenge" in listing.text
    assert "Water-network leaks" not in client.get("/challenges?theme=mobility").text


def test_script_in_markdown_is_removed(client, db, make, setting):
    view = service.publish_challenge(
        db,
        make.actor(setting["sponsor"]),
        _create(
            db,
            make,
            setting,
            problem='<script>alert(1)</script> <img src=x onerror="alert(1)"> [x](javascript:alert(1))',
        ),
    )
    page = client.get(f"/programmes/casa-2017/challenges/{view.challenge.slug}").text
    assert (
        "<script>alert" not in page
        and "onerror=" not in page.replace("onerror=&#34;", "").replace('onerror="alert(1)"&gt;', "")
        and 'href="javascript' not in page
    )


def test_draft_page_is_404_for_the_public(client, db, make, setting):
    view = _create(db, make, setting)
    assert client.get(f"/programmes/casa-2017/challenges/{view.challenge.slug}").status_code == 404
    sign_in(client, setting["sponsor"].email)
    assert client.get(f"/programmes/casa-2017/challenges/{view.challenge.slug}").status_code == 200


def test_sponsor_writes_and_publishes_through_the_form(client, db, make, setting):
    sign_in(client, setting["sponsor"].email)
    form = {
        "programme": str(setting["programme"].id),
        "lead_sponsor": str(setting["lydec"].id),
        "title": "Waste collection rounds",
        "summary": "Optimise the rounds.",
        "problem": "Bins overflow.",
        "themes": "waste",
        "deadline": (utcnow() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
        "kpis": "Overflowing bins | % | 30 | 10",
        "test_sites": "Maârif | Bd Zerktouni | 33.58 | -7.63",
        "ip_terms": "IP stays with the startup.",
    }
    response = post_form(client, "/challenges/new", form, page="/challenges/new")
    assert response.status_code == 303, response.text
    challenge = db.exec(select(Challenge).where(Challenge.slug == "waste-collection-rounds")).one()
    assert challenge.kpis == [{"name": "Overflowing bins", "unit": "%", "baseline": "30", "target": "10"}]
    assert challenge.test_sites[0]["latitude"] == 33.58
    assert challenge.deadline.tzinfo is not None
    published = post_form(client, f"/challenges/{challenge.id}/publish", {}, page="/challenges/new")
    assert published.status_code == 303
    db.refresh(challenge)
    assert challenge.status == "published"


def test_form_errors_keep_the_input(client, db, make, setting):
    sign_in(client, setting["sponsor"].email)
    form = {
        "programme": str(setting["programme"].id),
        "title": "Waste",
        "summary": "s" * 301,
        "deadline": "not a date",
        "kpis": "a | b | c | d | e",
    }
    response = post_form(client, "/challenges/new", form, page="/challenges/new", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Enter a valid date and time." in response.text or "too many" in response.text
    assert 'value="Waste"' in response.text
    assert db.exec(select(Challenge)).first() is None


def test_stale_edit_is_refused_and_shows_both_versions(client, db, make, setting):
    view = _create(db, make, setting)
    sign_in(client, setting["sponsor"].email)
    path = f"/challenges/{view.challenge.id}/edit"
    form = {
        "title": "My title",
        "summary": "Mine.",
        "deadline": (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        "themes": "water",
        "revision": "1",
    }
    service.update_challenge(db, make.actor(setting["operator"]), view, ChallengeUpdate(title="Their title"))
    response = post_form(client, path, form, page=path, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Someone else changed this challenge" in response.text
    assert "Their title" in response.text and 'value="My title"' in response.text


def test_ask_and_answer_through_the_pages(client, db, make, setting):
    view = service.publish_challenge(db, make.actor(setting["sponsor"]), _create(db, make, setting))
    path = f"/programmes/casa-2017/challenges/{view.challenge.slug}"
    sign_in(client, setting["startup"].email)
    short = post_form(
        client,
        f"/challenges/{view.challenge.id}/questions",
        {"body": "Why?"},
        page=path,
        headers={"Accept-Language": "en"},
    )
    assert short.status_code == 422 and "Use at least 10 characters." in short.text
    asked = post_form(
        client, f"/challenges/{view.challenge.id}/questions", {"body": "Which sectors are metered?"}, page=path
    )
    assert asked.status_code == 303
    question = db.exec(select(Question)).one()
    client.cookies.clear()
    sign_in(client, setting["sponsor"].email)
    answered = post_form(client, f"/questions/{question.id}/answer", {"answer": "Sectors 1 to 12."}, page=path)
    assert answered.status_code == 303
    client.cookies.clear()
    public = client.get(path).text
    assert "Which sectors are metered?" in public and "Sectors 1 to 12." in public
    assert setting["startup"].name not in public and setting["startup"].email not in public


# ---- API ---------------------------------------------------------------------------------------------------


def _bearer(make, user, scope="write"):
    return {"Authorization": f"Bearer {make.token(user, scope)[1]}"}


def test_api_create_patch_with_etag_and_publish(client, db, make, setting):
    headers = _bearer(make, setting["sponsor"])
    body = {
        "programme": setting["programme"].id,
        "title": "Public Wi-Fi",
        "summary": "Connect the squares.",
        "problem": "Few hotspots.",
        "themes": ["connectivity"],
        "deadline": (utcnow() + timedelta(days=9)).isoformat(),
        "kpis": [{"name": "Sessions", "unit": "per day", "baseline": "0", "target": "5000"}],
    }
    created = client.post("/api/v1/challenges", json=body, headers=headers)
    assert created.status_code == 201, created.text
    challenge = created.json()
    assert challenge["status"] == "draft" and challenge["lead_sponsor"]["slug"] == "lydec"
    etag = created.headers["etag"]
    url = f"/api/v1/challenges/{challenge['id']}"
    ok = client.patch(
        url, json={"summary": "Connect the squares of the medina."}, headers={**headers, "If-Match": etag}
    )
    assert ok.status_code == 200 and ok.headers["etag"] != etag
    stale = client.patch(url, json={"summary": "Overwrite"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=headers).json()["summary"] == "Connect the squares of the medina."
    published = client.post(f"{url}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["status"] == "published"
    anyone = _bearer(make, setting["startup"], "read")
    listing = client.get("/api/v1/challenges?theme=connectivity&programme=casa-2017", headers=anyone).json()
    assert [c["title"] for c in listing["items"]] == ["Public Wi-Fi"] and listing["next"] is None


def test_api_validation_and_refusals(client, db, make, setting):
    body = {"programme": setting["programme"].id, "title": "X", "summary": "", "deadline": "2030-01-01T10:00:00"}
    refused = client.post(
        "/api/v1/challenges", json=body, headers={**_bearer(make, setting["sponsor"]), "Accept-Language": "en"}
    )
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert {"title", "summary", "deadline"} <= fields
    draft = _create(db, make, setting)
    assert (
        client.get(f"/api/v1/challenges/{draft.challenge.id}", headers=_bearer(make, setting["startup"])).status_code
        == 404
    )
    body = {
        "programme": setting["programme"].id,
        "title": "Startup challenge",
        "summary": "No.",
        "deadline": (utcnow() + timedelta(days=9)).isoformat(),
    }
    assert client.post("/api/v1/challenges", json=body, headers=_bearer(make, setting["startup"])).status_code == 403


def test_api_questions(client, db, make, setting):
    view = service.publish_challenge(db, make.actor(setting["sponsor"]), _create(db, make, setting))
    asked = client.post(
        f"/api/v1/challenges/{view.challenge.id}/questions",
        json={"body": "Is there an API for flows?"},
        headers=_bearer(make, setting["startup"]),
    )
    assert asked.status_code == 201 and "asked_by" not in asked.json()
    question_id = asked.json()["id"]
    answer = client.post(
        f"/api/v1/questions/{question_id}/answer", json={"answer": "Yes."}, headers=_bearer(make, setting["sponsor"])
    )
    assert answer.status_code == 200 and answer.json()["answer"] == "Yes."
    listing = client.get(
        f"/api/v1/challenges/{view.challenge.id}/questions", headers=_bearer(make, setting["outsider"], "read")
    )
    assert [q["answer"] for q in listing.json()["items"]] == ["Yes."]


def test_a_kpi_line_with_too_many_separators_is_explained(client, db, make, setting):
    sign_in(client, setting["sponsor"].email)
    response = post_form(
        client,
        "/challenges/new",
        {
            "programme": str(setting["programme"].id),
            "title": "Water-network leaks",
            "summary": "Find leaks.",
            "deadline": "2099-01-01T10:00",
            "kpis": "Loss | % | 24 | 18 | extra",
        },
        page="/challenges/new",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "Line 1 has too many “|” separators." in response.text and "Loss | % | 24 | 18 | extra" in response.text


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("dechets menagers", ["Collecte des déchets ménagers"]),
        ("DÉCHETS", ["Collecte des déchets ménagers"]),
        ("eclairage", ["ÉCLAIRAGE intelligent à Aïn Diab"]),
        ("ain diab", ["ÉCLAIRAGE intelligent à Aïn Diab"]),
        ("Éclairage", ["ÉCLAIRAGE intelligent à Aïn Diab"]),
        ("dechet eclairage", []),
    ],
)
def test_the_challenge_search_ignores_accents_and_case_as_people_type(client, make, q, found):
    city = make.organisation("city", name="Ville")
    titles = ("Collecte des déchets ménagers", "ÉCLAIRAGE intelligent à Aïn Diab")
    for title in titles:
        make.published_challenge(city, title=title)
    page = client.get("/challenges", params={"q": q})
    assert page.status_code == 200
    assert [t for t in titles if t in page.text] == found
