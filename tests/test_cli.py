"""The `medina` command, run as a process of its own against its own fresh database (a SQLite file, or a
PostgreSQL database when MEDINA_TEST_DATABASE_URL is set): exit codes, messages, what the database holds. Each
command runs in a fork of a process that imported the command line once (tests/forkserver.py); the console
script itself is run as a new process by tests/test_import.py and tests/test_jobs.py."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from app.db import make_engine
from tests.dbutil import fresh_database_url
from tests.forkserver import ForkServer

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cli:
    url: str
    env: dict[str, str]
    engine: Engine
    tmp: Path
    forks: ForkServer

    def run(self, *args: str | bytes, stdin: str | bytes | None = None) -> subprocess.CompletedProcess[str]:
        """Run `medina` with these arguments and standard input; bytes go as they are (not UTF-8, say)."""
        return self.forks.run(list(args), stdin.encode() if isinstance(stdin, str) else (stdin or b""))

    def scalar(self, sql: str, **params: object) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def insert_user(self, email: str, name: str) -> None:
        """A user written straight into the database, for tests of commands other than `user create`."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    'INSERT INTO "user" (email, name, password_hash, is_active, is_platform_admin, created_at, '
                    "updated_at) VALUES (:e, :n, '$argon2id$not-a-real-hash', true, false, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"e": email, "n": name},
            )

    def count_users(self, email: str) -> int:
        return int(self.scalar('SELECT count(*) FROM "user" WHERE lower(email) = lower(:e)', e=email) or 0)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    tmp = tmp_path_factory.mktemp("cli")
    # one database per xdist worker, so that parallel runs never drop each other's database
    url = fresh_database_url(f"cli_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}", tmp)
    env = {
        **os.environ,
        "MEDINA_DATABASE_URL": url,
        "MEDINA_DATA_DIR": str(tmp / "data"),
        "MEDINA_ENV": "test",
    }
    env.pop("MEDINA_SMTP_URL", None)
    engine = make_engine(url, pool_size=2)
    with ForkServer(env, ROOT) as forks:
        runner = Cli(url=url, env=env, engine=engine, tmp=tmp, forks=forks)
        result = runner.run("db", "upgrade")
        assert result.returncode == 0, result.stderr
        yield runner
    engine.dispose()


def test_db_upgrade_is_idempotent(cli: Cli) -> None:
    result = cli.run("db", "upgrade")  # the fixture already upgraded once
    assert result.returncode == 0, result.stderr
    assert "is at head" in result.stdout
    assert cli.scalar("SELECT count(*) FROM alembic_version") == 1


def test_user_create_with_an_organisation(cli: Cli) -> None:
    result = cli.run(
        "user",
        "create",
        "mayor@example.org",
        "--name",
        "Mayor",
        "--password-stdin",
        "--org",
        "demo-city",
        "--org-name",
        "Ville",
        "--org-kind",
        "city",
        "--role",
        "admin",
        stdin="a-long-unusual-passphrase-77\n",
    )
    assert result.returncode == 0, result.stderr
    assert "created user mayor@example.org" in result.stdout
    with cli.engine.connect() as conn:
        user = conn.execute(
            text("SELECT id, name, password_hash, is_platform_admin FROM \"user\" WHERE email = 'mayor@example.org'")
        ).one()
        organisation = conn.execute(text("SELECT id, name, kind FROM organisation WHERE slug = 'demo-city'")).one()
        roles = (
            conn.execute(
                text("SELECT role FROM membership WHERE user_id = :u AND organisation_id = :o"),
                {"u": user.id, "o": organisation.id},
            )
            .scalars()
            .all()
        )
    assert user.name == "Mayor"
    assert user.password_hash.startswith("$argon2")
    assert "a-long-unusual-passphrase-77" not in user.password_hash
    assert not user.is_platform_admin
    assert (organisation.name, organisation.kind) == ("Ville", "city")
    assert roles == ["admin"]


def test_user_create_refuses_a_duplicate_email_whatever_its_case(cli: Cli) -> None:
    first = cli.run(
        "user",
        "create",
        "a@example.org",
        "--name",
        "Ana",
        "--password-stdin",
        stdin="a-long-unusual-passphrase-78\n",
    )
    assert first.returncode == 0, first.stderr
    second = cli.run(
        "user",
        "create",
        "A@Example.org",
        "--name",
        "Ana Again",
        "--password-stdin",
        stdin="a-long-unusual-passphrase-79\n",
    )
    assert second.returncode != 0
    assert "already exists" in second.stderr
    assert "Traceback" not in second.stderr
    assert cli.count_users("a@example.org") == 1


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (
            ["bank@example.org", "--password-stdin", "--org", "bank", "--org-kind", "bank"],
            "a-long-unusual-passphrase-80\n",
            2,
            "--org-kind must be one of city, partner, startup, operator",
        ),
        (
            ["not-an-email", "--password-stdin"],
            "a-long-unusual-passphrase-81\n",
            2,
            "email: Enter a valid email address",
        ),
        (["empty@example.org", "--password-stdin"], "", 2, "no password on standard input"),
        (["nostdin@example.org"], "a-long-unusual-passphrase-82\n", 2, "--password-stdin"),
        (["common@example.org", "--password-stdin"], "password123\n", 1, "too common"),
    ],
    ids=["unknown-org-kind", "malformed-email", "empty-stdin", "no-password-stdin", "common-password"],
)
def test_user_create_refuses_bad_input(cli: Cli, args: list[str], stdin: str, code: int, message: str) -> None:
    result = cli.run("user", "create", *args, "--name", "Someone", stdin=stdin)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert cli.count_users(args[0]) == 0
    if args[0] == "bank@example.org":
        assert cli.scalar("SELECT count(*) FROM organisation WHERE slug = 'bank'") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", ""], "--name: This field is required."),
        (["--name", "   "], "--name: This field is required."),
        (["--name", "x" * 10_000], "--name: Use at most 120 characters."),
        (["--name", "Ana\n<b>Admin</b>"], "--name must be UTF-8 text on one line"),
        (["--name", "Ana\tB"], "--name must be UTF-8 text on one line"),
        ([b"--name", b"Caf\xe9"], "--name must be UTF-8 text on one line"),
        (["--name", "Ana", "--org", "Bad Slug/../x", "--org-kind", "city"], "--org: Use only lowercase letters"),
        (["--name", "Ana", "--org", "x" * 500, "--org-kind", "city"], "--org: Use at most 80 characters."),
        (["--name", "Ana", "--org", "new-org", "--org-name", "x", "--org-kind", "city"], "--org-name: Use at least 2"),
    ],
    ids=["empty", "blank", "10000-characters", "newline", "tab", "not-utf8", "bad-slug", "long-slug", "short-org-name"],
)
def test_user_create_takes_what_the_web_forms_take(cli: Cli, args: list[str | bytes], message: str) -> None:
    organisations = cli.scalar("SELECT count(*) FROM organisation")
    result = cli.run("user", "create", "form@example.org", *args, "--password-stdin", stdin="a-long-passphrase-83\n")
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr.startswith(f"error: {message}")
    assert "Traceback" not in result.stderr
    assert cli.count_users("form@example.org") == 0
    assert cli.scalar("SELECT count(*) FROM organisation") == organisations


def test_user_create_refuses_a_password_that_is_not_utf8(cli: Cli) -> None:
    result = cli.run(
        "user", "create", "latin1@example.org", "--name", "Ana", "--password-stdin", stdin=b"caf\xe9-1234567\n"
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: could not read the password from standard input (it must be UTF-8)")
    assert "Traceback" not in result.stderr
    assert cli.count_users("latin1@example.org") == 0


def test_user_create_takes_the_demo_s_test_domain_and_refuses_other_reserved_names(cli: Cli) -> None:
    """`.test` (RFC 2606, the demo's domain) is taken as the web forms take it, so the demo's own accounts can
    be created by hand; names that are never an address (localhost, .invalid) stay refused."""
    made = cli.run("user", "create", "x@y.test", "--name", "X", "--password-stdin", stdin="a-long-passphrase-84\n")
    assert made.returncode == 0, made.stderr
    assert cli.count_users("x@y.test") == 1
    for address in ("x@localhost", "x@y.invalid"):
        refused = cli.run("user", "create", address, "--name", "X", "--password-stdin", stdin="a-long-passphrase-85\n")
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: email: Enter a valid email address")
        assert cli.count_users(address) == 0


def test_token_create_prints_only_the_token(cli: Cli) -> None:
    cli.insert_user("robot@example.org", "Robot")
    result = cli.run("token", "create", "Robot@Example.org", "--scope", "write", "--name", "ci")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and result.stdout == lines[0] + "\n"
    secret = lines[0]
    assert secret.startswith("mdn_") and len(secret) > 30 and secret.strip() == secret
    with cli.engine.connect() as conn:
        token = conn.execute(
            text(
                "SELECT t.token_hash, t.scopes, t.name, t.prefix, t.revoked_at, u.email FROM api_token t "
                'JOIN "user" u ON u.id = t.user_id WHERE t.token_hash = :h'
            ),
            {"h": hashlib.sha256(secret.encode()).hexdigest()},
        ).one()
    assert token.scopes == "write"
    assert token.name == "ci"
    assert token.email == "robot@example.org"
    assert secret.startswith(token.prefix)
    assert token.revoked_at is None

    unknown = cli.run("token", "create", "nobody@example.org")
    assert unknown.returncode != 0
    assert "no active user with email nobody@example.org" in unknown.stderr
    assert unknown.stdout == ""

    for name, message in (("", "--name: This field is required."), ("x" * 81, "--name: Use at most 80 characters.")):
        refused = cli.run("token", "create", "robot@example.org", "--name", name)
        assert (refused.returncode, refused.stdout) == (2, "")
        assert refused.stderr.startswith(f"error: {message}") and "Traceback" not in refused.stderr


def test_demo_is_idempotent(cli: Cli) -> None:
    first = cli.run("demo")
    assert first.returncode == 0, first.stderr
    assert "demo loaded" in first.stdout
    second = cli.run("demo")
    assert second.returncode == 0, second.stderr
    assert "demo loaded: 0 organisations and 0 users created" in second.stdout
    for account in ("admin@medina.test", "operator@medina.test", "city@medina.test", "startup@medina.test"):
        assert account in second.stdout
        assert cli.count_users(account) == 1
    assert "casablanca-demo-2017" in second.stdout
    assert cli.scalar("SELECT count(*) FROM organisation WHERE slug = 'technopark'") == 1
    assert cli.scalar('SELECT is_platform_admin FROM "user" WHERE email = :e', e="admin@medina.test")
    users = cli.scalar('SELECT count(*) FROM "user"')

    if_empty = cli.run("demo", "--if-empty")
    assert if_empty.returncode == 0, if_empty.stderr
    assert "the database is not empty: demo not loaded" in if_empty.stdout
    assert cli.scalar('SELECT count(*) FROM "user"') == users


def test_backup(cli: Cli) -> None:
    cli.insert_user("kept@example.org", "Kept")
    files = cli.tmp / "data" / "files"
    files.mkdir(parents=True, exist_ok=True)
    (files / "note.txt").write_text("attached")
    dest = cli.tmp / "backups"
    result = cli.run("backup", str(dest))
    backend = make_url(cli.url).get_backend_name()
    if backend == "sqlite":
        assert result.returncode == 0, result.stderr
        target = Path(result.stdout.strip())
        assert target.parent == dest and target.name.startswith("medina-")
        copy = sqlite3.connect(target / "medina.sqlite3")
        try:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            emails = {row[0] for row in copy.execute('SELECT email FROM "user"')}
        finally:
            copy.close()
        assert "kept@example.org" in emails
        assert (target / "files" / "note.txt").read_text() == "attached"
    elif shutil.which("pg_dump", path=cli.env.get("PATH")):
        assert result.returncode == 0, result.stderr
        target = Path(result.stdout.strip())
        dump = target / "medina.pgdump"
        assert dump.stat().st_size > 0
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        pg_restore = shutil.which("pg_restore", path=cli.env.get("PATH"))
        if pg_restore:  # the dump holds the rows, not just the schema
            restored = subprocess.run(
                [pg_restore, "--data-only", "--file", "-", str(dump)],
                capture_output=True,
                text=True,
                check=True,
            )
            assert "kept@example.org" in restored.stdout
        assert (target / "files" / "note.txt").read_text() == "attached"
    else:
        assert result.returncode != 0
        assert "pg_dump is not installed" in result.stderr
