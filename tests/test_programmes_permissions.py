"""The programmes domain's predicates on their own (no database): operator and programme staff, who creates
and edits a programme and for which operator, which organisations may be its operator, city and partners."""

import pytest

from app.accounts.models import Organisation, User
from app.programmes import permissions as can
from app.programmes.models import Programme
from app.security.actor import ANONYMOUS, Actor, MembershipInfo

OPERATOR, OTHER_OPERATOR, CITY, PARTNER, STARTUP = 1, 2, 3, 4, 5
KINDS = {OPERATOR: "operator", OTHER_OPERATOR: "operator", CITY: "city", PARTNER: "partner", STARTUP: "startup"}
PROGRAMME = Programme(id=1, slug="p", name="P", operator_id=OPERATOR, city_id=CITY)


def actor(*organisations: int, admin: bool = False, active: bool = True) -> Actor:
    user = User(id=1, email="a@example.org", name="A", password_hash="x", is_platform_admin=admin, is_active=active)
    return Actor(user, tuple(MembershipInfo(o, KINDS[o], "member") for o in organisations))


def test_programmes_are_public() -> None:
    assert can.can_view_programme(ANONYMOUS, PROGRAMME)


@pytest.mark.parametrize(
    ("who", "operator", "staff", "edits"),
    [
        (actor(OPERATOR), True, True, True),
        (actor(CITY), False, True, False),
        (actor(PARTNER), False, True, False),
        (actor(OTHER_OPERATOR), False, False, False),
        (actor(STARTUP), False, False, False),
        (actor(OPERATOR, active=False), False, False, False),
        (ANONYMOUS, False, False, False),
        (actor(admin=True), False, False, True),
    ],
)
def test_the_operator_edits_the_programme_its_city_and_partners_are_its_staff(
    who: Actor, operator: bool, staff: bool, edits: bool
) -> None:
    assert can.is_programme_operator(who, PROGRAMME) is operator
    assert can.is_programme_staff(who, PROGRAMME, {PARTNER}) is staff
    assert can.can_edit_programme(who, PROGRAMME) is edits


def test_operator_staff_create_programmes_for_their_own_operator_and_admins_for_any() -> None:
    assert can.can_create_programme(actor(OPERATOR)) and can.can_create_programme(actor(admin=True))
    assert not can.can_create_programme(actor(CITY)) and not can.can_create_programme(ANONYMOUS)
    assert can.can_run_programme_for(actor(OPERATOR), OPERATOR)
    assert not can.can_run_programme_for(actor(OPERATOR), OTHER_OPERATOR)
    assert can.can_run_programme_for(actor(admin=True), OTHER_OPERATOR)
    assert not can.can_run_programme_for(actor(CITY), CITY)
    assert not can.can_run_programme_for(actor(OPERATOR, active=False), OPERATOR)


def test_only_an_operator_runs_a_programme_a_city_is_its_city_and_partners_are_partners() -> None:
    orgs = {kind: Organisation(slug=kind, name=kind, kind=kind) for kind in ("city", "partner", "operator", "startup")}
    assert [k for k, o in orgs.items() if can.can_be_operator(o)] == ["operator"]
    assert [k for k, o in orgs.items() if can.can_be_city(o)] == ["city"]
    assert [k for k, o in orgs.items() if can.can_be_partner(o)] == ["partner"]
