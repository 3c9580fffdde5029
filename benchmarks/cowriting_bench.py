"""Times saving a proposal draft when teammates' saves must be merged, against a save with nothing to merge.

Usage: .venv/bin/python benchmarks/cowriting_bench.py [--history 2000] [--runs 30] [--database URL]

Builds a scratch SQLite database (or uses --database, e.g. a PostgreSQL URL to a database it may fill), makes
one proposal whose working copy has `--history` recorded saves (two members autosaving long texts in turn),
then times, each `--runs` times, in-process:
- baseline: loading the proposal (what every save does first);
- current: a save from a form drawn at the current revision (nothing to merge);
- merge: a save from a form drawn before the whole history (every teammate save since must be read);
and prints the medians and the ratio of each to the baseline measured in the same run.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _median_ms(runs: int, step: Callable[[int], None]) -> float:
    times = []
    for n in range(runs):
        start = time.perf_counter()
        step(n)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="medina-bench-"))
    os.environ["MEDINA_DATA_DIR"] = str(scratch)
    os.environ["MEDINA_DATABASE_URL"] = args.database or f"sqlite:///{scratch / 'bench.sqlite3'}"

    from alembic import command
    from sqlmodel import Session

    from app.accounts import service as accounts
    from app.cli import alembic_config
    from app.db import get_engine
    from app.proposals import records as proposal_records
    from app.proposals import service as proposals
    from app.proposals.schemas import ProposalCreate, ProposalUpdate
    from tests.factories import Factory

    command.upgrade(alembic_config(), "head")
    with Session(get_engine()) as session:
        make = Factory(session)
        challenge = make.published_challenge(make.organisation("partner", name="Lydec"))
        startup = make.organisation("startup", name="AquaSense")
        leila = make.actor(make.user(organisation=startup, role="admin", name="Leila"))
        omar = make.actor(make.user(organisation=startup, name="Omar"))
        view = proposals.create_proposal(session, leila, ProposalCreate(challenge=challenge.id or 0))
        proposal_id = view.proposal.id or 0
        paragraph = "Des capteurs acoustiques sur les vannes écoutent le réseau. " * 40  # about 2,400 characters
        for n in range(args.history):
            actor, field = (leila, "description") if n % 2 else (omar, "data_use")
            view = proposal_records.get_proposal(session, actor, proposal_id)
            data = ProposalUpdate.model_validate({field: f"{paragraph} ({n})"})
            proposals.save_draft(session, actor, view, data, base=view.proposal.revision, editor=f"editor-{field}")
        session.commit()
        head = view.proposal.revision

        def load(_: int) -> None:
            proposal_records.get_proposal(session, omar, proposal_id)

        def save(base: Callable[[], int]) -> Callable[[int], None]:
            def step(n: int) -> None:
                view = proposal_records.get_proposal(session, omar, proposal_id)
                data = ProposalUpdate.model_validate({"needs": f"Access to the valve chambers ({n})."})
                proposals.save_draft(session, omar, view, data, base=base(), editor="bench-editor")
                session.rollback()  # every run starts from the same history

            return step

        baseline = _median_ms(args.runs, load)
        current = _median_ms(args.runs, save(lambda: head))
        merged = _median_ms(args.runs, save(lambda: 1))
    database = "PostgreSQL" if args.database and args.database.startswith("postgresql") else "SQLite"
    print(f"{database}, one proposal with {args.history} recorded saves, {args.runs} runs each (medians):")
    print(f"  baseline: load the proposal               {baseline:8.2f} ms")
    print(f"  save, nothing to merge                    {current:8.2f} ms  ({current / baseline:5.1f}x baseline)")
    print(f"  save from a form {args.history} saves behind    {merged:8.2f} ms  ({merged / baseline:5.1f}x baseline)")


if __name__ == "__main__":
    main()
