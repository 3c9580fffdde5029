"""Conflicts of interest: who may not judge which startup, declared or found by the platform, and the SQL form
of the rule agreeing with its predicate on a sample world."""

import pytest
from sqlmodel import Session

from app.accounts import service as accounts
from app.jury import conflicts
from app.jury.models import JuryConflict


@pytest.fixture
def world(db: Session, make):
    """Two startups with members at their own domains, and people with every kind of tie to them."""
    leaks = make.organisation("startup", slug="leaks")
    lights = make.organisation("startup", slug="lights")
    people = {
        "founder": make.user("founder@leaks.example", organisation=leaks, role="admin"),
        "colleague": make.user("colleague@leaks.example"),  # same company domain, no account tie
        "gmail_founder": make.user("lights.founder@gmail.com", organisation=lights, role="admin"),
        "gmail_juror": make.user("juror@gmail.com"),  # a public provider says nothing
        "former": make.user("former@elsewhere.example"),
        "declared": make.user("declared@city.example"),
        "clean": make.user("clean@city.example"),
        "demo": make.user("demo@medina.test"),
    }
    make.user("other@medina.test", organisation=lights)
    # the former member left startup "lights" through the service, which keeps the memory of it
    membership = accounts.add_membership(db, people["former"], lights, "member")
    admin = make.actor(people["gmail_founder"])
    accounts.remove_member(db, admin, membership.id)
    db.add(JuryConflict(user_id=people["declared"].id, startup_id=leaks.id, reason="My brother founded it."))
    db.flush()
    return people, {"leaks": leaks, "lights": lights}


EXPECTED = {
    "founder": {"leaks": "automatic"},
    "colleague": {"leaks": "automatic"},
    "gmail_founder": {"lights": "automatic"},
    "gmail_juror": {},
    "former": {"lights": "automatic"},
    "declared": {"leaks": "declared"},
    "clean": {},
    "demo": {},  # the demo's shared domain, like a public provider's
}


def test_each_tie_to_a_startup_makes_a_conflict_and_a_public_mail_domain_does_not(db: Session, world) -> None:
    people, startups = world
    facts = conflicts.facts_for(db, people.values(), {s.id for s in startups.values()})
    slugs = {s.id: slug for slug, s in startups.items()}
    found = {
        name: {slugs[c.startup_id]: c.source for c in facts.all() if c.user_id == user.id}
        for name, user in people.items()
    }
    assert found == EXPECTED
    reasons = {c.user_id: c.reason_in(lambda m, **v: m % v if v else m) for c in facts.all()}
    assert reasons[people["colleague"].id] == "Same email domain as a member of the startup (leaks.example)"
    assert reasons[people["former"].id] == "Former member of the startup"
    assert reasons[people["declared"].id] == "My brother founded it."


def test_the_sql_form_selects_the_startups_the_predicate_names(db: Session, world) -> None:
    people, startups = world
    ids = {s.id for s in startups.values()}
    facts = conflicts.facts_for(db, people.values(), ids)
    for name, user in people.items():
        selected = set(db.exec(conflicts.conflicted_startups(user)).all()) & ids
        assert selected == facts.startups_of(user.id), name


def test_the_public_providers_are_one_list_and_compared_without_case() -> None:
    assert conflicts.telling_domain("Someone@GMAIL.com") is None
    assert conflicts.telling_domain("someone@Lydec.ma") == "lydec.ma"
    assert "outlook.com" in conflicts.PUBLIC_MAIL_PROVIDERS
