"""Who manages an organisation's members, and who sees them: the organisation's admins and platform admins,
nobody else — operator staff included (the red-team's organisation takeover, H2)."""

import pytest
from sqlmodel import select

from app.accounts import permissions as can
from app.accounts import service as accounts
from app.accounts.models import Invitation, Membership, Organisation
from app.accounts.schemas import InvitationCreate, OrganisationCreate
from app.errors import Forbidden, Invalid, NotFound
from tests.conftest import post_form, sign_in


def _api(client, make, user):
    return {"Authorization": f"Bearer {make.token(user, 'write')[1]}", "Accept-Language": "en"}


@pytest.mark.parametrize("kind", ["city", "partner", "operator"])
def test_a_member_of_an_unrelated_operator_cannot_invite_itself_into_an_organisation(client, db, make, kind):
    intruder, _ = make.member("operator", "member")
    target = make.organisation(kind)
    response = client.post(
        f"/api/v1/organisations/{target.id}/invitations",
        json={"email": "attacker@attacker-mail.example", "role": "admin"},
        headers=_api(client, make, intruder),
    )
    assert response.status_code == 403
    assert "link" not in response.text
    assert db.exec(select(Invitation).where(Invitation.organisation_id == target.id)).all() == []


def test_the_page_refuses_the_same_invitation(client, db, make):
    intruder, _ = make.member("operator", "admin")
    target = make.organisation("partner")
    sign_in(client, intruder.email)
    page = f"/organisations/{target.slug}"
    response = post_form(
        client, f"{page}/invitations", {"email": "x@attacker-mail.example", "role": "admin"}, page=page
    )
    assert response.status_code == 403
    assert db.exec(select(Invitation).where(Invitation.organisation_id == target.id)).all() == []


def test_a_startup_is_hidden_from_operator_staff_with_its_members_emails(client, make):
    operator, _ = make.member("operator", "admin")
    startup_admin, startup = make.member("startup", "admin")
    sign_in(client, operator.email)
    assert client.get(f"/organisations/{startup.slug}").status_code == 404
    listed = client.get("/organisations")
    assert startup.name not in listed.text
    api = client.get("/api/v1/organisations", headers=_api(client, make, operator)).json()
    assert startup.id not in {o["id"] for o in api["items"]}
    assert startup_admin.email not in listed.text


def test_operator_staff_see_a_partner_in_the_directory_but_not_its_members(client, make):
    operator, _ = make.member("operator", "member")
    partner_admin, partner = make.member("partner", "admin")
    sign_in(client, operator.email)
    page = client.get(f"/organisations/{partner.slug}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and partner.name in page.text
    assert partner_admin.email not in page.text and "Members" not in page.text
    assert "Invite someone" not in page.text


def test_an_operator_member_cannot_promote_itself_nor_demote_its_admins(client, db, make):
    member, operator_org = make.member("operator", "member")
    admin = make.user(organisation=operator_org, role="admin")
    own = db.exec(select(Membership).where(Membership.user_id == member.id)).one()
    theirs = db.exec(select(Membership).where(Membership.user_id == admin.id)).one()
    sign_in(client, member.email)
    page = f"/organisations/{operator_org.slug}"
    promote = post_form(client, f"{page}/members/{own.id}/role", {"role": "admin"}, page=page)
    demote = post_form(client, f"{page}/members/{theirs.id}/role", {"role": "member"}, page=page)
    assert (promote.status_code, demote.status_code) == (403, 403)
    db.expire_all()
    assert (db.get(Membership, own.id).role, db.get(Membership, theirs.id).role) == ("member", "admin")


def test_nobody_changes_their_own_role_or_removes_themselves_not_even_a_platform_admin(db, make):
    admin, organisation = make.member("partner", "admin")
    make.user(organisation=organisation, role="admin")  # a second admin: demoting the first would be allowed
    platform = make.user(platform_admin=True)
    accounts.add_membership(db, platform, organisation, "member")
    for user, role in ((admin, "member"), (platform, "admin")):
        own = db.exec(select(Membership).where(Membership.user_id == user.id)).one()
        with pytest.raises(Forbidden):
            accounts.change_role(db, make.actor(user), own.id, role)
        with pytest.raises(Forbidden):
            accounts.remove_member(db, make.actor(user), own.id)
    colleague = make.user(organisation=organisation, role="member")
    theirs = db.exec(select(Membership).where(Membership.user_id == colleague.id)).one()
    assert accounts.change_role(db, make.actor(admin), theirs.id, "admin").role == "admin"


def test_a_plain_member_sees_its_colleagues_but_manages_nobody(db, make):
    member, organisation = make.member("city", "member")
    colleague = make.user(organisation=organisation, role="admin")
    actor = make.actor(member)
    assert {u.email for _, u in accounts.list_members(db, actor, organisation)} == {member.email, colleague.email}
    with pytest.raises(Forbidden):
        accounts.invite(db, actor, organisation, InvitationCreate(email="new@example.org", role="member"))


def test_membership_ids_of_an_organisation_one_cannot_see_members_of_are_unknown(db, make):
    operator, _ = make.member("operator", "admin")
    _, partner = make.member("partner", "admin")
    membership = db.exec(select(Membership).where(Membership.organisation_id == partner.id)).one()
    with pytest.raises(NotFound):
        accounts.change_role(db, make.actor(operator), membership.id, "member")
    with pytest.raises(NotFound):
        accounts.remove_member(db, make.actor(operator), membership.id)


def test_creating_an_organisation_invites_its_first_admin(db, make):
    operator, _ = make.member("operator", "member")
    actor = make.actor(operator)
    with pytest.raises(Invalid) as refused:
        accounts.create_organisation(db, actor, OrganisationCreate(kind="partner", name="Casa Bus"))
    assert set(refused.value.errors) == {"admin_email"}
    created = accounts.create_organisation(
        db, actor, OrganisationCreate(kind="partner", name="Casa Bus", admin_email="dg@casabus.example")
    )
    invitation = db.exec(select(Invitation).where(Invitation.organisation_id == created.id)).one()
    assert (invitation.email, invitation.role) == ("dg@casabus.example", "admin")
    assert not can.can_manage_members(actor, created)  # the creator itself does not manage it


def test_the_visible_organisations_filter_agrees_with_the_predicate(db, make):
    organisations = [make.organisation(kind) for kind in ("city", "partner", "startup", "operator")]
    member, own_startup = make.member("startup", "member")
    operator_staff, _ = make.member("operator", "member")
    actors = [
        make.actor(None),
        make.actor(member),
        make.actor(operator_staff),
        make.actor(make.user(platform_admin=True)),
    ]
    everything = [*organisations, own_startup]
    for actor in actors:
        by_sql = set(db.exec(select(Organisation.id).where(can.visible_organisations(actor))).all())
        by_predicate = {o.id for o in db.exec(select(Organisation)).all() if can.can_view_organisation(actor, o)}
        assert by_sql == by_predicate
        assert {o.id for o in everything if can.can_view_organisation(actor, o)} <= by_sql
