"""The loaded proposal and what each reader sees of it: the projection that every face reads (pages, API,
emails), so that what the staff may see of a proposal is decided here and nowhere else.

Rules:
- Its startup's members read the working copy, every submitted version, and whether changes are unsubmitted.
- The challenge's staff, once they may read it (permissions.py), read the last submitted version only: its
  content, number, revision and time; never the working copy, nor the versions before it.
- Where a selection set the status (shortlisted, selected, waitlisted, rejected), its startup reads the status
  it was last told (STATUS_TOLD): a decision confirmed by the staff is not learnt from the status before the
  round's outcomes are sent. The staff read the status as it is.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app import i18n
from app.accounts.models import Organisation, User
from app.challenges import service as challenges
from app.challenges.models import Challenge
from app.challenges.service import ChallengeView
from app.db import utcnow
from app.errors import NotFound
from app.proposals import permissions as can
from app.proposals.models import Proposal, ProposalAttachment, ProposalQuestion, ProposalStatus, ProposalVersion
from app.security.actor import Actor

OUTCOMES = (ProposalStatus.shortlisted, ProposalStatus.selected, ProposalStatus.waitlisted, ProposalStatus.rejected)
# Given proposals whose status is a selection's outcome, the status their startup was last told, for those whose
# outcome is not sent yet: the selection's rule (app/selection/publication.py), installed by app/pages/proposal.py
# so that this domain imports none above it.
StatusTold = Callable[[Session, Sequence[Proposal]], dict[int, str]]
STATUS_TOLD: list[StatusTold] = []


@dataclass
class ProposalView:
    proposal: Proposal
    challenge: ChallengeView
    startup: Organisation
    actor: Actor
    staff: bool
    now: datetime
    attachments: list[ProposalAttachment] = field(default_factory=list)  # every attachment, removed included
    versions: list[ProposalVersion] = field(default_factory=list)  # oldest first
    questions: list[ProposalQuestion] = field(default_factory=list)
    # read after its submission locks were taken (get_proposal(for_submission=True)): what it shows is what a
    # submission checks and freezes, without reading it again
    locked: bool = False
    told_status: str | None = None  # the status its startup was last told, where it differs (STATUS_TOLD)

    @property
    def status(self) -> str:
        """The status as this reader may know it (see the module's rules)."""
        return self.told_status if self.told_status is not None else self.proposal.status

    @property
    def reads_as_startup(self) -> bool:
        """The reader is a member of the proposal's startup: the working copy and all its history."""
        return can.is_startup_member(self.actor, self.proposal)

    @property
    def reads_as_staff(self) -> bool:
        """The reader is the challenge's staff and not of the startup: the last submitted version only."""
        return self.staff and not self.reads_as_startup

    @property
    def latest(self) -> ProposalVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def current_attachments(self) -> list[ProposalAttachment]:
        return [a for a in self.attachments if a.removed_at is None]

    @property
    def has_unsubmitted_changes(self) -> bool:
        """The working copy changed since the last submission: the startup's business only."""
        p = self.proposal
        return self.reads_as_startup and p.submitted_revision is not None and p.revision != p.submitted_revision

    @property
    def content(self) -> dict[str, Any]:
        """What this reader sees: the working copy for the startup, the last submitted version for staff."""
        if self.reads_as_startup or self.latest is None:
            return snapshot(self.proposal, self.current_attachments)
        return self.latest.content

    @property
    def shown_versions(self) -> list[ProposalVersion]:
        """The submitted versions this reader sees (oldest first): all for the startup, the last for staff."""
        if self.reads_as_startup:
            return self.versions
        return [self.latest] if self.latest else []

    @property
    def shown_revision(self) -> int:
        """The revision of what this reader sees: the working copy's, or the one the last version froze."""
        p = self.proposal
        return p.revision if self.reads_as_startup else (p.submitted_revision or p.revision)

    @property
    def shown_updated_at(self) -> datetime:
        """When what this reader sees last changed: the working copy's last save, or the last submission."""
        if self.reads_as_startup or self.latest is None:
            return self.proposal.updated_at
        return self.latest.submitted_at

    @property
    def eligibility_reason(self) -> str | None:
        """The reason of the eligibility decision, once there is one (both readers see it)."""
        return self.proposal.eligibility_reason if self.proposal.eligibility_at else None

    def shown_attachment(self, attachment_id: int) -> ProposalAttachment | None:
        """An attachment of what this reader sees (removed ones included while the last version lists them)."""
        listed = {a["id"] for a in self.content.get("attachments", [])}
        return next((a for a in self.attachments if a.id == attachment_id and a.id in listed), None)

    @property
    def may_edit(self) -> bool:
        return can.can_edit_proposal(self.actor, self.proposal, self.challenge.challenge, self.now)

    @property
    def may_withdraw(self) -> bool:
        return can.can_withdraw_proposal(self.actor, self.proposal, self.challenge.challenge, self.now)

    @property
    def may_check_eligibility(self) -> bool:
        return can.can_check_eligibility(
            self.actor, self.proposal, self.challenge.challenge, staff=self.staff, now=self.now
        )

    @property
    def deadline_passed(self) -> bool:
        return can.deadline_passed(self.challenge.challenge, self.now)

    def attachment_for(self, question_id: int) -> ProposalAttachment | None:
        return next((a for a in self.current_attachments if a.question_id == question_id), None)


# ---- content and hashes -------------------------------------------------------------------------------


def snapshot_entry(a: ProposalAttachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "size": a.size,
        "sha256": a.sha256,
        "media_type": a.media_type,
        "question": a.question_id,
    }


def snapshot(proposal: Proposal, attachments: Sequence[ProposalAttachment]) -> dict[str, Any]:
    """The proposal's content as submitted: every field the startup wrote, answers and attachment hashes."""
    return {
        "challenge": proposal.challenge_id,
        "startup": proposal.startup_id,
        "title": proposal.title,
        "summary": proposal.summary,
        "description": proposal.description,
        "data_use": proposal.data_use,
        "experimentation_plan": proposal.experimentation_plan,
        "team": list(proposal.team),
        "trl": proposal.trl,
        "needs": proposal.needs,
        "plan": list(proposal.plan),
        "kpis": list(proposal.kpis),
        "answers": dict(proposal.answers),
        "video_url": proposal.video_url,
        "attachments": [snapshot_entry(a) for a in sorted(attachments, key=lambda a: a.id or 0)],
    }


def content_sha256(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a content (sorted keys, no spaces, UTF-8): anyone can recompute it."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def format_deadline(view: ChallengeView) -> str:
    """The deadline in the programme's time zone, named, in the current language."""
    return i18n.format_datetime(view.challenge.deadline, "zoned", view.programme.timezone)


# ---- loading ------------------------------------------------------------------------------------------


def views_of(
    session: Session,
    actor: Actor,
    proposals: Sequence[Proposal],
    challenge_views: dict[int, ChallengeView],
    now: datetime,
) -> list[ProposalView]:
    """Views of many proposals in a constant number of queries (the challenges are loaded by the caller)."""
    if not proposals:
        return []
    ids = [p.id for p in proposals]
    startups = {
        o.id: o
        for o in session.exec(select(Organisation).where(col(Organisation.id).in_({p.startup_id for p in proposals})))
    }
    attachments: dict[int, list[ProposalAttachment]] = {}
    for a in session.exec(
        select(ProposalAttachment)
        .where(col(ProposalAttachment.proposal_id).in_(ids))
        .order_by(col(ProposalAttachment.id))
    ):
        attachments.setdefault(a.proposal_id, []).append(a)
    versions: dict[int, list[ProposalVersion]] = {}
    for v in session.exec(
        select(ProposalVersion).where(col(ProposalVersion.proposal_id).in_(ids)).order_by(col(ProposalVersion.number))
    ):
        versions.setdefault(v.proposal_id, []).append(v)
    questions: dict[int, list[ProposalQuestion]] = {}
    for q in session.exec(
        select(ProposalQuestion)
        .where(col(ProposalQuestion.challenge_id).in_({p.challenge_id for p in proposals}))
        .order_by(col(ProposalQuestion.position), col(ProposalQuestion.id))
    ):
        questions.setdefault(q.challenge_id, []).append(q)
    views = []
    for p in proposals:
        challenge = challenge_views[p.challenge_id]
        views.append(
            ProposalView(
                proposal=p,
                challenge=challenge,
                startup=startups[p.startup_id],
                actor=actor,
                staff=challenge.is_staff(actor),
                now=now,
                attachments=attachments.get(p.id or 0, []),
                versions=versions.get(p.id or 0, []),
                questions=questions.get(p.challenge_id, []),
            )
        )
    _tell(session, views)
    return views


def _tell(session: Session, views: list[ProposalView]) -> None:
    """The status each startup reader was last told, where a selection's outcome is not sent yet."""
    asked = [v for v in views if v.reads_as_startup and not v.staff and v.proposal.status in OUTCOMES]
    if not asked or not STATUS_TOLD:
        return
    told = {k: v for rule in STATUS_TOLD for k, v in rule(session, [v.proposal for v in asked]).items()}
    for view in asked:
        view.told_status = told.get(view.proposal.id or 0)


def get_proposal(
    session: Session, actor: Actor, proposal_id: int, *, now: datetime | None = None, for_submission: bool = False
) -> ProposalView:
    """A proposal the actor may see; NotFound for everyone else (other startups, staff before the deadline).
    `for_submission`: for its startup's members, the challenge's row is share-locked and the proposal's locked
    before the rest is read (see lock_for_submission), so that the view is the one a submission checks."""
    now = now or utcnow()
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound()
    locked = for_submission and can.is_startup_member(actor, proposal)  # only its startup submits: nobody else locks
    if locked:
        lock_for_submission(session, proposal)
    challenge = challenges.get_challenge(session, actor, proposal.challenge_id)
    if not can.can_view_proposal(actor, proposal, challenge.challenge, staff=challenge.is_staff(actor), now=now):
        raise NotFound()
    view = views_of(session, actor, [proposal], {challenge.challenge.id or 0: challenge}, now)[0]
    view.locked = locked
    return view


def get_member_proposal(
    session: Session, actor: Actor, proposal_id: int, *, for_submission: bool = False
) -> ProposalView:
    """A proposal for what only its startup does on the pages (edit, submit, withdraw): 404 to anyone else,
    the staff who may read it included — those forms do not exist for them."""
    view = get_proposal(session, actor, proposal_id, for_submission=for_submission)
    if not view.reads_as_startup:
        raise NotFound()
    return view


def lock_for_submission(session: Session, proposal: Proposal) -> None:
    """The challenge's row in share mode, re-read (its extra questions cannot change while a submission is
    made; its deadline and terms are checked as they are now), then the proposal's row locked and re-read."""
    session.exec(
        select(Challenge)
        .where(Challenge.id == proposal.challenge_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).one()
    lock(session, proposal)


def lock(session: Session, proposal: Proposal) -> Proposal:
    """Re-read the proposal with a row lock (PostgreSQL) so that concurrent saves and submissions queue;
    SQLite's BEGIN IMMEDIATE already serialises writers."""
    locked = session.exec(
        select(Proposal).where(Proposal.id == proposal.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    return locked


def relock(session: Session, actor: Actor, view: ProposalView, now: datetime | None = None) -> ProposalView:
    """The view brought up to date under the proposal's row lock, so that what is checked and frozen is what a
    teammate's concurrent save or removal left (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises). The
    proposal's row is re-read with the lock, its attachments, versions and questions after it. The same view
    object is updated and returned, so a caller holding it sees what was checked."""
    lock(session, view.proposal)
    return _reread_lists(session, actor, view, now)


def relock_for_submission(session: Session, actor: Actor, view: ProposalView, now: datetime | None = None) -> None:
    """relock, with the challenge's row share-locked and re-read first (lock_for_submission); nothing to do for a
    view read that way already."""
    if view.locked:
        view.now = now or utcnow()  # the time the submission is checked at
        return
    lock_for_submission(session, view.proposal)
    _reread_lists(session, actor, view, now)
    view.locked = True


def _reread_lists(session: Session, actor: Actor, view: ProposalView, now: datetime | None) -> ProposalView:
    for loaded in (view.startup, *view.attachments, *view.versions, *view.questions):
        session.expire(loaded)
    challenges_by_id = {view.challenge.challenge.id or 0: view.challenge}
    fresh = views_of(session, actor, [view.proposal], challenges_by_id, now or utcnow())[0]
    view.startup, view.now, view.staff = fresh.startup, fresh.now, fresh.staff
    view.attachments, view.versions, view.questions = fresh.attachments, fresh.versions, fresh.questions
    return view


def get_version(session: Session, actor: Actor, view: ProposalView, number: int) -> ProposalVersion:
    """A submitted version (its receipt): the startup sees all of them, the staff the last one only."""
    found = next((v for v in view.shown_versions if v.number == number), None)
    if found is None:
        raise NotFound()
    return found


def eligibility_decider(session: Session, view: ProposalView) -> str | None:
    if view.proposal.eligibility_by_id is None:
        return None
    user = session.get(User, view.proposal.eligibility_by_id)
    return user.name if user else None
