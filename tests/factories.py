"""Test factories: they add and flush rows in the test's session, never commit."""

import itertools
from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts import tokens
from app.accounts.models import ApiToken, Organisation, User
from app.accounts.schemas import TokenCreate
from app.challenges.models import Challenge, ChallengeSponsor, ChallengeTerms
from app.db import utcnow
from app.programmes.models import Programme, ProgrammePartner
from app.security.actor import Actor
from app.security.passwords import hash_password

PASSWORD = "correct-horse-battery-42"
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
        user = User(
            email=email or f"user{n}@example.org",
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

    def published_challenge(
        self,
        sponsor: Organisation,
        *,
        slug: str | None = None,
        programme: int | None = None,
        co_sponsors: Sequence[Organisation] = (),
        terms: dict[str, object] | None = None,
        **fields: object,
    ) -> Challenge:
        """A challenge open for proposals (deadline in ten days, terms version 1) led by `sponsor` (with
        `co_sponsors`), in the programme given by id or else a new programme run by a new operator with the
        sponsor as partner. `terms`: the columns of its terms (app.challenges.terms.terms_values), else one
        short English text."""
        n = next(_counter)
        if programme is None:
            operator = self.organisation("operator")
            new = Programme(slug=f"programme-{n}", name=f"Programme {n}", operator_id=operator.id)
            self.session.add(new)
            self.session.flush()
            self.session.add(ProgrammePartner(programme_id=new.id, organisation_id=sponsor.id))
            programme = new.id
        values: dict[str, object] = {
            "slug": slug or f"challenge-{n}",
            "title": f"Challenge {n}",
            "summary": "Find leaks.",
            "problem": "Leaks.",
            "themes": ["water"],
            "deadline": utcnow() + timedelta(days=10),
            "status": "published",
            "published_at": utcnow(),
            **fields,
        }
        challenge = Challenge(programme_id=programme, lead_sponsor_id=sponsor.id, **values)
        self.session.add(challenge)
        self.session.flush()
        for organisation in co_sponsors:
            self.session.add(ChallengeSponsor(challenge_id=challenge.id, organisation_id=organisation.id))
        terms = terms or {"ip_terms": "IP stays with the startup."}
        self.session.add(ChallengeTerms(challenge_id=challenge.id, version=1, **terms))  # type: ignore[arg-type]
        self.session.flush()
        return challenge
