"""Deadline load: N startups submit their proposals concurrently in the minute before a challenge's deadline.

Against a real uvicorn server, on SQLite or PostgreSQL. Prints how many submissions the database recorded
(it must be all of them: the script exits 1 otherwise), the HTTP answers (200 / other), the p50 and p99
latency of `POST /api/v1/proposals/{id}/submit`, and, as a baseline measured in the same run under the same
concurrency, the p50 of `GET /healthz`, with the ratio.

    .venv/bin/python benchmarks/submission_load.py --database sqlite
    .venv/bin/python benchmarks/submission_load.py --database postgresql [--database-url URL] [--workers 2]

Steps: a scratch data folder in a temporary directory (and, on PostgreSQL, a scratch database created on the
server of --database-url and dropped afterwards); `alembic upgrade head`; in-process set-up of a programme,
a published challenge whose deadline is --deadline-in seconds away, and N startups, each with a user and a
write token; the server is started (`python -m uvicorn app.asgi:app`); each startup creates a complete draft
through the API; at deadline − --fire-before seconds the N submissions are fired all at once (httpx, one
connection each), right after two bursts of N concurrent `/healthz` (the first opens the connections, the
second is the baseline); then the database is counted in-process. The server is stopped and everything is
removed, on errors too.
"""

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/medina_bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN when there is no value."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# ---- PostgreSQL scratch database -------------------------------------------------------------------------


def _admin_conninfo(url: str) -> tuple[str, str]:
    """(libpq conninfo of the server's maintenance database, name of the scratch database) from a URL."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    conninfo = " ".join(
        f"{key}={value}"
        for key, value in (
            ("host", parsed.host or "127.0.0.1"),
            ("port", parsed.port or 5432),
            ("user", parsed.username or "postgres"),
            ("password", parsed.password),
            ("dbname", "postgres"),
        )
        if value is not None
    )
    return conninfo, parsed.database or "medina_bench"


def create_pg_database(url: str) -> None:
    import psycopg

    conninfo, name = _admin_conninfo(url)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing the database name {name!r}: use lower-case letters, digits and _")
    try:
        admin = psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError:  # no `postgres` database: try `test`
        admin = psycopg.connect(conninfo.replace("dbname=postgres", "dbname=test"), autocommit=True)
    with admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            raise SystemExit(f"database {name} exists already; drop it or pass another --database-url")
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_pg_database(url: str) -> None:
    import psycopg

    conninfo, name = _admin_conninfo(url)
    try:
        admin = psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError:
        admin = psycopg.connect(conninfo.replace("dbname=postgres", "dbname=test"), autocommit=True)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- set-up in-process -----------------------------------------------------------------------------------


def setup(startups: int, deadline_in: float) -> tuple[int, Any, list[str]]:
    """Migrate; create a programme, a published challenge closing in `deadline_in` seconds with its terms,
    and `startups` startups each with one member and a write token. Returns (challenge id, deadline,
    secrets)."""
    from alembic import command
    from sqlmodel import Session

    from app.accounts import service as accounts
    from app.accounts import tokens
    from app.accounts.models import User
    from app.accounts.schemas import TokenCreate
    from app.challenges.models import Challenge, ChallengeTerms
    from app.cli import alembic_config
    from app.db import get_engine, utcnow
    from app.programmes.models import Programme, ProgrammePartner

    command.upgrade(alembic_config(), "head")
    found: list[str] = []
    with Session(get_engine(), expire_on_commit=False) as session:
        operator, _ = accounts.ensure_organisation(session, slug="bench-operator", name="Operator", kind="operator")
        sponsor, _ = accounts.ensure_organisation(session, slug="bench-sponsor", name="Lydec", kind="partner")
        programme = Programme(slug="bench", name="Bench programme", operator_id=operator.id or 0)
        session.add(programme)
        session.flush()
        session.add(ProgrammePartner(programme_id=programme.id or 0, organisation_id=sponsor.id or 0))
        deadline = utcnow() + timedelta(seconds=deadline_in)
        challenge = Challenge(
            programme_id=programme.id or 0,
            lead_sponsor_id=sponsor.id or 0,
            slug="deadline",
            title="Water leaks",
            summary="Find leaks in the network.",
            problem="Leaks.",
            themes=["water"],
            deadline=deadline,
            status="published",
            published_at=utcnow(),
        )
        session.add(challenge)
        session.flush()
        session.add(ChallengeTerms(challenge_id=challenge.id or 0, version=1, ip_terms="IP stays with the startup."))
        for n in range(startups):
            startup, _ = accounts.ensure_organisation(session, slug=f"startup-{n}", name=f"Startup {n}", kind="startup")
            user = User(email=f"founder{n}@example.org", name=f"Founder {n}", password_hash="x")  # noqa: S106
            session.add(user)
            session.flush()
            accounts.add_membership(session, user, startup, "admin")
            actor = accounts.build_actor(session, user)
            _, secret = tokens.create_token(session, actor, TokenCreate(name="bench", scope="write"))
            found.append(secret)
        session.commit()
        return challenge.id or 0, deadline, found


def draft_body(challenge_id: int, n: int) -> dict[str, Any]:
    return {
        "challenge": challenge_id,
        "title": f"LeakSense {n}",
        "summary": "Acoustic sensors and a model that find leaks before they surface.",
        "description": "We place acoustic sensors on the mains and rank the segments by leak likelihood. " * 20,
        "data_use": "The pressure and flow series of the pilot district, to train and check the model. " * 5,
        "experimentation_plan": "Three months on the pilot district, then a comparison with the field crews. " * 5,
        "team": [{"name": f"Founder {n}", "role": "CEO"}, {"name": "Second founder", "role": "CTO"}],
        "trl": 6,
        "plan": [{"month": m, "milestone": f"Milestone {m}"} for m in range(1, 10)],
    }


def count(challenge_id: int, deadline: Any) -> dict[str, int]:
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from app.challenges.models import ChallengeTerms
    from app.db import get_engine
    from app.proposals.models import Proposal, ProposalVersion

    with Session(get_engine()) as session:
        versions = session.exec(
            select(ProposalVersion.proposal_id, ProposalVersion.number, ProposalVersion.submitted_at)
            .join(Proposal, col(Proposal.id) == ProposalVersion.proposal_id)
            .where(Proposal.challenge_id == challenge_id)
        ).all()
        submitted = session.exec(
            select(func.count())
            .select_from(Proposal)
            .where(Proposal.challenge_id == challenge_id, Proposal.status == "submitted")
        ).one()
        proposals = session.exec(
            select(func.count()).select_from(Proposal).where(Proposal.challenge_id == challenge_id)
        ).one()
        frozen_at = session.exec(
            select(ChallengeTerms.frozen_at).where(ChallengeTerms.challenge_id == challenge_id)
        ).one()
    first = min((v[2] for v in versions), default=None)
    terms_late_ms = round((frozen_at - first).total_seconds() * 1000) if frozen_at and first else 0
    return {
        "proposals": int(proposals),
        "versions": len(versions),
        "proposals_with_a_version": len({v[0] for v in versions}),
        "versions_numbered_1": sum(1 for v in versions if v[1] == 1),
        "versions_after_deadline": sum(1 for v in versions if v[2] >= deadline),
        "submitted": int(submitted),
        "terms_frozen_after_first_ms": terms_late_ms,  # should be 0: frozen by the first submission
    }


# ---- load ------------------------------------------------------------------------------------------------


@dataclass
class Burst:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0
    last_answer_at: float = 0.0  # time.time() of the last answer

    @property
    def ok(self) -> int:
        return self.statuses.get("200", 0)

    @property
    def other(self) -> int:
        return sum(self.statuses.values()) - self.ok


Request = tuple[Any, str, str, dict[str, Any] | None, dict[str, str]]  # client, method, path, JSON, headers


async def burst(requests: list[Request]) -> Burst:
    """Send every request at once (each task waits on the same event), each on its own client, and time it."""
    import httpx

    result = Burst()
    go = asyncio.Event()

    async def one(client: Any, method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]) -> None:
        await go.wait()
        started = time.perf_counter()
        try:
            answer = await client.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            result.statuses[type(exc).__name__] += 1
            result.errors[f"{type(exc).__name__}: {exc}"[:160]] += 1
            return
        finally:
            result.last_answer_at = time.time()
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.statuses[str(answer.status_code)] += 1
        if answer.status_code != 200:
            try:
                detail = answer.json().get("detail") or answer.json().get("title")
            except ValueError:
                detail = answer.text
            result.errors[f"{answer.status_code}: {str(detail)[:140]}"] += 1

    tasks = [asyncio.create_task(one(*r)) for r in requests]
    await asyncio.sleep(0.05)  # every task is waiting on the event
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    result.wall_s = time.perf_counter() - started
    return result


@dataclass
class Load:
    submitted: Burst
    baseline: Burst
    sequential_healthz_ms: float
    left_before: float  # seconds left before the deadline when the submissions were fired
    left_after: float  # … when the last one was answered (negative: after the deadline)


async def run_load(
    base: str, challenge_id: int, deadline_ts: float, tokens: list[str], fire_before: float, server: Any
) -> Load:
    """One httpx client, hence one connection, per startup: a single client shared by 200 concurrent requests
    spends seconds in its own connection pool and would measure itself, not the server."""
    import httpx

    n = len(tokens)
    timeout = httpx.Timeout(120.0, connect=30.0)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) for _ in range(n)]
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}")
            try:
                if (await clients[0].get("/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        else:
            raise SystemExit("the server did not answer /healthz in 30 s")

        # Each startup creates its complete draft (10 at a time: this is the set-up, not the load).
        ids: list[int] = [0] * n
        gate = asyncio.Semaphore(10)

        async def create(i: int) -> None:
            async with gate:
                answer = await clients[i].post(
                    "/api/v1/proposals",
                    json=draft_body(challenge_id, i),
                    headers={"Authorization": f"Bearer {tokens[i]}"},
                )
            if answer.status_code != 201:
                raise SystemExit(f"draft {i}: {answer.status_code} {answer.text[:300]}")
            ids[i] = int(answer.json()["id"])

        await asyncio.gather(*(create(i) for i in range(n)))

        one_at_a_time = []
        for _ in range(50):
            started = time.perf_counter()
            (await clients[0].get("/healthz")).raise_for_status()
            one_at_a_time.append((time.perf_counter() - started) * 1000)

        fire_at = deadline_ts - fire_before
        wait = fire_at - time.time()
        if wait > 0:
            print(f"{n} drafts ready; firing in {wait:.1f} s, {fire_before:.0f} s before the deadline", flush=True)
            await asyncio.sleep(wait)
        else:
            print(f"{n} drafts ready, {-wait:.1f} s late: firing now", flush=True)
        left = deadline_ts - time.time()
        if left < 10:
            raise SystemExit(f"only {left:.1f} s left before the deadline: raise --deadline-in")

        healthz: list[Request] = [(clients[i], "GET", "/healthz", None, {}) for i in range(n)]
        await burst(healthz)  # (re)opens the n connections; not measured
        baseline = await burst(healthz)
        submits: list[Request] = [
            (clients[i], "POST", f"/api/v1/proposals/{ids[i]}/submit", {"accept_terms": True},
             {"Authorization": f"Bearer {tokens[i]}"})
            for i in range(n)
        ]  # fmt: skip
        submitted = await burst(submits)
        return Load(submitted, baseline, percentile(one_at_a_time, 50), left, deadline_ts - time.time())
    finally:
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)


def stop(server: subprocess.Popen[bytes] | None) -> None:
    """Stop the server and its workers (it runs in its own process group)."""
    if server is None or server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
    except ProcessLookupError:
        pass


def server_errors(log: Path) -> Counter[str]:
    """The exception lines of the server's log (last line of each traceback), counted."""
    found: Counter[str] = Counter()
    if not log.exists():
        return found
    for line in log.read_text(errors="replace").splitlines():
        if re.match(r"^[\w.]+(Error|Exception|Timeout|Deadlock\w*|Violation)\b.*:", line):
            found[line[:200]] += 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--database-url", default=None,
        help=f"PostgreSQL URL of a scratch database to create and drop (default {DEFAULT_PG_URL}_<pid>)",
    )  # fmt: skip
    parser.add_argument("--startups", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--deadline-in", type=float, default=75.0, help="seconds from set-up to the deadline")
    parser.add_argument("--fire-before", type=float, default=50.0, help="fire this many seconds before it")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on kill too
    root = Path(tempfile.mkdtemp(prefix="medina-submission-load-"))
    pg_url = None
    if args.database == "postgresql":
        pg_url = args.database_url or f"{DEFAULT_PG_URL}_{os.getpid()}"
    url = pg_url or f"sqlite:///{root / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "MEDINA_ENV": "production",
        "MEDINA_SECRET_KEY": secrets.token_urlsafe(48),
        "MEDINA_DATA_DIR": str(root / "data"),
        "MEDINA_DATABASE_URL": url,
    }
    os.environ.update(env)  # the in-process set-up and count use the same database
    server: subprocess.Popen[bytes] | None = None
    log = root / "server.log"
    pg_created = False
    try:
        if pg_url:
            create_pg_database(pg_url)
            pg_created = True
        started = time.perf_counter()
        challenge_id, deadline, tokens = setup(args.startups, args.deadline_in)
        print(f"set-up: {args.startups} startups in {time.perf_counter() - started:.1f} s "
              f"({args.database}, deadline in {args.deadline_in:.0f} s)", flush=True)  # fmt: skip
        port = args.port or free_port()
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(args.workers), "--log-level", "warning"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        load = asyncio.run(
            run_load(f"http://127.0.0.1:{port}", challenge_id, deadline.timestamp(), tokens, args.fire_before, server)
        )
        stop(server)
        counts = count(challenge_id, deadline)
        errors = server_errors(log)
    finally:
        stop(server)
        if "app.db" in sys.modules:
            sys.modules["app.db"].get_engine().dispose()
        if pg_url and pg_created:
            drop_pg_database(pg_url)
        shutil.rmtree(root, ignore_errors=True)

    n = args.startups
    submitted, baseline = load.submitted, load.baseline
    p50, p99 = percentile(submitted.latencies_ms, 50), percentile(submitted.latencies_ms, 99)
    b50, b99 = percentile(baseline.latencies_ms, 50), percentile(baseline.latencies_ms, 99)
    label = "SQLite (WAL)" if args.database == "sqlite" else "PostgreSQL"
    last = (f"{load.left_after:.1f} s before the deadline" if load.left_after >= 0
            else f"{-load.left_after:.1f} s AFTER the deadline")  # fmt: skip
    print()
    print(f"{label}, {args.workers} uvicorn worker(s), {n} startups; submissions fired {load.left_before:.1f} s "
          f"before the deadline, the last one answered {last}")  # fmt: skip
    print(f"recorded in the database: {counts['versions']} proposal versions of {counts['proposals_with_a_version']}"
          f" proposals ({counts['versions_numbered_1']} numbered 1, {counts['versions_after_deadline']} after the "
          f"deadline), {counts['submitted']} proposals submitted; expected {n}")  # fmt: skip
    if counts["terms_frozen_after_first_ms"]:
        print(f"note: the terms' frozen_at is {counts['terms_frozen_after_first_ms']} ms later than the first "
              "submission (concurrent first submissions overwrite it)")  # fmt: skip
    print(f"HTTP answers to the submissions: {submitted.ok} × 200, {submitted.other} other"
          f"{' ' + str(dict(submitted.statuses)) if submitted.other else ''}")  # fmt: skip
    print()
    print(f"| {n} concurrent requests | p50 | p99 | max | all answered in | × /healthz p50 |")
    print("| --- | --- | --- | --- | --- | --- |")
    bmax, smax = percentile(baseline.latencies_ms, 100), percentile(submitted.latencies_ms, 100)
    print(f"| `GET /healthz` (baseline) | {b50:.0f} ms | {b99:.0f} ms | {bmax:.0f} ms | {baseline.wall_s:.2f} s | 1 |")
    print(
        f"| `POST /api/v1/proposals/{{id}}/submit` | {p50:.0f} ms | {p99:.0f} ms | {smax:.0f} ms "
        f"| {submitted.wall_s:.2f} s | {p50 / b50:.1f} |"
    )
    print(f"(`GET /healthz` one at a time, same run: p50 {load.sequential_healthz_ms:.1f} ms)")
    if len(submitted.latencies_ms) < n:
        print(f"(submit latencies of the {len(submitted.latencies_ms)} answered requests; the client gives up "
              "after 120 s)")  # fmt: skip
    if baseline.other:
        print(f"baseline answers: {dict(baseline.statuses)}")
    for line, times in (submitted.errors + baseline.errors).most_common(10):
        print(f"  client saw {times} × {line}")
    for line, times in errors.most_common(10):
        print(f"  server log: {times} × {line}")
    recorded = min(counts["versions"], counts["submitted"], counts["proposals_with_a_version"])
    if recorded < n or counts["versions"] != n or counts["versions_after_deadline"] or submitted.ok < n:
        print(f"FAILED: {recorded} of {n} submissions recorded, {submitted.ok} answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
