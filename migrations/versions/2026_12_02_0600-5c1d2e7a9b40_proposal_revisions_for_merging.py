"""proposal revisions, for merging teammates' saves

Each save of a proposal's working copy records the fields it changed, so that a form drawn at an older
revision can be merged field by field. Existing proposals get one full row at their current revision: a
form drawn before it merges conservatively (a field changed on both sides is a conflict).

Revision ID: 5c1d2e7a9b40
Revises: 90ae2b2fde26
Create Date: 2026-12-02 06:00:00+00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db


revision: str = '5c1d2e7a9b40'
down_revision: str | None = '90ae2b2fde26'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = ("title", "summary", "description", "data_use", "experimentation_plan", "needs", "video_url", "trl",
          "team", "plan", "kpis")


def upgrade() -> None:
    op.create_table('proposal_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('editor', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_proposal_revision_proposal_id_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by_id'], ['user.id'], name=op.f('fk_proposal_revision_saved_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_revision')),
    sa.UniqueConstraint('proposal_id', 'revision', name=op.f('uq_proposal_revision_proposal_id_revision'))
    )
    with op.batch_alter_table('proposal_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_revision_proposal_id'), ['proposal_id'], unique=False)

    connection = op.get_bind()
    proposal = sa.table("proposal", sa.column("id", sa.Integer), sa.column("revision", sa.Integer),
                        sa.column("updated_by_id", sa.Integer), sa.column("updated_at", app.db.UTCDateTime()),
                        sa.column("answers", sa.JSON), *(sa.column(f) for f in FIELDS[:8]),
                        *(sa.column(f, sa.JSON) for f in FIELDS[8:]))
    rows = sa.table("proposal_revision", sa.column("proposal_id", sa.Integer), sa.column("revision", sa.Integer),
                    sa.column("saved_by_id", sa.Integer), sa.column("saved_at", app.db.UTCDateTime()),
                    sa.column("full", sa.Boolean), sa.column("changes", sa.JSON))
    for p in connection.execute(sa.select(proposal)).mappings():
        answers = p["answers"] if isinstance(p["answers"], dict) else json.loads(p["answers"] or "{}")
        changes = {f: p[f] for f in FIELDS} | {f"answers.{k}": v for k, v in answers.items()}
        connection.execute(rows.insert().values(proposal_id=p["id"], revision=p["revision"], full=True,
                                                saved_by_id=p["updated_by_id"], saved_at=p["updated_at"],
                                                changes=changes))


def downgrade() -> None:
    with op.batch_alter_table('proposal_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_revision_proposal_id'))
    op.drop_table('proposal_revision')
