"""Times the challenge list (HTML page and API) with 1,000 challenges, against /healthz in the same run.

Usage: .venv/bin/python benchmarks/challenge_list_bench.py [--challenges 1000] [--runs 30] [--database URL]

Builds a scratch SQLite database (or uses --database, e.g. a PostgreSQL URL to a database it may fill),
loads N published challenges across 6 sponsors and 12 themes, then requests each page `--runs` times
in-process (no network) and prints the median and 95th percentile, and the ratio of each median to the
median of /healthz measured in the same run.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--challenges", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="medina-bench-"))
    os.environ["MEDINA_DATA_DIR"] = str(scratch)
    os.environ["MEDINA_DATABASE_URL"] = args.database or f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["MEDINA_API_RATE_LIMIT_PER_MINUTE"] = "1000000"

    from alembic import command
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from app.accounts import service as accounts
    from app.accounts import tokens
    from app.accounts.schemas import TokenCreate
    from app.challenges.models import THEMES, Challenge, ChallengeTerms
    from app.cli import alembic_config
    from app.db import get_engine, utcnow
    from app.main import create_app
    from app.programmes.models import Programme

    command.upgrade(alembic_config(), "head")
    with Session(get_engine()) as session:
        operator, _ = accounts.ensure_organisation(session, slug="bench-operator", name="Operator", kind="operator")
        sponsors = [accounts.ensure_organisation(session, slug=f"bench-sponsor-{n}", name=f"Sponsor {n}",
                                                 kind="partner")[0] for n in range(6)]
        programme = Programme(slug="bench", name="Bench programme", operator_id=operator.id)
        session.add(programme)
        session.flush()
        user = accounts.create_user(session, email="bench@example.org", name="Bench", password="bench-password-123")
        for n in range(args.challenges):
            challenge = Challenge(
                programme_id=programme.id, lead_sponsor_id=sponsors[n % 6].id, slug=f"challenge-{n}",
                title=f"Challenge {n}: urban problem number {n}", summary="A realistic summary " * 10,
                problem="A problem statement. " * 50, themes=[THEMES[n % len(THEMES)]], status="published",
                deadline=utcnow() + timedelta(days=1 + n % 90), published_at=utcnow(),
            )
            session.add(challenge)
            session.flush()
            session.add(ChallengeTerms(challenge_id=challenge.id, version=1, ip_terms="IP stays with the startup."))
        _, secret = tokens.create_token(session, accounts.build_actor(session, user), TokenCreate(name="bench"))
        session.commit()

    client = TestClient(create_app())
    headers = {"Authorization": f"Bearer {secret}"}
    pages = {
        "/healthz (baseline)": ("/healthz", {}),
        "HTML /challenges (page 1 of 20/page)": ("/challenges", {}),
        "HTML /challenges?theme=water": ("/challenges?theme=water", {}),
        "HTML /challenges?q=number 99": ("/challenges?q=number%2099", {}),
        "HTML /challenges?page=40": ("/challenges?page=40", {}),
        "API /api/v1/challenges?limit=50": ("/api/v1/challenges?limit=50", headers),
        "API /api/v1/challenges?limit=500": ("/api/v1/challenges?limit=500", headers),
    }
    results = {}
    for label, (path, extra) in pages.items():
        for _ in range(3):  # warm-up
            assert client.get(path, headers=extra).status_code == 200, path
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            response = client.get(path, headers=extra)
            timings.append(time.perf_counter() - start)
            assert response.status_code == 200
        timings.sort()
        results[label] = (statistics.median(timings), timings[int(0.95 * (len(timings) - 1))])
    baseline = results["/healthz (baseline)"][0]
    database = "PostgreSQL" if os.environ["MEDINA_DATABASE_URL"].startswith("postgresql") else "SQLite"
    print(f"{args.challenges} published challenges, {database}, {args.runs} runs each, in-process (no network)")
    print(f"{'request':<42} {'median ms':>10} {'p95 ms':>8} {'× healthz':>10}")
    for label, (median, p95) in results.items():
        print(f"{label:<42} {median * 1000:>10.1f} {p95 * 1000:>8.1f} {median / baseline:>10.1f}")


if __name__ == "__main__":
    main()
