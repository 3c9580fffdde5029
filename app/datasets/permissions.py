"""Who may see and change datasets: small pure predicates, deny by default.

Staff of a dataset are the staff of its challenge (sponsors' members, the programme operator's members,
platform admins) or, for a dataset in a sponsor's own catalogue (no challenge), the owner organisation's
members and platform admins. Staff see every dataset of theirs whatever its access level.

Access levels for everyone else:
- public: anyone, signed in or not;
- registered: anyone signed in;
- applicants: the members of startups that submitted a proposal to the challenge (accepting its terms) and
  have not withdrawn it;
- selected: challenge staff only until selection (the jury) exists; then the selected startups' members.

An anonymous visitor may know that a registered dataset exists (its title and licence, to judge whether an
account is worth it) and is asked to sign in; every other dataset they may not see stays unknown (404).

The public DCAT catalogue lists the harvestable datasets: is_harvestable, and its SQL form
harvestable_datasets beside it (tests/test_rule_agreement.py checks that they agree).
"""

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col, select

from app.accounts.permissions import is_platform_admin
from app.challenges.models import Challenge
from app.challenges.permissions import is_public, public_challenges
from app.datasets.models import Access, Dataset
from app.security.actor import Actor


def is_catalogue_staff(actor: Actor, dataset: Dataset) -> bool:
    return is_platform_admin(actor) or (actor.is_authenticated and dataset.owner_id in actor.organisation_ids())


def can_view_dataset(actor: Actor, dataset: Dataset, *, staff: bool, applicant: bool = False) -> bool:
    """`applicant`: the actor's startup has a submitted proposal to the dataset's challenge."""
    if staff:
        return True
    if dataset.access == Access.public:
        return True
    if dataset.access == Access.registered:
        return actor.is_authenticated
    if dataset.access == Access.applicants:
        return actor.is_authenticated and applicant
    return False  # selected: staff only until selection exists


def needs_sign_in(actor: Actor, dataset: Dataset) -> bool:
    """The dataset is hidden from this visitor only because they are not signed in: they see its title and
    licence and are asked to sign in (never true for applicants' or selected startups' datasets)."""
    return not actor.is_authenticated and dataset.access == Access.registered


def can_edit_dataset(actor: Actor, *, may_edit_challenge: bool, dataset: Dataset | None = None) -> bool:
    """Editing a challenge's datasets follows can_upload_data on the challenge (passed in as a bool);
    a catalogue dataset (no challenge) is edited by its owner organisation's members."""
    if dataset is not None and dataset.challenge_id is None:
        return is_catalogue_staff(actor, dataset)
    return may_edit_challenge


def is_harvestable(dataset: Dataset, challenge: Challenge | None) -> bool:
    """Listed in the public DCAT catalogue: public access, on a public challenge (or in a sponsor's catalogue,
    `challenge` None)."""
    return dataset.access == Access.public and (challenge is None or is_public(challenge))


def harvestable_datasets() -> ColumnElement[bool]:
    """The SQL form of is_harvestable."""
    on_public_challenges = select(Challenge.id).where(public_challenges())
    return and_(
        col(Dataset.access) == Access.public,
        or_(col(Dataset.challenge_id).is_(None), col(Dataset.challenge_id).in_(on_public_challenges)),
    )
