"""The `medina` command: serve, migrate, create users and tokens, load the demo, import programmes, back up."""

import os
import shutil
import sqlite3
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from app.config import get_settings
from app.errors import Invalid

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlmodel import Session

    from app.importer import ImportResult

app = typer.Typer(help="Medina: open-innovation challenges for cities.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

ROOT = Path(__file__).resolve().parent.parent


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _explain(error: Invalid) -> str:
    from app import i18n

    i18n.set_language("en")
    variables = error.field_variables
    messages = [f"{field}: {i18n.gettext(msg, **variables.get(field, {}))}" for field, msg in error.errors.items()]
    return "; ".join(messages) or error.detail


def _check_field(option: str, value: str, model: "type[BaseModel]", field: str) -> None:
    """Exit with a usage error unless `value` is what the web form `model` takes in `field` (validated by the
    schema itself, so the command line and the form keep one rule), written on one line: an argument can
    carry a newline, a control character or bytes that are not UTF-8 (Python's surrogates), a form's
    one-line field cannot."""
    from pydantic import ValidationError

    from app import i18n
    from app.validation import message_for

    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        _fail(f"{option} must be UTF-8 text on one line, without control characters", 2)
    try:
        model.__pydantic_validator__.validate_assignment(model.model_construct(), field, value)
    except ValidationError as exc:
        i18n.set_language("en")
        message, variables = message_for(exc.errors()[0])
        _fail(f"{option}: {i18n.gettext(message, **variables)}", 2)


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or get_settings().resolved_database_url).replace("%", "%%"))
    return config


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (the only way the schema is created)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(), revision)
    typer.echo(
        f"database at {make_url(settings.resolved_database_url).render_as_string(hide_password=True)} is at {revision}"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Run the web app with uvicorn; on SQLite it also works the job queue (on PostgreSQL, run `medina worker`)."""
    import uvicorn

    settings = get_settings()  # refuse to start on a bad configuration before binding the port
    if settings.resolved_database_url.startswith("sqlite"):
        os.environ.setdefault("MEDINA_JOBS_IN_PROCESS", "1")  # read by each uvicorn worker's settings
        get_settings.cache_clear()
    uvicorn.run(
        "app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        forwarded_allow_ips=get_settings().trusted_proxies or "127.0.0.1",
    )


@app.command()
def worker(
    until_empty: Annotated[bool, typer.Option("--until-empty", help="Stop once no job is due")] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once")] = 1,
) -> None:
    """Run the job queue's workers (emails and the periodic housekeeping) until stopped (Ctrl+C, SIGTERM)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if get_settings().resolved_database_url.startswith("sqlite"):
        from app.jobs import runner

        runner.work(until_empty=until_empty, concurrency=concurrency)
    else:
        from app.jobs import postgres

        postgres.work(until_empty=until_empty, concurrency=concurrency)


@user_app.command("create")
def user_create(
    email: str,
    name: Annotated[str, typer.Option(help="Full name")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin")] = False,
    platform_admin: Annotated[bool, typer.Option("--platform-admin")] = False,
    org: Annotated[str | None, typer.Option(help="Organisation slug (created if missing)")] = None,
    org_name: Annotated[str | None, typer.Option(help="Name of the organisation when it is created")] = None,
    org_kind: Annotated[str | None, typer.Option(help="city | partner | startup | operator")] = None,
    role: Annotated[str, typer.Option(help="admin | member")] = "member",
) -> None:
    """Create a user, optionally with a membership in an organisation."""
    from app.accounts import service as accounts
    from app.accounts.models import OrgKind, Role
    from app.accounts.schemas import OrganisationCreate, StartupRegistration
    from app.db import commit, open_session

    _check_field("email", email, StartupRegistration, "email")
    _check_field("--name", name, StartupRegistration, "name")
    if org is not None:
        _check_field("--org", org, OrganisationCreate, "slug")
    if org_name is not None:
        _check_field("--org-name", org_name, OrganisationCreate, "name")
    if role not in set(Role):
        _fail(f"--role must be {' or '.join(Role)}", 2)
    if org_kind is not None and org_kind not in set(OrgKind):
        _fail(f"--org-kind must be one of {', '.join(OrgKind)}", 2)
    if not password_stdin:
        _fail("pass the password on standard input with --password-stdin", 2)
    try:
        password = sys.stdin.buffer.readline().decode("utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"could not read the password from standard input (it must be UTF-8): {exc}", 2)
    if not password:
        _fail("no password on standard input", 2)
    with open_session() as session:
        try:
            user = accounts.create_user(
                session, email=email, name=name, password=password, is_platform_admin=platform_admin
            )
            if org:
                organisation, _created = accounts.ensure_organisation(
                    session, slug=org, name=org_name, kind=org_kind if org_kind else None
                )
                accounts.add_membership(session, user, organisation, role)
        except Invalid as exc:
            session.rollback()
            _fail(_explain(exc), 1)
        commit(session)
    typer.echo(f"created user {email}" + (f" ({role} of {org})" if org else ""))


@token_app.command("create")
def token_create(
    email: str,
    scope: Annotated[str, typer.Option(help="read | write")] = "read",
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
) -> None:
    """Print a new API token for that user on stdout, and nothing else."""
    from app.accounts import service as accounts
    from app.accounts import tokens
    from app.accounts.schemas import TokenCreate
    from app.db import commit, open_session
    from app.validation import parse

    if scope not in ("read", "write"):
        _fail("--scope must be read or write", 2)
    _check_field("--name", name, TokenCreate, "name")
    with open_session() as session:
        user = accounts.get_user_by_email(session, email)
        if user is None or not user.is_active:
            _fail(f"no active user with email {email}", 1)
        actor = accounts.build_actor(session, user)
        _, secret = tokens.create_token(session, actor, parse(TokenCreate, {"name": name, "scope": scope}))
        commit(session)
    typer.echo(secret)


@app.command()
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Load only into an empty database")] = False,
) -> None:
    """Load the demo organisations and accounts, and import the demo programme (idempotent)."""
    from app import demo as demo_data
    from app.db import commit, open_session

    with open_session() as session:
        if if_empty and not demo_data.database_is_empty(session):
            typer.echo("the database is not empty: demo not loaded")
        else:
            result = demo_data.load(session)
            imported = _import_or_fail(session, DEMO_PROGRAMME)
            demo_data.load_proposals(session)
            commit(session)
            typer.echo(
                f"demo loaded: {result.created_organisations} organisations and {result.created_users} users created"
            )
            typer.echo(imported.summary())
    typer.echo(demo_data.describe())


DEMO_PROGRAMME = ROOT / "challenges" / "casablanca-2017"


def _import_or_fail(
    session: "Session", folder: Path, *, dry_run: bool = False, move_deadlines: bool = False
) -> "ImportResult":
    """Import `folder` in `session` and commit (or roll back on a dry run); on a problem print every one of
    them and exit with 1, leaving the database and the file store as they were."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from app.db import commit
    from app.importer import ImportFailed, import_folder

    try:
        shown = str(folder.relative_to(Path.cwd())) if folder.is_absolute() else str(folder)
    except ValueError:
        shown = str(folder)
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    result = None
    try:
        with bar:
            task = bar.add_task("", total=None)

            def advance(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label)

            result = import_folder(session, folder, shown=shown, progress=advance, move_deadlines=move_deadlines)
        if dry_run:
            session.rollback()
            result.discard_files()
        else:
            commit(session)
    except ImportFailed as exc:
        session.rollback()
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"error: nothing was imported ({len(exc.problems)} problem(s))", err=True)
        raise typer.Exit(1) from None
    except BaseException:
        session.rollback()
        if result is not None:
            result.discard_files()
        raise
    return result


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A programme folder, e.g. challenges/casablanca-2017")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the files and report, write nothing")] = False,
    move_deadlines: Annotated[
        bool,
        typer.Option(
            "--move-deadlines",
            help="Let the files move published challenges' deadlines earlier or into the past (refused otherwise)",
        ),
    ] = False,
) -> None:
    """Create or update a programme, its challenges and datasets from a folder of files (idempotent)."""
    from app.db import open_session

    with open_session() as session:
        result = _import_or_fail(session, path, dry_run=dry_run, move_deadlines=move_deadlines)
    typer.echo(result.summary() + ("\n(dry run: nothing was written)" if dry_run else ""))


@app.command()
def backup(dest: Path) -> None:
    """Consistent online backup of the database and the files into DEST (a folder)."""
    settings = get_settings()
    url = make_url(settings.resolved_database_url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = dest / f"medina-{stamp}"
    try:
        target.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        _fail(f"cannot create the backup folder {target}: {exc}", 1)
    if url.get_backend_name() == "sqlite":
        database = Path(url.database or "")
        if not database.is_file():
            shutil.rmtree(target)
            _fail(f"no SQLite database at {database}; check MEDINA_DATABASE_URL / MEDINA_DATA_DIR", 1)
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        copy = sqlite3.connect(target / "medina.sqlite3")
        with copy:
            source.backup(copy)  # SQLite's online backup API: consistent while the app runs
        copy.close()
        source.close()
    else:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            shutil.rmtree(target)
            _fail("pg_dump is not installed; install the PostgreSQL client tools", 1)
        # the password goes through the environment, never the command line (visible in `ps`)
        env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
        plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
        result = subprocess.run(
            [str(pg_dump), "--format=custom", "--file", str(target / "medina.pgdump"), plain],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        if result.returncode != 0:
            shutil.rmtree(target)
            _fail(f"pg_dump failed: {result.stderr.strip()}", 1)
    if settings.files_dir.exists():
        shutil.copytree(settings.files_dir, target / "files")
    typer.echo(str(target))


def main() -> None:
    app()
