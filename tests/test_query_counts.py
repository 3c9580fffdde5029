"""List pages cost a constant number of queries, whatever the number of rows (no N+1)."""

from contextlib import contextmanager

from sqlalchemy import event
from sqlmodel import select

from app.accounts.models import Organisation, User
from tests.conftest import sign_in


@contextmanager
def counting(engine):
    statements: list[str] = []

    def _count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _queries_for(client, engine, path: str) -> int:
    with counting(engine) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_list_pages_cost_constant_queries(client, db, engine, make):
    admin = make.user(platform_admin=True)
    organisation = make.organisation("partner")
    sign_in(client, admin.email)
    small = {
        p: _queries_for(client, engine, p)
        for p in ("/organisations", "/admin/users", f"/organisations/{organisation.slug}")
    }
    db.add_all([Organisation(kind="startup", name=f"Startup {n}", slug=f"bulk-{n}") for n in range(500)])
    users = [User(email=f"bulk{n}@example.org", name=f"Bulk {n}", password_hash="x") for n in range(500)]
    db.add_all(users)
    db.flush()
    from app.accounts.models import Membership

    db.add_all([Membership(user_id=u.id, organisation_id=organisation.id, role="member") for u in users])
    db.flush()
    large = {p: _queries_for(client, engine, p) for p in small}
    assert large == small, f"queries grew with rows: {small} → {large}"
    assert all(2 <= n <= 12 for n in large.values()), large


def _bulk_proposals(db, make, count: int):
    """`count` submitted proposals of as many startups to one closed challenge, and `count` challenges that
    one startup applied to; rows written directly (the services are exercised elsewhere)."""
    from datetime import timedelta

    from app.challenges.models import Challenge, ChallengeTerms
    from app.db import utcnow
    from app.proposals.models import Proposal, ProposalVersion

    sponsor, partner = make.member("partner")
    applicant, startup = make.member("startup")
    programme = make.programme(slug=f"qc-{count}", name="QC")

    def challenge(n: int, deadline) -> Challenge:
        return make.published_challenge(
            partner, programme=programme, slug=f"c-{n}", title=f"Challenge {n}", summary="S.", deadline=deadline
        )

    closed = challenge(0, utcnow() - timedelta(days=1))
    terms_id = db.exec(select(ChallengeTerms.id).where(ChallengeTerms.challenge_id == closed.id)).one()
    for n in range(count):
        other = make.organisation("startup")
        proposal = Proposal(challenge_id=closed.id, startup_id=other.id, status="submitted", title=f"P{n}")
        db.add(proposal)
        db.flush()
        content = {"title": f"P{n}", "summary": "", "trl": 3, "attachments": [], "answers": {}}
        db.add(
            ProposalVersion(
                proposal_id=proposal.id, number=1, content=content, sha256="0" * 64, receipt_number=f"R-{count}-{n}",
                terms_id=terms_id, terms_version=1, terms_sha256="0" * 64, accepted_by_name="X", submitted_at=utcnow(),
            )
        )  # fmt: skip
        db.add(Proposal(challenge_id=challenge(n + 1, utcnow() + timedelta(days=9)).id, startup_id=startup.id))
    db.flush()
    return sponsor, applicant, closed


def test_proposal_lists_cost_constant_queries(client, db, engine, make):
    def measure(count: int) -> dict[str, int]:
        sponsor, applicant, closed = _bulk_proposals(db, make, count)
        out = {}
        client.cookies.clear()
        sign_in(client, sponsor.email)
        out["staff list"] = _queries_for(client, engine, f"/challenges/{closed.id}/proposals")
        client.cookies.clear()
        sign_in(client, applicant.email)
        out["my applications"] = _queries_for(client, engine, "/my/applications")
        return out

    small, large = measure(2), measure(60)
    assert large == small, f"queries grew with rows: {small} → {large}"
