"""the language of IP terms, their translations, and the language a startup accepted them in

The default IP terms now come in French, English and Arabic: a version of the terms records the language of
its text and holds the other languages' texts when they exist. Versions that hold the English default
terms get the French and Arabic ones (written here as they were on this date). A proposal version records
the language of the text accepted; versions accepted before record the language of their terms, when known.

Revision ID: 3f6b8d1c2a7e
Revises: 5c1d2e7a9b40
Create Date: 2026-12-02 07:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6b8d1c2a7e"
down_revision: str | None = "5c1d2e7a9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_EN = "The intellectual property of the solutions, prototypes and results developed by the startup stays with the startup. The sponsors receive a non-exclusive, free licence to use the prototype for evaluation during the programme. Any use beyond the programme needs a separate agreement with the startup."
DEFAULT_FR = "La propriété intellectuelle des solutions, prototypes et résultats développés par la startup reste acquise à la startup. Les sponsors reçoivent une licence non exclusive et gratuite d’utilisation du prototype à des fins d’évaluation pendant la durée du programme. Toute utilisation au-delà du programme requiert un accord distinct avec la startup."
DEFAULT_AR = "تظل الملكية الفكرية للحلول والنماذج الأولية والنتائج التي تطورها الشركة الناشئة ملكًا للشركة الناشئة. ويحصل الرعاة على ترخيص غير حصري ومجاني لاستخدام النموذج الأولي لأغراض التقييم خلال مدة البرنامج. ويستلزم أي استخدام يتجاوز نطاق البرنامج اتفاقًا منفصلًا مع الشركة الناشئة."


def upgrade() -> None:
    with op.batch_alter_table("challenge_terms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("translations", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("proposal_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terms_language", sa.String(length=8), nullable=True))

    terms = sa.table(
        "challenge_terms",
        sa.column("id", sa.Integer),
        sa.column("ip_terms", sa.Text),
        sa.column("language", sa.String),
        sa.column("translations", sa.JSON),
    )
    op.get_bind().execute(
        terms.update()
        .where(terms.c.ip_terms == DEFAULT_EN)
        .values(language="en", translations={"fr": DEFAULT_FR, "ar": DEFAULT_AR})
    )
    versions = sa.table("proposal_version", sa.column("terms_id", sa.Integer), sa.column("terms_language", sa.String))
    op.get_bind().execute(
        versions.update().values(
            terms_language=sa.select(terms.c.language).where(terms.c.id == versions.c.terms_id).scalar_subquery()
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("proposal_version", schema=None) as batch_op:
        batch_op.drop_column("terms_language")
    with op.batch_alter_table("challenge_terms", schema=None) as batch_op:
        batch_op.drop_column("translations")
        batch_op.drop_column("language")
