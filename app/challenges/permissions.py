"""Who may do what with challenges and their questions: small pure predicates, deny by default.

A challenge's sponsors are its lead sponsor and co-sponsors; its staff are the sponsors' members, the
programme operator's members and platform admins. Drafts are visible to staff only (others get 404).
"""

from collections.abc import Collection

from app.accounts.permissions import is_platform_admin
from app.challenges.models import Challenge, ChallengeStatus
from app.programmes.models import Programme
from app.programmes.permissions import is_programme_operator, is_programme_staff
from app.security.actor import Actor


def is_sponsor_staff(actor: Actor, sponsor_ids: Collection[int]) -> bool:
    return actor.is_authenticated and bool(actor.organisation_ids() & set(sponsor_ids))


def is_challenge_staff(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return is_platform_admin(actor) or is_programme_operator(actor, programme) or is_sponsor_staff(actor, sponsor_ids)


def is_public(challenge: Challenge) -> bool:
    return challenge.status != ChallengeStatus.draft


def can_view_challenge(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return is_public(challenge) or is_challenge_staff(actor, challenge, programme, sponsor_ids)


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
    return is_platform_admin(actor) or (
        actor.is_authenticated and bool(actor.organisation_ids("city", "partner", "operator"))
    )


def can_create_challenge(actor: Actor, programme: Programme, partner_ids: set[int]) -> bool:
    return is_platform_admin(actor) or is_programme_staff(actor, programme, partner_ids)


def can_ask_question(actor: Actor, challenge: Challenge) -> bool:
    return actor.is_authenticated and is_public(challenge)


def can_answer_question(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return is_challenge_staff(actor, challenge, programme, sponsor_ids)


def can_upload_data(actor: Actor, challenge: Challenge, programme: Programme, sponsor_ids: Collection[int]) -> bool:
    return can_edit_challenge(actor, challenge, programme, sponsor_ids)
