"""Imports every domain's tables so that the metadata is complete (for Alembic and tests)."""

from app.accounts.models import (  # noqa: F401
    ApiToken,
    FormerMembership,
    Invitation,
    LoginAttempt,
    Membership,
    Organisation,
    PasswordReset,
    User,
    UserSession,
)
from app.audit.models import AuditEvent  # noqa: F401
from app.challenges.models import (  # noqa: F401
    Challenge,
    ChallengeChange,
    ChallengeFollower,
    ChallengeSponsor,
    ChallengeTerms,
    Question,
)
from app.datasets.models import Dataset, DatasetField, DatasetFile  # noqa: F401
from app.jobs.models import Job  # noqa: F401
from app.jury.models import (  # noqa: F401
    Juror,
    JuryAssignment,
    JuryBid,
    JuryConflict,
    JuryCriterion,
    JuryEntry,
    JuryReview,
    JuryReviewVersion,
    JuryRound,
    PitchSlot,
)
from app.notifications.models import OutboxMessage  # noqa: F401
from app.programmes.models import Programme, ProgrammePartner, ProgrammePhase  # noqa: F401
from app.projects.models import Project  # noqa: F401
from app.proposals.models import (  # noqa: F401
    Proposal,
    ProposalAttachment,
    ProposalQuestion,
    ProposalVersion,
)
from app.selection.models import DeliberationMessage, SelectionDecision, StaffNote  # noqa: F401
from app.startups.models import StartupProfile  # noqa: F401
