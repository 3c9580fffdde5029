"""The jury's JSON shapes for the API (API.md, "Jury rounds"), built from the records' projections: what a
juror may see of a proposal is decided in records.py, and these only copy it out."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.challenges.schemas import OrganisationRef
from app.config import get_settings
from app.i18n import gettext
from app.jury.assignments import AssignmentReport, EntryProgress, JurorProgress
from app.jury.jurors import ShownConflict
from app.jury.models import Juror, JuryCriterion, JuryReview, JuryReviewVersion, ReviewStatus
from app.jury.records import AssignmentView, RoundView
from app.jury.reviews import ShownReview, weighted_score
from app.jury.schemas import Kind, Visibility
from app.security.tokens import sign

RoundStatusName = Literal["draft", "open", "closed", "decided"]
AssignmentStatusName = Literal["pending", "draft", "submitted", "abstained"]
ReviewStatusName = Literal["draft", "submitted", "abstained"]
JurorStatusName = Literal["pending", "expired", "seated"]


class CriterionPublic(BaseModel):
    id: int
    name: str
    description: str
    weight: float
    min: float
    max: float
    step: float = Field(description="1: whole points; 0.5: half points")
    comment_required: bool


class RoundPublic(BaseModel):
    id: int
    url: str
    challenge: int
    position: int = Field(description="The round's place in the challenge's selection, from 1")
    name: str
    kind: Kind
    status: RoundStatusName = Field(description="By the server clock: an open round past `closes_at` is closed")
    opens_at: datetime = Field(description="In the programme's time zone")
    closes_at: datetime = Field(description="In the programme's time zone")
    timezone: str
    reviews_per_proposal: int
    max_load: int | None
    blind: bool
    others_visible: Visibility
    slots_bookable: bool
    criteria: list[CriterionPublic]
    revision: int = Field(description="Bumped by every change; the ETag carries it")
    opened_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EntryPublic(BaseModel):
    id: int
    url: str
    round: int
    proposal: int
    title: str
    startup: OrganisationRef
    assigned: int = Field(description="Jurors assigned the proposal")
    submitted: int = Field(description="Reviews submitted")
    abstained: int = Field(description="Jurors who abstained")
    excluded: bool = Field(description="Left out of the round by the staff: no longer assigned")
    excluded_reason: str
    excluded_at: datetime | None
    created_at: datetime


class JurorPublic(BaseModel):
    id: int
    url: str
    round: int
    user: int | None = Field(description="None until an invited person accepts")
    name: str
    email: str
    status: JurorStatusName = Field(description="`pending`: invited by email, not yet accepted")
    themes: list[str]
    assigned: int
    submitted: int
    abstained: int
    drafts: int
    invitation_expires_at: datetime | None
    accepted_at: datetime | None
    created_at: datetime


class ConflictPublic(BaseModel):
    id: str = Field(description="Opaque; an automatic conflict is computed, not stored")
    url: str
    juror: int
    juror_name: str
    startup: OrganisationRef | None = Field(description="None for a juror of a blind round")
    source: Literal["declared", "automatic"]
    reason: str
    created_at: datetime | None = Field(description="When it was declared (None for an automatic one)")


class UnfilledPublic(BaseModel):
    proposal: int
    entry: int
    title: str
    missing: int = Field(description="Reviews that could not be placed")
    reason: Literal["too_few_jurors", "conflicts", "max_load"]


class AssignReportPublic(BaseModel):
    assigned: int = Field(description="Assignments in the round after the run")
    added: int
    removed: int
    jurors: int
    min_load: int
    max_load: int
    unfilled: list[UnfilledPublic]


class ReviewPublic(BaseModel):
    id: int
    url: str
    assignment: int | None = Field(description="None where the reader may not know whose review it is")
    proposal: int
    juror: int | None = Field(description="None where the reader may not know the juror (a blind round)")
    juror_name: str | None
    status: ReviewStatusName
    scores: dict[str, float] = Field(description="By criterion id")
    comments: dict[str, str] = Field(description="Per criterion, by criterion id")
    comment: str = Field(description="Meant for the startup")
    note: str | None = Field(description="For the jury only")
    reason: str = Field(description="Why the juror abstained")
    weighted_score: float | None = Field(description="On the criteria's scale; None unless submitted and complete")
    revision: int
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ReviewVersionPublic(BaseModel):
    number: int
    status: ReviewStatusName
    scores: dict[str, float]
    comments: dict[str, str]
    comment: str
    note: str
    reason: str
    saved_at: datetime


class AssignmentPublic(BaseModel):
    id: int
    url: str
    round: int
    juror: int
    juror_name: str
    proposal: int
    entry: int
    title: str
    startup: OrganisationRef | None = Field(description="None where the reader may not know it (a blind round)")
    status: AssignmentStatusName
    manual: bool = Field(description="Added by the staff by hand")
    created_at: datetime
    updated_at: datetime


class TeamMemberShown(BaseModel):
    name: str
    role: str


class AttachmentShown(BaseModel):
    id: int
    name: str = Field(description="In a blind round a neutral name (`Attachment 1.pdf`)")
    size: int
    media_type: str
    download_url: str


class ProposalShown(BaseModel):
    """The proposal's last submitted version as the juror may see it."""

    id: int
    title: str
    summary: str
    description: str
    data_use: str
    experimentation_plan: str
    team: list[TeamMemberShown]
    trl: int | None
    needs: str
    plan: list[dict[str, Any]]
    kpis: list[str]
    answers: dict[str, Any]
    video_url: str
    attachments: list[AttachmentShown]


class AssignmentDetail(AssignmentPublic):
    blind: bool = Field(description="The startup is not named to the reader")
    accepts_reviews: bool = Field(description="The review can be written now (the round is open)")
    proposal_content: ProposalShown
    criteria: list[CriterionPublic]
    review: ReviewPublic | None = Field(description="The juror's review, once started")
    history: list[ReviewVersionPublic] = Field(description="The review as each submission left it, oldest first")


# ---- builders ----------------------------------------------------------------------------------------------


def criterion(c: JuryCriterion) -> CriterionPublic:
    return CriterionPublic(
        id=c.id or 0,
        name=c.name,
        description=c.description,
        weight=c.weight,
        min=c.min_score,
        max=c.max_score,
        step=c.step,
        comment_required=c.comment_required,
    )


def round_public(url: str, view: RoundView) -> RoundPublic:
    r = view.round
    return RoundPublic(
        id=view.id,
        url=url,
        challenge=r.challenge_id,
        position=r.position,
        name=r.name,
        kind=r.kind,  # type: ignore[arg-type]
        status=view.status,  # type: ignore[arg-type]
        opens_at=view.local(r.opens_at),
        closes_at=view.local(r.closes_at),
        timezone=view.timezone,
        reviews_per_proposal=r.reviews_per_proposal,
        max_load=r.max_load,
        blind=r.blind,
        others_visible=r.others_visible,  # type: ignore[arg-type]
        slots_bookable=r.slots_bookable,
        criteria=[criterion(c) for c in view.criteria],
        revision=r.revision,
        opened_at=r.opened_at,
        closed_at=r.closed_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def entry_public(url: str, row: EntryProgress, startup: OrganisationRef) -> EntryPublic:
    e = row.entry
    return EntryPublic(
        id=e.id or 0,
        url=url,
        round=e.round_id,
        proposal=e.proposal_id,
        title=row.proposal.title,
        startup=startup,
        assigned=row.assigned,
        submitted=row.submitted,
        abstained=row.abstained,
        excluded=e.excluded_at is not None,
        excluded_reason=e.excluded_reason,
        excluded_at=e.excluded_at,
        created_at=e.created_at,
    )


def juror_status(juror: Juror, now: datetime) -> str:
    if juror.user_id is not None and juror.accepted_at is not None:
        return "seated"
    if juror.invitation_expires_at is not None and juror.invitation_expires_at <= now:
        return "expired"
    return "pending"


def juror_public(url: str, juror: Juror, progress: JurorProgress | None, now: datetime) -> JurorPublic:
    return JurorPublic(
        id=juror.id or 0,
        url=url,
        round=juror.round_id,
        user=juror.user_id,
        name=juror.name,
        email=juror.email,
        status=juror_status(juror, now),  # type: ignore[arg-type]
        themes=list(juror.themes),
        assigned=progress.assigned if progress else 0,
        submitted=progress.submitted if progress else 0,
        abstained=progress.abstained if progress else 0,
        drafts=progress.drafts if progress else 0,
        invitation_expires_at=juror.invitation_expires_at if juror.accepted_at is None else None,
        accepted_at=juror.accepted_at,
        created_at=juror.created_at,
    )


def conflict_id(shown: ShownConflict) -> str:
    c = shown.conflict
    if c.declared is not None:
        return f"declared-{c.declared.id}"
    return f"automatic-{shown.juror.id}-{c.startup_id}"


def _unnamed_conflict_id(shown: ShownConflict) -> str:
    """An id that does not carry the startup's: a declared conflict's row, or an automatic one's keyed digest
    (a plain digest of so few possible ids would be reversed by trying them)."""
    c = shown.conflict
    if c.declared is not None:
        return f"declared-{c.declared.id}"
    return "automatic-" + sign(get_settings().secret_key, f"conflict-{shown.juror.id}-{c.startup_id}")[:20]


def conflict_public(url: str, shown: ShownConflict, *, named: bool) -> ConflictPublic:
    """The conflict; its startup unnamed where the reader may not know it (`named` false: a blind round's
    juror)."""
    c = shown.conflict
    s = shown.startup
    return ConflictPublic(
        id=conflict_id(shown) if named else _unnamed_conflict_id(shown),
        url=url,
        juror=shown.juror.id or 0,
        juror_name=shown.juror.name,
        startup=OrganisationRef(id=s.id or 0, slug=s.slug, name=s.name) if named else None,
        source=c.source,  # type: ignore[arg-type]
        reason=c.reason_in(gettext),
        created_at=c.declared.created_at if c.declared is not None else None,
    )


def report_public(report: AssignmentReport) -> AssignReportPublic:
    return AssignReportPublic(
        assigned=report.assigned,
        added=report.added,
        removed=report.removed,
        jurors=report.jurors,
        min_load=report.min_load,
        max_load=report.max_load,
        unfilled=[
            UnfilledPublic(
                proposal=u.entry.proposal_id,
                entry=u.entry.id or 0,
                title=u.proposal_title,
                missing=u.missing,
                reason=u.reason,  # type: ignore[arg-type]
            )
            for u in report.unfilled
        ],
    )


def review_public(
    url: str,
    review: JuryReview,
    criteria: list[JuryCriterion],
    *,
    assignment: int | None,
    proposal: int,
    juror: int | None,
    juror_name: str | None,
    note: str | None,
    texts: ShownReview | None = None,
) -> ReviewPublic:
    """The review's fields; its texts as `texts` shows them to the reader (another juror's review), else as
    stored (the reader's own)."""
    return ReviewPublic(
        id=review.id or 0,
        url=url,
        assignment=assignment,
        proposal=proposal,
        juror=juror,
        juror_name=juror_name,
        status=review.status,  # type: ignore[arg-type]
        scores={k: float(v) for k, v in review.scores.items()},
        comments=dict(texts.comments if texts else review.criterion_comments),
        comment=texts.comment if texts else review.comment,
        note=note,
        reason=texts.reason if texts else _abstain_reason(review),
        weighted_score=weighted_score(review, criteria),
        revision=review.revision,
        submitted_at=review.submitted_at,
        created_at=review.created_at,
        updated_at=review.updated_at,
    )


def _abstain_reason(review: JuryReview) -> str:
    return review.abstain_reason if review.status == ReviewStatus.abstained else ""


def shown_review_public(url: str, shown: ShownReview, criteria: list[JuryCriterion]) -> ReviewPublic:
    return review_public(
        url,
        shown.review,
        criteria,
        assignment=shown.review.assignment_id if shown.juror_id is not None else None,
        proposal=shown.proposal_id,
        juror=shown.juror_id,
        juror_name=shown.juror_name,
        note=shown.note,
        texts=shown,
    )


def version_public(v: JuryReviewVersion) -> ReviewVersionPublic:
    return ReviewVersionPublic(
        number=v.number,
        status=v.status,  # type: ignore[arg-type]
        scores={k: float(s) for k, s in v.scores.items()},
        comments=dict(v.criterion_comments),
        comment=v.comment,
        note=v.note,
        reason=v.abstain_reason,
        saved_at=v.saved_at,
    )


def _startup(view: AssignmentView) -> OrganisationRef | None:
    if view.startup_name is None:
        return None
    s = view.proposal.startup
    return OrganisationRef(id=s.id or 0, slug=s.slug, name=s.name)


def assignment_fields(url: str, view: AssignmentView) -> dict[str, Any]:
    a = view.assignment
    return {
        "id": view.id,
        "url": url,
        "round": a.round_id,
        "juror": a.juror_id,
        "juror_name": view.juror_name,
        "proposal": view.entry.proposal_id,
        "entry": view.entry.id or 0,
        "title": view.title,
        "startup": _startup(view),
        "status": view.status,
        "manual": a.manual,
        "created_at": a.created_at,
        "updated_at": view.review.updated_at if view.review else a.created_at,
    }


def assignment_public(url: str, view: AssignmentView) -> AssignmentPublic:
    return AssignmentPublic(**assignment_fields(url, view))


def shown_attachment_names(view: AssignmentView) -> dict[int, str]:
    """Attachment id → the name the reader is shown (numbered as the proposal lists them)."""
    return {a["id"]: view.attachment_name(a, n) for n, a in enumerate(view.content.get("attachments") or [], start=1)}


def proposal_shown(url: str, view: AssignmentView) -> ProposalShown:
    """The proposal of the assignment at `url`, as its reader may see it."""
    content = view.content
    names = shown_attachment_names(view)
    return ProposalShown(
        id=view.entry.proposal_id,
        title=view.title,
        summary=str(content.get("summary") or ""),
        description=str(content.get("description") or ""),
        data_use=str(content.get("data_use") or ""),
        experimentation_plan=str(content.get("experimentation_plan") or ""),
        team=[
            TeamMemberShown(name=str(m.get("name", "")), role=str(m.get("role", ""))) for m in content.get("team") or []
        ],
        trl=content.get("trl"),
        needs=str(content.get("needs") or ""),
        plan=list(content.get("plan") or []),
        kpis=list(content.get("kpis") or []),
        answers=dict(content.get("answers") or {}),
        video_url=str(content.get("video_url") or ""),
        attachments=[
            AttachmentShown(
                id=a["id"],
                name=names[a["id"]],
                size=a["size"],
                media_type=a["media_type"],
                download_url=f"{url}/attachments/{a['id']}/download",
            )
            for a in content.get("attachments") or []
        ],
    )


def assignment_detail(
    url: str, review_url: str, view: AssignmentView, history: list[JuryReviewVersion]
) -> AssignmentDetail:
    review = view.review
    return AssignmentDetail(
        **assignment_fields(url, view),
        blind=view.blind,
        accepts_reviews=view.round.accepts_reviews,
        proposal_content=proposal_shown(url, view),
        criteria=[criterion(c) for c in view.round.criteria],
        review=None
        if review is None
        else review_public(
            review_url,
            review,
            view.round.criteria,
            assignment=view.id,
            proposal=view.entry.proposal_id,
            juror=view.juror.id,
            juror_name=view.juror_name,
            note=review.note,
        ),
        history=[version_public(v) for v in history],
    )
