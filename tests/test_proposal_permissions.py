"""Who may see and do what with proposals: the predicates of app/proposals/permissions.py on their own, and each
rule that selects lists agreeing with its SQL form on a sample world (several actors, proposals in every state,
challenges before and after their deadline)."""

from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.accounts.models import Membership, OrgKind, User
from app.challenges import service as challenges
from app.challenges.models import Challenge, ChallengeStatus
from app.db import utcnow
from app.proposals import permissions as can
from app.proposals import records
from app.proposals import service as proposal_service
from app.proposals.models import Proposal, ProposalStatus
from app.security.actor import ANONYMOUS, Actor, MembershipInfo

NOW = utcnow()


def _actor(*memberships: tuple[int, str], active: bool = True) -> Actor:
    user = User(id=1, email="a@example.org", name="A", password_hash="x", is_active=active)
    return Actor(user=user, memberships=tuple(MembershipInfo(o, kind, "member") for o, kind in memberships))


def _challenge(*, deadline_in: timedelta, status: str = ChallengeStatus.published) -> Challenge:
    return Challenge(
        id=1, programme_id=1, lead_sponsor_id=9, slug="c", title="C", deadline=NOW + deadline_in, status=status
    )


def _proposal(status: str = ProposalStatus.draft, startup: int = 5) -> Proposal:
    return Proposal(id=1, challenge_id=1, startup_id=startup, status=status)


OPEN = _challenge(deadline_in=timedelta(days=3))
CLOSED = _challenge(deadline_in=-timedelta(minutes=1))
MEMBER = _actor((5, OrgKind.startup))


# ---- the predicates ------------------------------------------------------------------------------------------


def test_the_deadline_has_passed_at_the_very_second_it_falls():
    at = _challenge(deadline_in=timedelta(0))
    assert can.deadline_passed(at, at.deadline)
    assert not can.deadline_passed(at, at.deadline - timedelta(microseconds=1))


def test_only_an_active_member_of_the_startup_itself_is_its_member():
    assert can.is_startup_member(MEMBER, _proposal())
    assert not can.is_startup_member(_actor((5, OrgKind.partner)), _proposal())
    assert not can.is_startup_member(_actor((5, OrgKind.startup), active=False), _proposal())
    assert not can.is_startup_member(ANONYMOUS, _proposal())


def test_the_startup_reads_its_proposal_in_every_state_and_at_any_time():
    for status in ProposalStatus:
        for challenge in (OPEN, CLOSED):
            assert can.can_view_proposal(MEMBER, _proposal(status), challenge, staff=False, now=NOW)


def test_the_staff_read_a_submitted_proposal_only_after_the_deadline():
    staff = _actor((9, OrgKind.partner))
    submitted = _proposal(ProposalStatus.submitted)
    assert not can.can_view_proposal(staff, submitted, OPEN, staff=True, now=NOW)
    assert can.can_view_proposal(staff, submitted, CLOSED, staff=True, now=NOW)
    assert not can.can_view_proposal(staff, submitted, CLOSED, staff=False, now=NOW)


def test_drafts_and_withdrawn_proposals_are_never_readable_by_the_staff():
    staff = _actor((9, OrgKind.partner))
    for status in (ProposalStatus.draft, ProposalStatus.withdrawn):
        assert not can.was_submitted(_proposal(status))
        assert not can.is_staff_readable(_proposal(status), CLOSED, staff=True, now=NOW)
        assert not can.can_view_proposal(staff, _proposal(status), CLOSED, staff=True, now=NOW)
    for status in can.REVIEWABLE:
        assert can.is_staff_readable(_proposal(status), CLOSED, staff=True, now=NOW)


def test_only_the_startup_edits_and_only_while_the_call_is_open():
    assert can.can_edit_proposal(MEMBER, _proposal(), OPEN, NOW)
    assert not can.can_edit_proposal(MEMBER, _proposal(), CLOSED, NOW)
    assert not can.can_edit_proposal(
        MEMBER, _proposal(), _challenge(deadline_in=timedelta(days=3), status="closed"), NOW
    )
    assert not can.can_edit_proposal(_actor((6, OrgKind.startup)), _proposal(), OPEN, NOW)
    assert not can.can_edit_proposal(MEMBER, _proposal(ProposalStatus.eligible), OPEN, NOW)


def test_only_a_submitted_proposal_is_withdrawn():
    assert can.can_withdraw_proposal(MEMBER, _proposal(ProposalStatus.submitted), OPEN, NOW)
    assert not can.can_withdraw_proposal(MEMBER, _proposal(ProposalStatus.draft), OPEN, NOW)
    assert not can.can_withdraw_proposal(MEMBER, _proposal(ProposalStatus.submitted), CLOSED, NOW)


def test_a_startup_member_creates_proposals_while_the_call_is_open():
    assert can.can_create_proposal(MEMBER, OPEN, NOW)
    assert not can.can_create_proposal(MEMBER, CLOSED, NOW)
    assert not can.can_create_proposal(_actor((9, OrgKind.partner)), OPEN, NOW)
    assert not can.can_create_proposal(ANONYMOUS, OPEN, NOW)


def test_the_staff_check_eligibility_after_the_deadline_of_a_submitted_or_checked_proposal():
    staff = _actor((9, OrgKind.partner))
    for status in (ProposalStatus.submitted, ProposalStatus.eligible, ProposalStatus.ineligible):
        assert can.can_check_eligibility(staff, _proposal(status), CLOSED, staff=True, now=NOW)
        assert not can.can_check_eligibility(staff, _proposal(status), OPEN, staff=True, now=NOW)
        assert not can.can_check_eligibility(staff, _proposal(status), CLOSED, staff=False, now=NOW)
    assert not can.can_check_eligibility(staff, _proposal(ProposalStatus.draft), CLOSED, staff=True, now=NOW)


# ---- the predicates and their SQL forms agree ----------------------------------------------------------------


@pytest.fixture
def world(db, make):
    operator = make.organisation("operator")
    lead, other_partner = make.organisation("partner"), make.organisation("partner")
    startups = [make.organisation("startup") for _ in range(3)]
    main = make.programme(operator, partners=[lead])
    other = make.programme(partners=[other_partner])
    writers = [make.user(organisation=s) for s in startups]
    made = [
        make.published_challenge(lead, programme=main),  # stays open
        make.published_challenge(lead, programme=main),  # closes
        make.published_challenge(other_partner, programme=other),  # closes
    ]
    proposals = []
    for challenge in made:
        drafted = make.proposal(writers[0], challenge)
        submitted = make.proposal(writers[1], challenge, submitted=True)
        withdrawn = make.proposal(writers[2], challenge, submitted=True)
        actor = make.actor(writers[2])
        proposal_service.withdraw_proposal(db, actor, records.get_proposal(db, actor, withdrawn.id))
        proposals += [drafted, submitted, withdrawn]
    late_comer = make.user(organisation=make.organisation("startup"))
    proposals.append(make.proposal(late_comer, made[2], submitted=True))
    for challenge in made[1:]:
        challenge.deadline = utcnow() - timedelta(hours=1)
        db.add(challenge)
    eligible = next(p for p in proposals if p.challenge_id == made[1].id and p.status == ProposalStatus.submitted)
    eligible.status = ProposalStatus.eligible
    db.add(eligible)
    db.flush()
    two_hats = make.user(organisation=startups[1])  # writes for a startup, and sits in the other sponsor
    db.add(Membership(user_id=two_hats.id, organisation_id=other_partner.id, role="member"))
    db.flush()
    users = {
        "drafting startup": writers[0],
        "submitting startup": writers[1],
        "withdrawing startup": writers[2],
        "lead sponsor staff": make.user(organisation=lead),
        "operator staff": make.user(organisation=operator),
        "other sponsor staff": make.user(organisation=other_partner),
        "startup member and other sponsor staff": two_hats,
        "platform admin": make.user(platform_admin=True),
    }
    actors = {"anonymous": ANONYMOUS} | {name: make.actor(user) for name, user in users.items()}
    return {"actors": actors, "proposals": [db.get(Proposal, p.id) for p in proposals], "challenges": made}


def _selected(db, condition, proposals):
    return set(db.exec(select(Proposal.id).where(condition, col(Proposal.id).in_([p.id for p in proposals]))))


def test_the_sample_world_holds_every_case(world):
    statuses = {p.status for p in world["proposals"]}
    assert statuses == {
        ProposalStatus.draft,
        ProposalStatus.submitted,
        ProposalStatus.withdrawn,
        ProposalStatus.eligible,
    }
    now = utcnow()
    assert [can.deadline_passed(c, now) for c in world["challenges"]] == [False, True, True]


def test_each_rule_selects_in_sql_the_proposals_its_predicate_allows(db, world):
    now = utcnow()
    views = {v.challenge.id: v for v in challenges.views_for(db, [c.id for c in world["challenges"]])}
    proposals = world["proposals"]
    for name, actor in world["actors"].items():

        def allowed(rule, actor=actor):
            return {
                p.id
                for p in proposals
                if rule(actor, p, views[p.challenge_id].challenge, views[p.challenge_id].is_staff(actor))
            }

        own = allowed(lambda a, p, c, staff: can.is_startup_member(a, p))
        readable = allowed(lambda a, p, c, staff: can.is_staff_readable(p, c, staff=staff, now=now))
        visible = allowed(lambda a, p, c, staff: can.can_view_proposal(a, p, c, staff=staff, now=now))
        assert _selected(db, can.own_proposals(actor), proposals) == own, name
        assert _selected(db, can.staff_readable_proposals(actor, now), proposals) == readable, name
        assert _selected(db, can.visible_proposals(actor, now), proposals) == visible, name
    submitted = {p.id for p in proposals if can.was_submitted(p)}
    assert _selected(db, can.submitted_proposals(), proposals) == submitted


def test_the_sample_world_tells_the_rules_apart(db, world):
    """The agreement above is not vacuous: the staff read some proposals, not all, and not their drafts."""
    now = utcnow()
    proposals = world["proposals"]
    lead = world["actors"]["lead sponsor staff"]
    readable = _selected(db, can.staff_readable_proposals(lead, now), proposals)
    closed_here = world["challenges"][1].id
    assert (
        readable == {p.id for p in proposals if p.challenge_id == closed_here and p.status in can.REVIEWABLE}
        and len(readable) == 1
    )
    two_hats = world["actors"]["startup member and other sponsor staff"]
    visible = _selected(db, can.visible_proposals(two_hats, now), proposals)
    submitting = world["actors"]["submitting startup"]
    assert visible > _selected(db, can.own_proposals(submitting), proposals)
    assert _selected(db, can.visible_proposals(ANONYMOUS, now), proposals) == set()
