"""The acting subject of a request: a user (or nobody) with memberships, client address and token scopes."""

from dataclasses import dataclass, field

from app.accounts.models import User


@dataclass(frozen=True)
class MembershipInfo:
    organisation_id: int
    kind: str
    role: str


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    memberships: tuple[MembershipInfo, ...] = ()
    ip: str | None = None
    scopes: frozenset[str] | None = None  # None: a browser session, which is not narrowed by scopes
    token_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None and self.user.is_active

    def role_in(self, organisation_id: int) -> str | None:
        for m in self.memberships:
            if m.organisation_id == organisation_id:
                return m.role
        return None

    def organisation_ids(self, *kinds: str) -> set[int]:
        return {m.organisation_id for m in self.memberships if not kinds or m.kind in kinds}


ANONYMOUS = Actor()
