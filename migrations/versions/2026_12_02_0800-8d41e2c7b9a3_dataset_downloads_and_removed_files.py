"""dataset downloads are recorded, and a dataset file can be removed from the list while kept for its downloaders

Revision ID: 8d41e2c7b9a3
Revises: 3f6b8d1c2a7e
Create Date: 2026-12-02 08:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "8d41e2c7b9a3"
down_revision: str | None = "3f6b8d1c2a7e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("removed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_file_removed_by_id_user"), "user", ["removed_by_id"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "dataset_download",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("downloaded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["dataset_file.id"], name=op.f("fk_dataset_download_file_id_dataset_file"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_dataset_download_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_download")),
        sa.UniqueConstraint("file_id", "user_id", name=op.f("uq_dataset_download_file_id_user_id")),
    )
    with op.batch_alter_table("dataset_download", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_download_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_download_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    kept = op.get_bind().execute(sa.text("SELECT count(*) FROM dataset_file WHERE removed_at IS NOT NULL")).scalar()
    if kept:
        # Before this revision a file row is a listed file: dropping removed_at would list them for everyone.
        raise RuntimeError(
            f"{kept} dataset file(s) were removed but kept for those who downloaded them; the schema before this "
            "revision cannot hide them. Delete them (and their stored bytes) before downgrading."
        )
    op.drop_table("dataset_download")
    with op.batch_alter_table("dataset_file", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_dataset_file_removed_by_id_user"), type_="foreignkey")
        batch_op.drop_column("removed_by_id")
        batch_op.drop_column("removed_at")
