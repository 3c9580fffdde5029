"""The parts of a challenge's page that come from the domains built on challenges: its datasets, where the
reader stands on proposals (their startups' own, whether they may apply, or the staff's counts), the jury
rounds for the staff, and the startups selected once a round's outcomes are published (for everyone).

The challenge page is drawn by app/challenges/web.py, which imports none of those domains: create_app installs
these sections into it.
"""

from typing import Any

from sqlmodel import Session

from app.challenges import web as challenges_web
from app.challenges.service import ChallengeView
from app.datasets import service as datasets
from app.db import utcnow
from app.jury import records as jury
from app.proposals import permissions as proposal_can
from app.proposals import queries as proposals
from app.security.actor import Actor
from app.selection import publication


def proposals_section(session: Session, actor: Actor, challenge: ChallengeView) -> dict[str, Any]:
    own = proposals.own_applications(session, actor, challenge)
    staff = challenge.is_staff(actor)
    return {
        "own_proposals": own.proposals,
        "applying_startups": own.applying,
        "may_apply": bool(own.applying) and proposal_can.can_create_proposal(actor, challenge.challenge, utcnow()),
        "proposal_listing": proposals.challenge_proposals(session, actor, challenge, counts_only=True)
        if staff
        else None,
    }


def jury_section(session: Session, actor: Actor, challenge: ChallengeView) -> dict[str, Any]:
    """The challenge's rounds, for its staff only (a juror finds their rounds on their jury page)."""
    return {"jury_rounds": jury.list_rounds(session, actor, challenge) if challenge.is_staff(actor) else None}


def results_section(session: Session, actor: Actor, challenge: ChallengeView) -> dict[str, Any]:
    """The startups selected in the challenge's published rounds: public, nothing before publication."""
    return {"selected_startups": publication.selected_startups(session, challenge.challenge.id or 0)}


SECTIONS: tuple[challenges_web.PageSection, ...] = (
    datasets.challenge_datasets_context,
    proposals_section,
    jury_section,
    results_section,
)


def install() -> None:
    """Have the challenge page draw these sections (create_app calls it)."""
    challenges_web.PAGE_SECTIONS[:] = SECTIONS
