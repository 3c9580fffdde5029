"""Who may do what with challenges and their questions: small pure predicates, deny by default.

A challenge's sponsors are its lead sponsor and co-sponsors; its staff are the sponsors' members, the
programme operator's members and platform admins. Drafts are visible to staff only (others get 404).

A rule that also filters lists has its SQL form beside its predicate (public_challenges beside is_public,
sponsored_challenges beside is_sponsor_staff, staff_challenges beside is_challenge_staff, visible_challenges
beside can_view_challenge): a condition on Challenge that selects the same rows. tests/test_rule_agreement.py
checks that each pair agrees.
"""

from collections.abc import Collection

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import col, select

from app.accounts.models import Organisation, OrgKind
from app.accounts.permissions import is_platform_admin
from app.challenges.models import (
    LISTED_STATUSES,
    STORED_PUBLIC_STATUSES,
    Challenge,
    ChallengeSponsor,
    ChallengeStatus,
)
from app.programmes.models import Programme
from app.programmes.permissions import is_programme_operator, is_programme_staff, operated_programmes
from app.security.actor import Actor

# The kinds of organisation that may lead or co-sponsor a challenge (a startup never does).
SPONSOR_KINDS = (OrgKind.city, OrgKind.partner, OrgKind.operator)


def can_sponsor(organisation: Organisation) -> bool:
    return organisation.kind in SPONSOR_KINDS


def is_sponsor_staff(actor: Actor, sponsor_ids: Collection[int]) -> bool:
    return actor.is_authenticated and bool(actor.organisation_ids() & set(sponsor_ids))


def sponsored_challenges(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of is_sponsor_staff: the challenges that the actor's organisations lead or co-sponsor."""
    if not actor.is_authenticated or not actor.organisation_ids():
        return false()
    mine = actor.organisation_ids()
    co_sponsored = select(ChallengeSponsor.challenge_id).where(col(ChallengeSponsor.organisation_id).in_(mine))
    return or_(col(Challenge.lead_sponsor_id).in_(mine), col(Challenge.id).in_(co_sponsored))


def is_challenge_staff(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return is_platform_admin(actor) or is_programme_operator(actor, programme) or is_sponsor_staff(actor, sponsor_ids)


def staff_challenges(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of is_challenge_staff."""
    if is_platform_admin(actor):
        return true()
    operated = select(Programme.id).where(operated_programmes(actor))
    return or_(sponsored_challenges(actor), col(Challenge.programme_id).in_(operated))


def is_public(challenge: Challenge) -> bool:
    return challenge.status != ChallengeStatus.draft


def public_challenges() -> ColumnElement[bool]:
    """The SQL form of is_public."""
    return col(Challenge.status).in_([s.value for s in STORED_PUBLIC_STATUSES])


def can_view_challenge(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return is_public(challenge) or is_challenge_staff(actor, challenge, programme, sponsor_ids)


def visible_challenges(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of can_view_challenge: public challenges, and the drafts the actor is staff of."""
    if not actor.is_authenticated:
        return public_challenges()
    return or_(public_challenges(), staff_challenges(actor))


def can_edit_challenge(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return challenge.status != ChallengeStatus.archived and is_challenge_staff(actor, challenge, programme, sponsor_ids)


def can_delete_challenge(
    actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]
) -> bool:
    """A draft that was never published, by those who may edit it; a published challenge is archived instead."""
    return (
        challenge.status == ChallengeStatus.draft
        and challenge.published_at is None
        and can_edit_challenge(actor, challenge, programme, sponsor_ids)
    )


def may_have_drafts(actor: Actor) -> bool:
    """Whether the actor can be staff of a draft at all (sponsors' and operators' members, platform admins):
    the challenge list offers them a "Draft" filter."""
    return is_platform_admin(actor) or (actor.is_authenticated and bool(actor.organisation_ids(*SPONSOR_KINDS)))


def statuses_listed_for(actor: Actor) -> tuple[str, ...]:
    """The statuses a challenge list offers to filter by: draft too for those who may have drafts."""
    listed = tuple(s.value for s in LISTED_STATUSES)
    return (ChallengeStatus.draft.value, *listed) if may_have_drafts(actor) else listed


def can_create_challenge(actor: Actor, programme: Programme, partner_ids: set[int]) -> bool:
    return is_platform_admin(actor) or is_programme_staff(actor, programme, partner_ids)


def can_name_lead_sponsor(actor: Actor, programme: Programme, organisation_id: int) -> bool:
    """Who writes a challenge leads it for their own organisation; the programme's operator and platform
    admins may name any sponsor organisation (can_sponsor) as its lead."""
    return (
        is_platform_admin(actor)
        or (actor.is_authenticated and organisation_id in actor.organisation_ids())
        or is_programme_operator(actor, programme)
    )


def can_follow_challenge(actor: Actor) -> bool:
    return actor.is_authenticated and actor.user_id is not None


def can_ask_question(actor: Actor, challenge: Challenge) -> bool:
    return actor.is_authenticated and is_public(challenge)


def can_answer_question(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return is_challenge_staff(actor, challenge, programme, sponsor_ids)


def can_upload_data(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return can_edit_challenge(actor, challenge, programme, sponsor_ids)
