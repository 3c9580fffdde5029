"""The challenges domain's predicates on their own (no database): who is staff of a challenge, who sees,
edits, deletes it, who may name its lead sponsor, which statuses a list offers."""

from datetime import timedelta

import pytest

from app.accounts.models import Organisation, User
from app.challenges import permissions as can
from app.challenges.models import Challenge
from app.db import utcnow
from app.programmes.models import Programme
from app.security.actor import ANONYMOUS, Actor, MembershipInfo

OPERATOR, CITY, LEAD, CO_SPONSOR, OTHER_PARTNER, STARTUP = 1, 2, 3, 4, 5, 6
KINDS = {OPERATOR: "operator", CITY: "city", LEAD: "partner", CO_SPONSOR: "partner", OTHER_PARTNER: "partner"}
KINDS[STARTUP] = "startup"
PROGRAMME = Programme(id=1, slug="p", name="P", operator_id=OPERATOR, city_id=CITY)
SPONSORS = {LEAD, CO_SPONSOR}


def actor(*organisations: int, admin: bool = False, active: bool = True) -> Actor:
    user = User(id=1, email="a@example.org", name="A", password_hash="x", is_platform_admin=admin, is_active=active)
    return Actor(user, tuple(MembershipInfo(o, KINDS[o], "member") for o in organisations))


def challenge(status: str = "published", **fields: object) -> Challenge:
    values: dict[str, object] = {"deadline": utcnow() + timedelta(days=5), "status": status, **fields}
    return Challenge(id=1, programme_id=1, lead_sponsor_id=LEAD, slug="c", title="C", summary="S", **values)


STAFF = {
    "lead sponsor": actor(LEAD),
    "co-sponsor": actor(CO_SPONSOR),
    "operator": actor(OPERATOR),
    "platform admin": actor(admin=True),
}
NOT_STAFF = {
    "anonymous": ANONYMOUS,
    "startup member": actor(STARTUP),
    "partner of another challenge": actor(OTHER_PARTNER),
    "city of the programme": actor(CITY),  # the city is programme staff, not staff of a partner's challenge
    "inactive lead sponsor": actor(LEAD, active=False),
    "inactive admin": actor(admin=True, active=False),
}


@pytest.mark.parametrize("who", STAFF)
def test_sponsors_operator_and_admins_are_staff_and_see_edit_and_delete_a_draft(who: str) -> None:
    draft = challenge("draft")
    a = STAFF[who]
    assert can.is_challenge_staff(a, draft, PROGRAMME, SPONSORS)
    assert can.can_view_challenge(a, draft, PROGRAMME, SPONSORS)
    assert can.can_edit_challenge(a, draft, PROGRAMME, SPONSORS)
    assert can.can_delete_challenge(a, draft, PROGRAMME, SPONSORS)
    assert can.can_answer_question(a, draft, PROGRAMME, SPONSORS)


@pytest.mark.parametrize("who", NOT_STAFF)
def test_anyone_else_does_not_know_a_draft_and_only_reads_a_published_challenge(who: str) -> None:
    a = NOT_STAFF[who]
    assert not can.is_challenge_staff(a, challenge("draft"), PROGRAMME, SPONSORS)
    assert not can.can_view_challenge(a, challenge("draft"), PROGRAMME, SPONSORS)
    assert can.can_view_challenge(a, challenge(), PROGRAMME, SPONSORS)
    assert not can.can_edit_challenge(a, challenge(), PROGRAMME, SPONSORS)
    assert not can.can_answer_question(a, challenge(), PROGRAMME, SPONSORS)


def test_only_a_sponsors_member_is_sponsor_staff() -> None:
    assert can.is_sponsor_staff(STAFF["co-sponsor"], SPONSORS)
    assert not can.is_sponsor_staff(STAFF["operator"], SPONSORS)
    assert not can.is_sponsor_staff(STAFF["platform admin"], SPONSORS)
    assert not can.is_sponsor_staff(NOT_STAFF["inactive lead sponsor"], SPONSORS)


def test_an_archived_challenge_is_read_only_and_a_once_published_one_is_never_deleted() -> None:
    lead = STAFF["lead sponsor"]
    assert not can.can_edit_challenge(lead, challenge("archived"), PROGRAMME, SPONSORS)
    assert not can.can_upload_data(lead, challenge("archived"), PROGRAMME, SPONSORS)
    assert can.can_edit_challenge(lead, challenge("awarded"), PROGRAMME, SPONSORS)
    assert not can.can_delete_challenge(lead, challenge(), PROGRAMME, SPONSORS)
    assert not can.can_delete_challenge(lead, challenge("draft", published_at=utcnow()), PROGRAMME, SPONSORS)


def test_questions_are_asked_signed_in_on_public_challenges_only() -> None:
    assert can.can_ask_question(NOT_STAFF["startup member"], challenge())
    assert not can.can_ask_question(ANONYMOUS, challenge())
    assert not can.can_ask_question(NOT_STAFF["inactive lead sponsor"], challenge())
    assert not can.can_ask_question(STAFF["lead sponsor"], challenge("draft"))


def test_programme_staff_and_admins_write_challenges() -> None:
    for a in (actor(OPERATOR), actor(CITY), actor(LEAD), actor(admin=True)):
        assert can.can_create_challenge(a, PROGRAMME, {LEAD})
    for a in (ANONYMOUS, actor(STARTUP), actor(OTHER_PARTNER), actor(LEAD, active=False)):
        assert not can.can_create_challenge(a, PROGRAMME, {LEAD})


def test_one_leads_for_ones_own_organisation_unless_operator_of_the_programme_or_admin() -> None:
    assert can.can_name_lead_sponsor(actor(LEAD), PROGRAMME, LEAD)
    assert not can.can_name_lead_sponsor(actor(LEAD), PROGRAMME, CO_SPONSOR)
    assert can.can_name_lead_sponsor(actor(OPERATOR), PROGRAMME, CO_SPONSOR)
    assert can.can_name_lead_sponsor(actor(admin=True), PROGRAMME, CO_SPONSOR)
    other = Programme(id=2, slug="o", name="O", operator_id=99)
    assert not can.can_name_lead_sponsor(actor(OPERATOR), other, CO_SPONSOR)
    assert not can.can_name_lead_sponsor(actor(LEAD, active=False), PROGRAMME, LEAD)


def test_cities_partners_and_operators_sponsor_challenges_startups_do_not() -> None:
    sponsor = {kind: can.can_sponsor(Organisation(slug=kind, name=kind, kind=kind)) for kind in set(KINDS.values())}
    assert sponsor == {"city": True, "partner": True, "operator": True, "startup": False}


def test_those_who_may_have_drafts_are_offered_the_draft_status_in_lists() -> None:
    everyone = ("published", "closed", "awarded", "archived")
    assert can.statuses_listed_for(ANONYMOUS) == everyone
    assert can.statuses_listed_for(actor(STARTUP)) == everyone
    for a in (actor(LEAD), actor(CITY), actor(OPERATOR), actor(admin=True)):
        assert can.statuses_listed_for(a) == ("draft", *everyone)


def test_anyone_signed_in_follows_a_challenge() -> None:
    assert can.can_follow_challenge(actor(STARTUP)) and can.can_follow_challenge(actor(LEAD))
    assert not can.can_follow_challenge(ANONYMOUS)
    assert not can.can_follow_challenge(actor(STARTUP, active=False))
