"""Each rule that also filters lists has a predicate and an SQL form side by side in its domain's permissions.py:
on a sample world (every kind of actor, challenges in every status, datasets of every access), filtering all
records with the predicate in Python gives exactly the rows the SQL form selects."""

from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.accounts.models import Membership
from app.challenges import permissions as challenge_can
from app.challenges import service as challenges
from app.challenges.models import Challenge
from app.datasets import permissions as dataset_can
from app.datasets.models import Access, Dataset
from app.db import utcnow
from app.programmes import permissions as programme_can
from app.programmes.models import Programme, ProgrammePartner
from app.security.actor import ANONYMOUS


@pytest.fixture
def world(db, make):
    operator = make.organisation("operator")
    city = make.organisation("city")
    lead, co_sponsor, other_partner = (make.organisation("partner") for _ in range(3))
    startup = make.organisation("startup")
    main = make.programme(operator, partners=[lead, co_sponsor], city_id=city.id)
    other = make.programme(partners=[other_partner])
    past = utcnow() - timedelta(days=3)
    made = [
        make.draft_challenge(lead, programme=main, co_sponsors=[co_sponsor]),
        make.draft_challenge(other_partner, programme=other),
        make.draft_challenge(city, programme=main, published_at=past),  # published once, back to draft by hand
        make.published_challenge(lead, programme=main, co_sponsors=[co_sponsor]),
        make.published_challenge(other_partner, programme=other),
        make.published_challenge(lead, programme=main, deadline=past),  # closed
        make.published_challenge(co_sponsor, programme=main, status="awarded", deadline=past),
        make.published_challenge(other_partner, programme=other, status="archived", deadline=past),
    ]
    datasets = [
        Dataset(challenge_id=challenge.id, owner_id=challenge.lead_sponsor_id, title="d", licence="CC0-1.0", access=a)
        for challenge in made
        for a in Access
    ] + [Dataset(owner_id=lead.id, title="catalogue", licence="CC0-1.0", access=a) for a in Access]
    db.add_all(datasets)
    db.flush()
    inactive = make.user(organisation=lead)
    inactive.is_active = False
    db.add(inactive)
    db.flush()
    users = {
        "startup member": make.user(organisation=startup),
        "lead sponsor staff": make.user(organisation=lead, role="admin"),
        "co-sponsor staff": make.user(organisation=co_sponsor),
        "city staff": make.user(organisation=city),
        "operator staff": make.user(organisation=operator),
        "partner of another challenge": make.user(organisation=other_partner),
        "platform admin": make.user(platform_admin=True),
        "inactive sponsor staff": inactive,
    }
    two_hats = make.user(organisation=startup)
    db.add(Membership(user_id=two_hats.id, organisation_id=other_partner.id, role="member"))
    db.flush()
    users["startup member and other partner"] = two_hats
    actors = {"anonymous": ANONYMOUS} | {name: make.actor(user) for name, user in users.items()}
    return {
        "actors": actors,
        "challenges": {c.id for c in made},
        "programmes": {main.id, other.id},
        "datasets": {d.id for d in datasets},
    }


def _selected(db, model, condition, ids):
    return set(db.exec(select(model.id).where(condition, col(model.id).in_(ids))))


def _each_actor(world):
    assert len(world["actors"]) == 10
    return world["actors"].items()


def test_the_challenge_rules_select_in_sql_what_their_predicates_allow(db, world):
    views = challenges.views_for(db, sorted(world["challenges"]))
    assert {v.status for v in views} == {"draft", "published", "closed", "awarded", "archived"}
    public = {v.challenge.id for v in views if challenge_can.is_public(v.challenge)}
    assert public == _selected(db, Challenge, challenge_can.public_challenges(), world["challenges"])
    assert 0 < len(public) < len(views)
    for name, actor in _each_actor(world):
        rules = {
            "sponsored": (
                challenge_can.sponsored_challenges(actor),
                lambda v, actor=actor: challenge_can.is_sponsor_staff(actor, v.sponsor_ids),
            ),
            "staff": (
                challenge_can.staff_challenges(actor),
                lambda v, actor=actor: challenge_can.is_challenge_staff(actor, v.challenge, v.programme, v.sponsor_ids),
            ),
            "visible": (
                challenge_can.visible_challenges(actor),
                lambda v, actor=actor: challenge_can.can_view_challenge(actor, v.challenge, v.programme, v.sponsor_ids),
            ),
        }
        for rule, (condition, predicate) in rules.items():
            allowed = {v.challenge.id for v in views if predicate(v)}
            assert _selected(db, Challenge, condition, world["challenges"]) == allowed, (name, rule)


def test_the_challenge_rules_tell_the_actors_apart(db, world):
    """The sample is worth something: the rules do not select the same rows for everyone."""
    actors = world["actors"]
    staff = {
        name: _selected(db, Challenge, challenge_can.staff_challenges(a), world["challenges"])
        for name, a in actors.items()
    }
    assert staff["anonymous"] == staff["startup member"] == staff["inactive sponsor staff"] == set()
    assert staff["platform admin"] == world["challenges"]
    assert staff["lead sponsor staff"] < staff["operator staff"] < staff["platform admin"]
    assert staff["partner of another challenge"] == staff["startup member and other partner"]
    assert staff["partner of another challenge"].isdisjoint(staff["operator staff"])


def test_the_programme_rules_select_in_sql_what_their_predicates_allow(db, world):
    programmes = db.exec(select(Programme).where(col(Programme.id).in_(world["programmes"]))).all()
    partners: dict[int, set[int]] = {}
    for row in db.exec(select(ProgrammePartner).where(col(ProgrammePartner.programme_id).in_(world["programmes"]))):
        partners.setdefault(row.programme_id, set()).add(row.organisation_id)
    seen = set()
    for name, actor in _each_actor(world):
        operated = {p.id for p in programmes if programme_can.is_programme_operator(actor, p)}
        staffed = {p.id for p in programmes if programme_can.is_programme_staff(actor, p, partners.get(p.id, set()))}
        selected = _selected(db, Programme, programme_can.operated_programmes(actor), world["programmes"])
        assert selected == operated, name
        assert _selected(db, Programme, programme_can.staffed_programmes(actor), world["programmes"]) == staffed, name
        seen.add((frozenset(operated), frozenset(staffed)))
    assert len(seen) >= 4


def test_the_harvestable_datasets_are_those_the_predicate_allows(db, world):
    rows = db.exec(select(Dataset).where(col(Dataset.id).in_(world["datasets"]))).all()
    by_id = {c.id: c for c in db.exec(select(Challenge).where(col(Challenge.id).in_(world["challenges"])))}
    allowed = {d.id for d in rows if dataset_can.is_harvestable(d, by_id.get(d.challenge_id))}
    assert _selected(db, Dataset, dataset_can.harvestable_datasets(), world["datasets"]) == allowed
    assert any(d.challenge_id is None for d in rows if d.id in allowed)
    assert 0 < len(allowed) < len(rows)
