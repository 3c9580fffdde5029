"""Conflicts of interest: which startups a person may not judge, and why.

Rules:
- Declared: a juror declares a conflict with a startup (with a reason), or the staff declare one for a juror.
  It holds in every round: a conflict is a fact about the person, not about one round.
- Automatic: the person is, or was, a member of the startup; or their email address shares its domain with a
  member of the startup, unless the domain is a public mail provider's (PUBLIC_MAIL_PROVIDERS, the one list).
  Automatic conflicts are computed from the accounts each time, never stored: someone who joins a startup
  today is conflicted with it today.

`facts_for` loads, in a constant number of queries, every conflict between a set of people and a set of
startups; `conflicted_startups` is its SQL form for one person (the startups they may not judge), and
tests/test_jury_conflicts.py checks that the two agree.
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, func, union
from sqlmodel import Session, col, select

from app.accounts.models import FormerMembership, Membership, User
from app.i18n import N_
from app.jury.models import ConflictSource, JuryConflict

# Domains anyone can have an address at: sharing one says nothing about a tie to a startup. `medina.test` is the
# demo's: every demo account has an address there, whatever its organisation (app/demo.py).
PUBLIC_MAIL_PROVIDERS = frozenset(
    {
        "medina.test",
        "aol.com", "free.fr", "gmail.com", "gmx.com", "gmx.de", "gmx.fr", "googlemail.com", "hotmail.com",
        "hotmail.fr", "icloud.com", "laposte.net", "live.com", "live.fr", "mac.com", "mail.com", "mail.ru",
        "me.com", "menara.ma", "msn.com", "neuf.fr", "orange.fr", "outlook.com", "outlook.fr", "proton.me",
        "protonmail.com", "sfr.fr", "wanadoo.fr", "yahoo.com", "yahoo.fr", "yandex.com", "yandex.ru",
        "zoho.com",
    }
)  # fmt: skip


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def telling_domain(email: str) -> str | None:
    """The domain of an address when sharing it ties two people (not a public provider's)."""
    domain = email_domain(email)
    return domain if domain and domain not in PUBLIC_MAIL_PROVIDERS else None


@dataclass(frozen=True)
class Conflict:
    user_id: int
    startup_id: int
    source: str  # ConflictSource
    reason: str  # as declared, or the message id of an automatic conflict's reason (with its variables)
    declared: JuryConflict | None = None
    variables: tuple[tuple[str, str], ...] = ()

    def reason_in(self, translate: Callable[..., str]) -> str:
        """The reason as a reader is shown it: a declared reason as written, an automatic one translated."""
        return self.reason if self.declared is not None else translate(self.reason, **dict(self.variables))


@dataclass
class ConflictFacts:
    """Every conflict between some people and some startups: (user id, startup id) → its conflicts."""

    pairs: dict[tuple[int, int], list[Conflict]] = field(default_factory=dict)

    def is_conflicted(self, user_id: int | None, startup_id: int) -> bool:
        return user_id is not None and (user_id, startup_id) in self.pairs

    def startups_of(self, user_id: int | None) -> set[int]:
        return {s for (u, s) in self.pairs if u == user_id}

    def all(self) -> list[Conflict]:
        return [c for found in self.pairs.values() for c in found]

    def add(self, conflict: Conflict) -> None:
        self.pairs.setdefault((conflict.user_id, conflict.startup_id), []).append(conflict)


# The reasons of automatic conflicts, as message ids (the faces translate them).
WAS_MEMBER = N_("Member of the startup")
FORMER_MEMBER = N_("Former member of the startup")
SAME_DOMAIN = N_("Same email domain as a member of the startup (%(domain)s)")


def facts_for(session: Session, users: Iterable[User], startup_ids: Collection[int]) -> ConflictFacts:
    """Every conflict between these people and these startups, declared and automatic (four queries)."""
    facts = ConflictFacts()
    people = {u.id: u for u in users if u.id is not None}
    startups = set(startup_ids)
    if not people or not startups:
        return facts
    for declared in session.exec(
        select(JuryConflict).where(col(JuryConflict.user_id).in_(people), col(JuryConflict.startup_id).in_(startups))
    ):
        facts.add(Conflict(declared.user_id, declared.startup_id, ConflictSource.declared, declared.reason, declared))
    for former in session.exec(
        select(FormerMembership).where(
            col(FormerMembership.user_id).in_(people), col(FormerMembership.organisation_id).in_(startups)
        )
    ):
        facts.add(Conflict(former.user_id, former.organisation_id, ConflictSource.automatic, FORMER_MEMBER))
    members = session.exec(
        select(Membership.user_id, Membership.organisation_id, User.email)
        .join(User, col(User.id) == Membership.user_id)
        .where(col(Membership.organisation_id).in_(startups))
    ).all()
    domains: dict[str, set[int]] = {}
    for user_id, startup_id, email in members:
        if user_id in people:
            facts.add(Conflict(user_id, startup_id, ConflictSource.automatic, WAS_MEMBER))
        if domain := telling_domain(email):
            domains.setdefault(domain, set()).add(startup_id)
    for user_id, user in people.items():
        domain = telling_domain(user.email)
        for startup_id in sorted(domains.get(domain or "", ())):
            if not any(c.reason == WAS_MEMBER for c in facts.pairs.get((user_id, startup_id), [])):
                facts.add(
                    Conflict(
                        user_id,
                        startup_id,
                        ConflictSource.automatic,
                        SAME_DOMAIN,
                        variables=(("domain", domain or ""),),
                    )
                )
    return facts


def conflicted_startups(user: User) -> Select:  # type: ignore[type-arg]
    """The SQL form of facts_for(...).is_conflicted for one person: the ids of the startups they may not judge."""
    queries = [
        select(JuryConflict.startup_id).where(JuryConflict.user_id == user.id),
        select(FormerMembership.organisation_id).where(FormerMembership.user_id == user.id),
        select(Membership.organisation_id).where(Membership.user_id == user.id),
    ]
    if domain := telling_domain(user.email):
        queries.append(
            select(Membership.organisation_id)
            .join(User, col(User.id) == Membership.user_id)
            .where(func.lower(User.email).like(f"%@{domain}"))
        )
    return select(union(*queries).subquery().c[0])
