"""List pages cost a constant number of queries, whatever the number of rows (no N+1)."""

from contextlib import contextmanager

from sqlalchemy import event

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
