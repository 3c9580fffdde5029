"""Test databases: SQLite files by default, PostgreSQL databases when MEDINA_TEST_DATABASE_URL is set."""

import os
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url


def postgres_url() -> str | None:
    url = os.environ.get("MEDINA_TEST_DATABASE_URL")
    return url if url and url.startswith("postgresql") else None


def fresh_database_url(name: str, tmp_dir: Path) -> str:
    """An empty database for one purpose: a new SQLite file, or a re-created PostgreSQL database
    `<test database>_<name>` on the server of MEDINA_TEST_DATABASE_URL."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and not name.endswith(worker):  # parallel workers never share a scratch database
        name = f"{name}_{worker}"
    base = postgres_url()
    if base is None:
        path = tmp_dir / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    url = make_url(base)
    database = f"{url.database}_{name}"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    return url.set(database=database).render_as_string(hide_password=False)


def schemathesis_examples(count: int) -> int:
    """How many cases schemathesis draws per operation: `count` on PostgreSQL, half on SQLite. PostgreSQL refuses
    what SQLite takes (a NUL in a text, an integer past 2^31), so it is where random input finds the bugs that
    are left; CI runs both passes, each drawing its own cases."""
    return count if postgres_url() else max(5, count // 2)
