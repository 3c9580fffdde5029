"""Test factories: they add and flush rows in the test's session, never commit."""

import itertools

from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts import tokens
from app.accounts.models import ApiToken, Organisation, User
from app.accounts.schemas import TokenCreate
from app.db import utcnow
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
