"""Test factories: they add and flush rows in the test's session, never commit."""

import itertools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts import tokens
from app.accounts.models import ApiToken, Organisation, User
from app.accounts.schemas import TokenCreate
from app.challenges.models import Challenge, ChallengeSponsor, ChallengeTerms
from app.db import utcnow
from app.programmes.models import Programme, ProgrammePartner
from app.proposals import service as proposal_service
from app.proposals.models import Proposal
from app.proposals.schemas import ProposalCreate
from app.security.actor import Actor
from app.security.passwords import hash_password

PASSWORD = "correct-horse-battery-42"
# What a complete proposal holds (the fields a submission requires, and a team, a TRL and a plan).
COMPLETE_PROPOSAL: dict[str, Any] = {
    "title": "LeakSense",
    "summary": "Acoustic sensors find leaks early.",
    "description": "Sensors on valves, a model that listens.",
    "data_use": "We train on the network's pressure data.",
    "experimentation_plan": "Twelve sensors in Ain Sebaâ for three months.",
    "team": [{"name": "Salma", "role": "CEO"}],
    "trl": 5,
    "plan": [{"month": 1, "milestone": "Sensors installed"}],
}
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose
_counter = itertools.count(1)


class Factory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def organisation(self, kind: str = "startup", slug: str | None = None, name: str | None = None) -> Organisation:
        n = next(_counter)
        organisation, _ = accounts.ensure_organisation(
            self.session, slug=slug or f"{kind}-{n}", name=name or f"{kind.title()} {n}", kind=kind
        )
        return organisation

    def user(
        self,
        email: str | None = None,
        *,
        organisation: Organisation | None = None,
        role: str = "member",
        platform_admin: bool = False,
        name: str | None = None,
        unconfirmed: bool = False,
    ) -> User:
        n = next(_counter)
        # an address at its organisation's own domain (a juror sharing it with a startup's member is conflicted
        # with that startup), or at a domain of its own
        domain = f"{organisation.slug}.example" if organisation is not None else f"person{n}.example"
        user = User(
            email=email or f"user{n}@{domain}",
            name=name or f"User {n}",
            password_hash=_PASSWORD_HASH,
            is_platform_admin=platform_admin,
            email_verified_at=None if unconfirmed else utcnow(),
        )
        self.session.add(user)
        self.session.flush()
        if organisation is not None:
            accounts.add_membership(self.session, user, organisation, role)
        return user

    def member(self, kind: str, role: str = "member") -> tuple[User, Organisation]:
        organisation = self.organisation(kind)
        return self.user(organisation=organisation, role=role), organisation

    def actor(self, user: User | None) -> Actor:
        return accounts.build_actor(self.session, user, ip="203.0.113.9")

    def token(self, user: User, scope: str = "read") -> tuple[ApiToken, str]:
        return tokens.create_token(self.session, self.actor(user), TokenCreate(name="test", scope=scope))  # type: ignore[arg-type]

    def programme(
        self,
        operator: Organisation | None = None,
        *,
        partners: Sequence[Organisation] = (),
        slug: str | None = None,
        name: str | None = None,
        **fields: object,
    ) -> Programme:
        """A programme run by `operator` (else a new operator), with `partners` as its partners."""
        n = next(_counter)
        operator = operator or self.organisation("operator")
        programme = Programme(
            slug=slug or f"programme-{n}", name=name or f"Programme {n}", operator_id=operator.id, **fields
        )
        self.session.add(programme)
        self.session.flush()
        for partner in partners:
            self.session.add(ProgrammePartner(programme_id=programme.id, organisation_id=partner.id))
        self.session.flush()
        return programme

    def published_challenge(
        self,
        sponsor: Organisation,
        *,
        slug: str | None = None,
        programme: Programme | int | None = None,
        co_sponsors: Sequence[Organisation] = (),
        terms: dict[str, object] | None = None,
        **fields: object,
    ) -> Challenge:
        """A challenge open for proposals (deadline in ten days, terms version 1) led by `sponsor` (with
        `co_sponsors`), in the given programme or else a new programme run by a new operator with the sponsor as
        partner. `terms`: the columns of its terms (app.challenges.terms.terms_values), else one short English
        text. `fields`: any other column (a `status="draft"` challenge has no publication time)."""
        n = next(_counter)
        if programme is None:
            programme = self.programme(partners=[sponsor])
        values: dict[str, object] = {
            "slug": slug or f"challenge-{n}",
            "title": f"Challenge {n}",
            "summary": "Find leaks.",
            "problem": "Leaks.",
            "themes": ["water"],
            "deadline": utcnow() + timedelta(days=10),
            "status": "published",
            **fields,
        }
        values.setdefault("published_at", utcnow() if values["status"] == "published" else None)
        programme_id = programme if isinstance(programme, int) else programme.id
        challenge = Challenge(programme_id=programme_id, lead_sponsor_id=sponsor.id, **values)
        self.session.add(challenge)
        self.session.flush()
        for organisation in co_sponsors:
            self.session.add(ChallengeSponsor(challenge_id=challenge.id, organisation_id=organisation.id))
        terms = terms or {"ip_terms": "IP stays with the startup."}
        self.session.add(ChallengeTerms(challenge_id=challenge.id, version=1, **terms))  # type: ignore[arg-type]
        self.session.flush()
        return challenge

    def draft_challenge(self, sponsor: Organisation, **fields: object) -> Challenge:
        """A challenge its staff are still writing (not public), otherwise as published_challenge."""
        return self.published_challenge(sponsor, status="draft", **fields)

    def proposal(self, author: User, challenge: Challenge, *, submitted: bool = False, **fields: object) -> Proposal:
        """A draft written by `author` (a member of one startup) for `challenge`, complete unless `fields` say
        otherwise (COMPLETE_PROPOSAL); `submitted=True` submits it, accepting the challenge's current terms.
        Through the proposals service, as a startup would."""
        actor = self.actor(author)
        view = proposal_service.create_proposal(
            self.session, actor, ProposalCreate(challenge=challenge.id, **{**COMPLETE_PROPOSAL, **fields})
        )
        if submitted:
            proposal_service.submit_proposal(self.session, actor, view, accept_terms=True)
        return view.proposal
