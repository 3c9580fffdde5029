"""/api/v1 endpoints of the jury (API.md, "Jury rounds"): rounds and their criteria, entries, jurors,
conflicts of interest, assignment and reviews, on the same services and projections as the pages.

A round the caller may not know is a 404, as on the pages; a staff-only action on a round the caller sees as a
juror is a 403 (API.md: a forbidden action on a record the caller may see).
"""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse
from sqlmodel import col, select

from app.accounts.models import Organisation
from app.api import etags, problems
from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, paginate
from app.challenges import service as challenges
from app.challenges.schemas import OrganisationRef
from app.db import SessionDep
from app.errors import Forbidden, NotFound
from app.jury import assignments, jurors, records, reviews, service
from app.jury import serializers as out
from app.jury.models import JuryAssignment, JuryReview
from app.jury.records import AssignmentView, RoundView
from app.jury.schemas import (
    AssignmentIn,
    ConflictIn,
    EntriesIn,
    ExclusionIn,
    JurorIn,
    ReviewIn,
    RoundCreate,
    RoundUpdate,
)
from app.proposals import attachments as proposal_attachments
from app.security.actor import Actor
from app.validation import RecordId
from app.web import files as web_files

router = APIRouter()

STAFF_ONLY = "Only the challenge's sponsors and the programme operator may run its selection."
FilterId = Annotated[int | None, Query(ge=1, le=2_147_483_647)]


def etag(view: RoundView) -> str:
    return etags.etag("r", view.id, view.round.revision)


def _managed(view: RoundView) -> RoundView:
    """The round, for what only its staff do: a juror who sees it is refused (403)."""
    if not view.may_manage:
        raise Forbidden(STAFF_ONLY)
    return view


def _managed_round(session: SessionDep, actor: Actor, round_id: int) -> RoundView:
    return _managed(records.get_round(session, actor, round_id))


def _round_public(request: Request, view: RoundView) -> out.RoundPublic:
    return out.round_public(api_url(request, f"/rounds/{view.id}"), view)


def _assignment_url(request: Request, assignment_id: int) -> str:
    return api_url(request, f"/assignments/{assignment_id}")


def _review_url(request: Request, review_id: int | None) -> str:
    return api_url(request, f"/reviews/{review_id}")


def _entries(request: Request, session: SessionDep, actor: Actor, view: RoundView) -> list[out.EntryPublic]:
    """The round's entries with their review counts (those of startups the reader is conflicted with left out)."""
    _, rows = assignments.progress(session, actor, view)
    startups = {
        o.id: OrganisationRef(id=o.id or 0, slug=o.slug, name=o.name)
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_({row.proposal.startup_id for row in rows} or {-1}))
        )
    }
    return [
        out.entry_public(
            api_url(request, f"/rounds/{view.id}/entries/{row.entry.id}"), row, startups[row.proposal.startup_id]
        )
        for row in rows
    ]


# ---- rounds ---------------------------------------------------------------------------------------------


@router.get(
    "/challenges/{challenge_id}/rounds",
    response_model=Page[out.RoundPublic],
    summary="The challenge's rounds in order: all for its staff, the ones they sit on for jurors",
)
def round_list(
    request: Request, session: SessionDep, actor: ApiActor, challenge_id: RecordId, limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[out.RoundPublic]:  # fmt: skip
    challenge = challenges.get_challenge(session, actor, challenge_id)
    views = records.list_rounds(session, actor, challenge)
    return paginate(request, [_round_public(request, v) for v in views], limit=limit, cursor=cursor)


@router.post(
    "/challenges/{challenge_id}/rounds",
    response_model=out.RoundPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a draft round (times without an offset are in the programme's time zone)",
)
def round_create(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, challenge_id: RecordId,
    data: RoundCreate,
) -> out.RoundPublic:  # fmt: skip
    challenge = challenges.get_challenge(session, actor, challenge_id)
    if not challenge.is_staff(actor):
        raise Forbidden(STAFF_ONLY)
    view = service.create_round(session, actor, challenge, data)
    response.headers["ETag"] = etag(view)
    response.headers["Location"] = api_url(request, f"/rounds/{view.id}")
    return _round_public(request, view)


@router.get("/rounds/{round_id}", response_model=out.RoundPublic, summary="One round with its criteria")
def round_get(
    request: Request, response: Response, session: SessionDep, actor: ApiActor, round_id: RecordId
) -> out.RoundPublic:
    view = records.get_round(session, actor, round_id)
    response.headers["ETag"] = etag(view)
    return _round_public(request, view)


@router.patch(
    "/rounds/{round_id}",
    response_model=out.RoundPublic,
    responses={
        409: {"description": "The round is closed, or criteria were sent once it is open"},
        412: {"description": "The If-Match ETag is stale: someone changed the round in between"},
    },
    summary="Change a round's settings (criteria only while it is a draft); send If-Match with the ETag you read",
)
def round_patch(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: WriteActor,
    round_id: RecordId,
    data: RoundUpdate,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> out.RoundPublic:
    view = _managed_round(session, actor, round_id)
    expected = etags.revision_from(if_match, "r", view.id)
    view = service.update_round(session, actor, view, data, expected_revision=expected)
    response.headers["ETag"] = etag(view)
    return _round_public(request, view)


@router.post(
    "/rounds/{round_id}/open",
    response_model=out.RoundPublic,
    responses={409: {"description": "The round is not a draft"}},
    summary="Open a draft round (it needs criteria and a closing time ahead)",
)
def round_open(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, round_id: RecordId
) -> out.RoundPublic:
    view = service.open_round(session, actor, _managed_round(session, actor, round_id))
    response.headers["ETag"] = etag(view)
    return _round_public(request, view)


@router.post(
    "/rounds/{round_id}/close",
    response_model=out.RoundPublic,
    responses={409: {"description": "The round is not open"}},
    summary="Close an open round: its reviews become read-only",
)
def round_close(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, round_id: RecordId
) -> out.RoundPublic:
    view = service.close_round(session, actor, _managed_round(session, actor, round_id))
    response.headers["ETag"] = etag(view)
    return _round_public(request, view)


# ---- entries --------------------------------------------------------------------------------------------


@router.get(
    "/rounds/{round_id}/entries",
    response_model=Page[out.EntryPublic],
    summary="The proposals the round judges, with their review counts (staff)",
)
def entry_list(
    request: Request, session: SessionDep, actor: ApiActor, round_id: RecordId, limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[out.EntryPublic]:  # fmt: skip
    view = _managed_round(session, actor, round_id)
    return paginate(request, _entries(request, session, actor, view), limit=limit, cursor=cursor)


@router.post(
    "/rounds/{round_id}/entries",
    response_model=list[out.EntryPublic],
    responses={409: {"description": "The round is closed"}},
    summary="Enter proposals in the round: eligible ones in a first round, the previous round's shortlisted after",
)
def entry_add(
    request: Request, session: SessionDep, actor: WriteActor, round_id: RecordId, data: EntriesIn
) -> list[out.EntryPublic]:
    view = _managed_round(session, actor, round_id)
    service.add_entries(session, actor, view, data)
    named = set(data.proposals)
    return [e for e in _entries(request, session, actor, view) if e.proposal in named]


def _entry(request: Request, session: SessionDep, actor: Actor, view: RoundView, entry_id: int) -> out.EntryPublic:
    found = next((e for e in _entries(request, session, actor, view) if e.id == entry_id), None)
    if found is None:
        raise NotFound()
    return found


@router.get(
    "/rounds/{round_id}/entries/{entry_id}",
    response_model=out.EntryPublic,
    summary="One entry of the round with its review counts (staff)",
)
def entry_get(
    request: Request, session: SessionDep, actor: ApiActor, round_id: RecordId, entry_id: RecordId
) -> out.EntryPublic:
    return _entry(request, session, actor, _managed_round(session, actor, round_id), entry_id)


@router.post(
    "/rounds/{round_id}/entries/{entry_id}/exclude",
    response_model=out.EntryPublic,
    responses={409: {"description": "The round is closed"}},
    summary="Leave an entry out of the round, with a `reason`: it is no longer assigned (written reviews stay)",
)
def entry_exclude(
    request: Request, session: SessionDep, actor: WriteActor, round_id: RecordId, entry_id: RecordId,
    data: ExclusionIn,
) -> out.EntryPublic:  # fmt: skip
    view = _managed_round(session, actor, round_id)
    service.exclude_entry(session, actor, view, entry_id, data.reason)
    return _entry(request, session, actor, view, entry_id)


@router.post(
    "/rounds/{round_id}/entries/{entry_id}/include",
    response_model=out.EntryPublic,
    responses={409: {"description": "The round is closed"}},
    summary="Take a left-out entry back into the round",
)
def entry_include(
    request: Request, session: SessionDep, actor: WriteActor, round_id: RecordId, entry_id: RecordId
) -> out.EntryPublic:
    view = _managed_round(session, actor, round_id)
    service.include_entry(session, actor, view, entry_id)
    return _entry(request, session, actor, view, entry_id)


# ---- jurors ---------------------------------------------------------------------------------------------


def _juror_url(request: Request, round_id: int, juror_id: int | None) -> str:
    return api_url(request, f"/rounds/{round_id}/jurors/{juror_id}")


@router.get(
    "/rounds/{round_id}/jurors",
    response_model=Page[out.JurorPublic],
    summary="The round's jurors, invitations pending included, with their progress (staff)",
)
def juror_list(
    request: Request, session: SessionDep, actor: ApiActor, round_id: RecordId, limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[out.JurorPublic]:  # fmt: skip
    view = _managed_round(session, actor, round_id)
    per_juror, _ = assignments.progress(session, actor, view)
    loads = {p.juror.id: p for p in per_juror}
    shown = [
        out.juror_public(_juror_url(request, view.id, j.id), j, loads.get(j.id), view.now)
        for j in jurors.list_jurors(session, view)
    ]
    return paginate(request, shown, limit=limit, cursor=cursor)


@router.get(
    "/rounds/{round_id}/jurors/{juror_id}",
    response_model=out.JurorPublic,
    summary="One juror of the round, or a pending invitation, with their progress (staff)",
)
def juror_get(
    request: Request, session: SessionDep, actor: ApiActor, round_id: RecordId, juror_id: RecordId
) -> out.JurorPublic:
    view = _managed_round(session, actor, round_id)
    juror = next((j for j in jurors.list_jurors(session, view) if j.id == juror_id), None)
    if juror is None:
        raise NotFound()
    per_juror, _ = assignments.progress(session, actor, view)
    progress = next((p for p in per_juror if p.juror.id == juror_id), None)
    return out.juror_public(_juror_url(request, view.id, juror.id), juror, progress, view.now)


@router.post(
    "/rounds/{round_id}/jurors",
    response_model=out.JurorPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The round is closed"}},
    summary="Seat a user (`user`), or invite someone by `email` with a `name`: the link is emailed, never answered",
)
def juror_add(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, round_id: RecordId, data: JurorIn
) -> out.JurorPublic:
    view = _managed_round(session, actor, round_id)
    juror, _link = jurors.add_juror(session, actor, view, data)  # the link goes by email only
    url = _juror_url(request, view.id, juror.id)
    response.headers["Location"] = url
    return out.juror_public(url, juror, None, view.now)


@router.delete(
    "/rounds/{round_id}/jurors/{juror_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The round is closed, or the juror has written reviews"}},
    summary="Take a juror off the round (with their assignments not yet started)",
)
def juror_remove(session: SessionDep, actor: WriteActor, round_id: RecordId, juror_id: RecordId) -> Response:
    view = _managed_round(session, actor, round_id)
    jurors.remove_juror(session, actor, view, juror_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- conflicts ------------------------------------------------------------------------------------------


def _conflict_url(request: Request, view: RoundView, shown: jurors.ShownConflict) -> str:
    """The conflict's address in its round's list: by juror and startup, by juror only where the reader may not
    know the startup (a blind round's juror: the list is their own)."""
    url = f"/rounds/{view.id}/conflicts?juror={shown.juror.id}"
    return api_url(request, url if view.blind_for_reader else f"{url}&startup={shown.startup.id}")


@router.get(
    "/rounds/{round_id}/conflicts",
    response_model=Page[out.ConflictPublic],
    summary="Conflicts of interest of the round's jurors: all for the staff, a juror's own for a juror",
)
def conflict_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    round_id: RecordId,
    limit: Limit = 50,
    cursor: Cursor = None,
    juror: FilterId = None,
    startup: FilterId = None,
) -> Page[out.ConflictPublic]:
    view = records.get_round(session, actor, round_id)
    named = not view.blind_for_reader
    shown = [
        out.conflict_public(_conflict_url(request, view, c), c, named=named)
        for c in jurors.list_conflicts(session, actor, view)
        if (juror is None or c.juror.id == juror) and (startup is None or (named and c.startup.id == startup))
    ]
    return paginate(request, shown, limit=limit, cursor=cursor)


@router.post(
    "/rounds/{round_id}/conflicts",
    response_model=out.ConflictPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Declare a conflict with a startup: a juror their own; the staff for any juror (`juror`)",
    description="Name the startup (`startup`, one of the round's) or an assignment (`assignment`: the conflict is "
    "with its proposal's startup). A juror of a blind round names the assignment: `startup` is refused there (422), "
    "and the answer does not name the startup.",
)
def conflict_declare(
    request: Request, session: SessionDep, actor: WriteActor, round_id: RecordId, data: ConflictIn
) -> out.ConflictPublic:
    view = records.get_round(session, actor, round_id)
    shown = jurors.declare_conflict(session, actor, view, data)
    return out.conflict_public(_conflict_url(request, view, shown), shown, named=not view.blind_for_reader)


# ---- assignment -----------------------------------------------------------------------------------------


@router.post(
    "/rounds/{round_id}/assign",
    response_model=out.AssignReportPublic,
    responses={409: {"description": "The round is closed"}},
    summary="Assign the round automatically: balanced loads, no conflicts, started reviews kept",
)
def round_assign(session: SessionDep, actor: WriteActor, round_id: RecordId) -> out.AssignReportPublic:
    view = _managed_round(session, actor, round_id)
    return out.report_public(assignments.assign(session, actor, view))


@router.get(
    "/rounds/{round_id}/assignments",
    response_model=Page[out.AssignmentPublic],
    summary="The round's assignments: all for the staff, a juror's own for a juror",
)
def assignment_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    round_id: RecordId,
    limit: Limit = 50,
    cursor: Cursor = None,
    juror: FilterId = None,
    proposal: FilterId = None,
) -> Page[out.AssignmentPublic]:
    view = records.get_round(session, actor, round_id)
    shown = [
        out.assignment_public(_assignment_url(request, a.id), a)
        for a in assignments.list_assignments(session, actor, view)
        if (juror is None or a.juror.id == juror) and (proposal is None or a.entry.proposal_id == proposal)
    ]
    return paginate(request, shown, limit=limit, cursor=cursor)


@router.post(
    "/rounds/{round_id}/assignments",
    response_model=out.AssignmentPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The juror is conflicted with the startup or has it already; the round is closed"}},
    summary="Assign a proposal to a juror by hand (kept by the automatic assignment)",
)
def assignment_add(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, round_id: RecordId,
    data: AssignmentIn,
) -> out.AssignmentPublic:  # fmt: skip
    view = _managed_round(session, actor, round_id)
    added = assignments.add_assignment(session, actor, view, data)
    url = _assignment_url(request, added.id or 0)
    response.headers["Location"] = url
    return out.assignment_public(url, records.get_assignment(session, actor, added.id or 0))


def _assignment(session: SessionDep, actor: Actor, assignment_id: int) -> AssignmentView:
    return records.get_assignment(session, actor, assignment_id)


@router.get(
    "/assignments/{assignment_id}",
    response_model=out.AssignmentDetail,
    summary="An assignment: the proposal as the juror may see it, the criteria and the juror's own review",
)
def assignment_get(
    request: Request, session: SessionDep, actor: ApiActor, assignment_id: RecordId
) -> out.AssignmentDetail:
    view = _assignment(session, actor, assignment_id)
    review_url = _review_url(request, view.review.id if view.review else None)
    return out.assignment_detail(_assignment_url(request, view.id), review_url, view, reviews.history(session, view))


@router.delete(
    "/assignments/{assignment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The review was submitted, or the round is closed"}},
    summary="Remove an assignment (staff)",
)
def assignment_remove(session: SessionDep, actor: WriteActor, assignment_id: RecordId) -> Response:
    view = _assignment(session, actor, assignment_id)
    _managed(view.round)
    assignments.remove_assignment(session, actor, view)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/assignments/{assignment_id}/attachments/{attachment_id}/download",
    response_class=FileResponse,
    summary="An attachment of the proposal as submitted, under the name the reader may see (blind: neutral)",
)
def assignment_attachment(
    session: SessionDep, actor: ApiActor, assignment_id: RecordId, attachment_id: RecordId
) -> Response:
    view = _assignment(session, actor, assignment_id)
    name = out.shown_attachment_names(view).get(attachment_id)
    found = view.proposal.shown_attachment(attachment_id)
    if name is None or found is None:
        raise NotFound()
    return web_files.download_response(proposal_attachments.attachment_path(found), name, found.media_type)


# ---- reviews --------------------------------------------------------------------------------------------


@router.put(
    "/assignments/{assignment_id}/review",
    response_model=out.ReviewPublic,
    responses={
        409: {"description": "The round does not accept reviews now, or a draft would replace a submitted review"},
        412: {"description": "`revision` is stale: the review was saved elsewhere since"},
        422: {"description": "Submission refused: the fields are named, and the review is kept as a draft"},
    },
    summary="Save the juror's review: a draft, `submit: true`, or `abstain: true` with a `reason`",
)
def review_save(
    request: Request, session: SessionDep, actor: WriteActor, assignment_id: RecordId, data: ReviewIn
) -> out.ReviewPublic | JSONResponse:
    view = _assignment(session, actor, assignment_id)
    saved = reviews.save_review(session, actor, view, data, expected_revision=data.revision)
    if saved.problems is not None:  # the draft is saved: answer the refusal without undoing it
        return problems.from_domain_error(request, saved.problems)
    return out.review_public(
        _review_url(request, saved.review.id),
        saved.review,
        view.round.criteria,
        assignment=view.id,
        proposal=view.entry.proposal_id,
        juror=view.juror.id,
        juror_name=view.juror_name,
        note=saved.review.note,
    )


@router.get(
    "/rounds/{round_id}/reviews",
    response_model=Page[out.ReviewPublic],
    summary="Submitted reviews and abstentions: all for the staff; a juror's as the round's `others_visible` says",
)
def review_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    round_id: RecordId,
    limit: Limit = 50,
    cursor: Cursor = None,
    proposal: FilterId = None,
) -> Page[out.ReviewPublic]:
    view = records.get_round(session, actor, round_id)
    shown = [
        out.shown_review_public(_review_url(request, r.review.id), r, view.criteria)
        for r in reviews.visible_reviews(session, actor, view)
        if proposal is None or r.proposal_id == proposal
    ]
    return paginate(request, shown, limit=limit, cursor=cursor)


@router.get(
    "/reviews/{review_id}",
    response_model=out.ReviewPublic,
    summary="One submitted review or abstention, to whoever may see it in its round's list",
)
def review_get(request: Request, session: SessionDep, actor: ApiActor, review_id: RecordId) -> out.ReviewPublic:
    review = session.get(JuryReview, review_id)
    assignment = session.get(JuryAssignment, review.assignment_id) if review else None
    if assignment is None:
        raise NotFound()
    view = records.get_round(session, actor, assignment.round_id)
    shown = next(
        (
            r
            for r in reviews.visible_reviews(session, actor, view, entry_id=assignment.entry_id)
            if r.review.id == review_id
        ),
        None,
    )
    if shown is None:
        raise NotFound()
    return out.shown_review_public(_review_url(request, review_id), shown, view.criteria)
