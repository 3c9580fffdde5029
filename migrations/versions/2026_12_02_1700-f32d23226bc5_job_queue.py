"""job queue: the job table (the SQLite queue) and, on PostgreSQL, procrastinate's schema

Revision ID: f32d23226bc5
Revises: 8d41e2c7b9a3
Create Date: 2026-12-02 17:00:00+00:00
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "f32d23226bc5"
down_revision: str | None = "8d41e2c7b9a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# procrastinate's own schema.sql of that release, as it is: a later release's migrations go in a new revision
PROCRASTINATE_SCHEMA = Path(__file__).resolve().parent.parent / "procrastinate" / "schema-3.10.0.sql"

DROP_PROCRASTINATE = r"""
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers
    CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\_%'
    LOOP
        EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE';
    END LOOP;
END;
$$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status CASCADE;
"""


def _run_script(sql: str) -> None:
    """Several statements at once, through the driver (no parameters, so no placeholder parsing)."""
    op.get_bind().connection.driver_connection.execute(sql)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=100), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("periodic_key", sa.String(length=140), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("periodic_key", name=op.f("uq_job_periodic_key")),
    )
    op.create_index("ix_job_status_run_at", "job", ["status", "run_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _run_script(PROCRASTINATE_SCHEMA.read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_script(DROP_PROCRASTINATE)
    op.drop_index("ix_job_status_run_at", table_name="job")
    op.drop_table("job")
