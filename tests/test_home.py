"""The home page: a visitor sees the programmes under way and the open challenges; signed in, each role the
person has adds its starting point (startup, sponsor, operator, platform admin), and nobody outside a
challenge's organisations learns anything of its proposal counts or waiting questions. Its cost in queries
does not grow with the rows."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from app.accounts.models import Organisation
from app.challenges import service as challenges
from app.challenges.schemas import QuestionCreate
from app.db import utcnow
from app.pages.home import themes_for_sectors
from app.programmes.models import ProgrammePhase
from app.proposals import service as proposals
from app.proposals.schemas import ProposalCreate
from app.startups import service as startups
from app.startups.schemas import ProfileUpdate
from tests.conftest import sign_in
from tests.matrix.proposals import COMPLETE
from tests.test_query_counts import counting

EN = {"Accept-Language": "en"}
QUESTION = "Is the pressure data hourly in every sector?"


@pytest.fixture
def world(db: Session, make):
    """Lydec leads an open water challenge (inwi co-sponsors) and a closed one in a programme whose call is
    under way; a startup with a half-filled profile has a draft to the first and a submitted proposal to the
    second; someone asked a question on the first; Lydec also has a draft challenge."""
    lydec = make.organisation("partner", name="Lydec")
    inwi = make.organisation("partner", name="inwi")
    water = make.published_challenge(
        lydec, title="Water leaks", themes=["water"], co_sponsors=[inwi], qa_closes_at=utcnow() + timedelta(days=5)
    )
    programme_id = water.programme_id
    today = utcnow().date()
    db.add(ProgrammePhase(programme_id=programme_id, kind="call", starts_on=today - timedelta(days=9),
                          ends_on=today + timedelta(days=30)))  # fmt: skip
    closed = make.published_challenge(lydec, title="Street lighting", themes=["public_space"], programme=programme_id)
    draft = make.published_challenge(lydec, title="Bus shelters", status="draft", programme=programme_id)
    tram = make.published_challenge(make.organisation("partner"), title="Tram feeders", themes=["mobility"])
    founder, startup = make.member("startup", role="admin")
    founder_actor = make.actor(founder)
    profile = startups.profile_of(db, startup.id)
    startups.update_profile(db, founder_actor, startup, profile, ProfileUpdate(sectors=["Eau", "IoT"], city="Rabat"))
    proposals.create_proposal(db, founder_actor, ProposalCreate(challenge=water.id, title="Listening to leaks"))
    lighting = proposals.create_proposal(db, founder_actor, ProposalCreate(challenge=closed.id, **COMPLETE))
    receipt = proposals.submit_proposal(db, founder_actor, lighting, accept_terms=True)
    closed.deadline = utcnow() - timedelta(hours=1)  # the call of this challenge is over
    db.add(closed)
    view = challenges.get_challenge(db, founder_actor, water.id)
    challenges.ask_question(db, make.actor(make.member("startup")[0]), view, QuestionCreate(body=QUESTION))
    operator = db.get(Organisation, db.get(type(view.programme), programme_id).operator_id)
    db.flush()
    return {
        "water": water,
        "closed": closed,
        "draft": draft,
        "tram": tram,
        "startup": startup,
        "founder": founder,
        "receipt": receipt,
        "sponsor": make.user(organisation=lydec),
        "co_sponsor": make.user(organisation=inwi),
        "outsider": make.member("partner", role="admin")[0],
        "other_startup": make.member("startup", role="admin")[0],
        "operator": make.user(organisation=operator),
        "admin": make.user(platform_admin=True),
    }


def home_of(client, user=None) -> str:
    client.cookies.clear()
    if user is not None:
        sign_in(client, user.email)
    page = client.get("/", headers=EN)
    assert page.status_code == 200
    return page.text


def test_a_visitor_sees_the_programmes_under_way_and_the_open_challenges(client, world):
    page = home_of(client)
    assert "Programme" in page and "Call for proposals" in page  # the programme's current phase
    assert "Water leaks" in page and "Tram feeders" in page and 'href="/challenges?status=published"' in page
    assert "Bus shelters" not in page  # a draft
    assert "Street lighting" not in page  # closed
    assert QUESTION not in page and "submitted" not in page


def test_a_startup_member_sees_its_profile_gaps_matching_challenges_drafts_and_receipts(client, world):
    page = home_of(client, world["founder"])
    slug = world["startup"].slug
    assert (
        f'href="/organisations/{slug}/profile#f-description"' in page and f"/organisations/{slug}/profile#logo" in page
    )
    assert "#f-city" not in page and "#f-sectors" not in page  # given
    assert "Matches your sectors" in page
    assert page.index("Water leaks", page.index('id="for-you"')) < page.index(
        "Tram feeders", page.index('id="for-you"')
    )
    drafts = page[page.index('id="my-drafts"') : page.index('id="my-submitted"')]
    assert "Listening to leaks" in drafts and "days left" in drafts
    submitted = page[page.index('id="my-submitted"') : page.index('id="for-you"')]
    assert COMPLETE["title"] in submitted and world["receipt"].receipt_number in submitted
    assert "Your challenges" not in page and "Ask an organisation admin" not in page


def test_a_sponsor_sees_its_challenges_counts_waiting_questions_and_what_is_due(client, world):
    for who in ("sponsor", "co_sponsor"):
        page = home_of(client, world[who])
        ours = page[page.index('id="sponsored"') : page.index('id="waiting"')]
        if who == "sponsor":
            assert "Bus shelters" in ours and "Street lighting" in ours
            closed = ours[ours.index("Street lighting") :]
            assert f'href="/challenges/{world["closed"].id}/proposals"' in closed and "1 to check" in closed
        row = ours[ours.index("Water leaks") :]
        assert "0 submitted" in row and "1 draft" in row and "1 waiting" in row
        assert QUESTION in page[page.index('id="waiting"') :]
        due = page[page.index('id="due"') :]
        assert "questions close on “Water leaks”" in due and "deadline of “Water leaks”" in due
        assert "Tram feeders" not in ours


def test_nobody_outside_a_challenges_organisations_learns_its_counts_or_questions(client, world):
    for who in ("outsider", "other_startup", "founder"):
        page = home_of(client, world[who])
        assert QUESTION not in page, who
        assert 'id="sponsored"' not in page and "1 draft" not in page and "to check" not in page, who
    assert "Bus shelters" not in home_of(client, world["outsider"])


def test_an_operator_sees_what_needs_doing_on_its_programmes(client, world):
    page = home_of(client, world["operator"])
    section = page[page.index("To do now") :]
    assert "Call for proposals" in page
    assert "1 challenge in draft" in section
    assert "1 unanswered question on “Water leaks”" in section
    assert f'href="/challenges/{world["closed"].id}/proposals"' in section
    assert "Deadline passed: 1 proposal to check on “Street lighting”" in section


def test_a_platform_admin_gets_the_administration_and_no_advice_to_ask_for_an_invitation(client, world):
    page = home_of(client, world["admin"])
    assert "Ask an organisation admin" not in page
    for link in ("/admin/users", "/admin/outbox", "/admin/audit", "/organisations"):
        assert f'href="{link}"' in page
    assert QUESTION not in page  # a platform admin sponsors nothing: no sponsor section


def test_someone_in_several_roles_sees_each_section(client, db, make, world):
    from app.accounts import service as accounts

    accounts.add_membership(db, world["sponsor"], world["startup"], "member")
    page = home_of(client, world["sponsor"])
    assert 'id="sponsored"' in page and 'id="my-drafts"' in page and 'id="for-you"' in page


def test_sectors_name_themes_in_three_languages():
    assert themes_for_sectors(["Eau", "IoT", "données"]) == {"water", "connectivity"}
    assert themes_for_sectors(["Énergie solaire"]) == {"energy"}
    assert themes_for_sectors(["المياه"]) == {"water"}
    assert themes_for_sectors(["espace public"]) == {"public_space"}
    assert themes_for_sectors(["Deep learning"]) == set()


def test_the_home_costs_constant_queries_for_every_role(client, db, engine, make, world):
    def measure() -> dict[str, int]:
        out = {}
        for who in ("founder", "sponsor", "operator", "admin", None):
            client.cookies.clear()
            if who:
                sign_in(client, world[who].email)
            with counting(engine) as statements:
                assert client.get("/").status_code == 200
            out[who or "anonymous"] = len(statements)
        return out

    small = measure()
    lydec = db.get(Organisation, world["water"].lead_sponsor_id)
    for n in range(8):
        extra = make.published_challenge(lydec, title=f"Extra {n}", programme=world["water"].programme_id)
        view = challenges.get_challenge(db, make.actor(world["founder"]), extra.id)
        challenges.ask_question(db, make.actor(world["other_startup"]), view, QuestionCreate(body=f"Question {n}?"))
        proposals.create_proposal(db, make.actor(world["founder"]), ProposalCreate(challenge=extra.id, title=f"P{n}"))
    db.flush()
    assert measure() == small
