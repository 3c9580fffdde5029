"""/api/v1 endpoints of proposals and their attachments (API.md), on the same service as the pages."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import FileResponse

from app.api import etags
from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, paginate
from app.challenges import service as challenges
from app.challenges.schemas import OrganisationRef
from app.db import SessionDep
from app.errors import PreconditionFailed
from app.proposals import attachments, queries, questions, records, service
from app.proposals.models import ProposalAttachment, ProposalQuestion
from app.proposals.queries import ProposalFilters
from app.proposals.records import ProposalView
from app.proposals.schemas import (
    AttachmentPublic,
    EligibilityDecision,
    ProposalCreate,
    ProposalPublic,
    ProposalUpdate,
    QuestionCreate,
    QuestionOrder,
    QuestionPublic,
    QuestionUpdate,
    Status,
    SubmitRequest,
    VersionPublic,
)
from app.security.bodylimit import streamed_upload, upload_body
from app.validation import RecordId
from app.web import files as web_files

router = APIRouter()

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "question": {
                            "type": "string",
                            "pattern": "^[0-9]{1,9}$",
                            "description": "The id of the file question this attachment answers",
                        },
                    },
                }
            }
        },
    }
}


def etag(view: ProposalView) -> str:
    return etags.etag("p", view.proposal.id, view.proposal.revision)


def revision_from(if_match: str | None, view: ProposalView) -> int | None:
    return etags.revision_from(if_match, "p", view.proposal.id)


def _attachment_public(request: Request, proposal_id: int, entry: dict[str, Any], created: Any) -> AttachmentPublic:
    base = f"/proposals/{proposal_id}/attachments/{entry['id']}"
    return AttachmentPublic(
        id=entry["id"],
        url=api_url(request, base),
        download_url=api_url(request, base + "/download"),
        name=entry["name"],
        size=entry["size"],
        sha256=entry["sha256"],
        media_type=entry["media_type"],
        question=entry.get("question"),
        created_at=created,
        updated_at=created,
    )


def public(request: Request, view: ProposalView) -> ProposalPublic:
    p = view.proposal
    content = view.content
    created = {a.id: a.created_at for a in view.attachments}
    return ProposalPublic(
        id=p.id or 0,
        url=api_url(request, f"/proposals/{p.id}"),
        html_url=str(request.base_url).rstrip("/") + f"/proposals/{p.id}",
        challenge=p.challenge_id,
        startup=OrganisationRef(id=view.startup.id or 0, slug=view.startup.slug, name=view.startup.name),
        status=view.status,  # type: ignore[arg-type]
        title=content["title"],
        summary=content["summary"],
        description=content["description"],
        data_use=content["data_use"],
        experimentation_plan=content["experimentation_plan"],
        team=content["team"],
        trl=content["trl"],
        needs=content["needs"],
        plan=content["plan"],
        kpis=content["kpis"],
        answers=content["answers"],
        video_url=content["video_url"],
        attachments=[
            _attachment_public(request, p.id or 0, a, created.get(a["id"], p.created_at))
            for a in content["attachments"]
        ],
        revision=view.shown_revision,
        version=view.latest.number if view.latest else None,
        versions=[
            VersionPublic(
                number=v.number,
                receipt_number=v.receipt_number,
                sha256=v.sha256,
                terms_version=v.terms_version,
                terms_sha256=v.terms_sha256,
                terms_language=v.terms_language,
                accepted_by=v.accepted_by_name,
                submitted_at=v.submitted_at,
            )
            for v in view.shown_versions
        ],
        has_unsubmitted_changes=view.has_unsubmitted_changes,
        eligibility_reason=view.eligibility_reason,
        eligibility_at=p.eligibility_at,
        created_at=p.created_at,
        updated_at=view.shown_updated_at,
        submitted_at=p.submitted_at,
    )


def _question_public(q: ProposalQuestion) -> QuestionPublic:
    return QuestionPublic(
        id=q.id or 0,
        challenge=q.challenge_id,
        kind=q.kind,  # type: ignore[arg-type]
        label=q.label,
        help=q.help,
        choices=q.choices,
        required=q.required,
    )


@router.get(
    "/proposals",
    response_model=Page[ProposalPublic],
    summary="Your startups' proposals; the submitted proposals of challenges you are staff of, after the deadline",
)
def proposal_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    limit: Limit = 50,
    cursor: Cursor = None,
    challenge: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
) -> Page[ProposalPublic]:
    views = queries.list_visible_proposals(session, actor, ProposalFilters(challenge=challenge, status=status_))
    return paginate(request, [public(request, v) for v in views], limit=limit, cursor=cursor)


@router.post(
    "/proposals",
    response_model=ProposalPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The call is closed, or the startup already applied"}},
    summary="Create a draft proposal for a challenge on behalf of your startup",
)
def proposal_create(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, data: ProposalCreate
) -> ProposalPublic:
    view = service.create_proposal(session, actor, data)
    response.headers["ETag"] = etag(view)
    response.headers["Location"] = api_url(request, f"/proposals/{view.proposal.id}")
    return public(request, view)


@router.get("/proposals/{proposal_id}", response_model=ProposalPublic, summary="One proposal")
def proposal_get(
    request: Request, response: Response, session: SessionDep, actor: ApiActor, proposal_id: RecordId
) -> ProposalPublic:
    view = records.get_proposal(session, actor, proposal_id)
    if view.reads_as_startup:  # the ETag carries the working copy's revision, which only the startup edits
        response.headers["ETag"] = etag(view)
    return public(request, view)


@router.patch(
    "/proposals/{proposal_id}",
    response_model=ProposalPublic,
    responses={
        412: {"description": "The If-Match ETag is stale: someone on the team saved in between"},
        409: {"description": "The deadline has passed"},
    },
    summary="Edit the working copy; send If-Match with the ETag you read",
)
def proposal_patch(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: WriteActor,
    proposal_id: RecordId,
    data: ProposalUpdate,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> ProposalPublic:
    view = records.get_proposal(session, actor, proposal_id)
    try:
        view = service.update_proposal(session, actor, view, data, expected_revision=revision_from(if_match, view))
    except service.StaleRevision as exc:
        raise PreconditionFailed(exc.detail) from None
    response.headers["ETag"] = etag(view)
    return public(request, view)


@router.post(
    "/proposals/{proposal_id}/submit",
    response_model=ProposalPublic,
    responses={409: {"description": "The deadline has passed (the server's clock decides)"}},
    summary="Submit the working copy as a new version; needs `accept_terms: true`",
)
def proposal_submit(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, proposal_id: RecordId,
    data: SubmitRequest,
) -> ProposalPublic:  # fmt: skip
    view = records.get_proposal(session, actor, proposal_id, for_submission=True)
    service.submit_proposal(
        session,
        actor,
        view,
        accept_terms=data.accept_terms,
        terms_version=data.terms_version,
        terms_language=data.terms_language,
    )  # the view now shows the submission
    response.headers["ETag"] = etag(view)
    return public(request, view)


@router.post(
    "/proposals/{proposal_id}/withdraw",
    response_model=ProposalPublic,
    responses={409: {"description": "Not submitted, or the deadline has passed"}},
    summary="Withdraw a submitted proposal (before the deadline)",
)
def proposal_withdraw(
    request: Request, session: SessionDep, actor: WriteActor, proposal_id: RecordId
) -> ProposalPublic:
    view = records.get_proposal(session, actor, proposal_id)
    return public(request, service.withdraw_proposal(session, actor, view))


@router.post(
    "/proposals/{proposal_id}/eligibility",
    response_model=ProposalPublic,
    summary="Record the eligibility check (sponsors and operator, after the deadline)",
)
def proposal_eligibility(
    request: Request, session: SessionDep, actor: WriteActor, proposal_id: RecordId, data: EligibilityDecision
) -> ProposalPublic:
    view = records.get_proposal(session, actor, proposal_id)
    return public(request, service.decide_eligibility(session, actor, view, data))


@router.post(
    "/proposals/{proposal_id}/attachments",
    response_model=AttachmentPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Upload an attachment (multipart field `file`, optional field `question`), streamed",
    openapi_extra=UPLOAD_BODY,
    responses={
        409: {"description": "The deadline has passed, or the proposal can no longer change; nothing was stored"},
        413: {"description": "The file is over the size limit; nothing was stored"},
        415: {"description": "A refused type (by extension or content); nothing was stored"},
    },
)
@streamed_upload
async def attachment_upload(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, proposal_id: RecordId
) -> AttachmentPublic:
    stored: ProposalAttachment = await attachments.receive_attachment(
        session, actor, proposal_id, upload_body(request, session)
    )
    response.headers["Location"] = api_url(request, f"/proposals/{proposal_id}/attachments/{stored.id}")
    return _attachment_public(request, proposal_id, records.snapshot_entry(stored), stored.created_at)


@router.get(
    "/proposals/{proposal_id}/attachments/{attachment_id}",
    response_model=AttachmentPublic,
    summary="One attachment",
)
def attachment_get(
    request: Request, session: SessionDep, actor: ApiActor, proposal_id: RecordId, attachment_id: RecordId
) -> AttachmentPublic:
    found = attachments.get_attachment(session, actor, proposal_id, attachment_id)
    return _attachment_public(request, proposal_id, records.snapshot_entry(found), found.created_at)


@router.get(
    "/proposals/{proposal_id}/attachments/{attachment_id}/download",
    response_class=FileResponse,
    summary="The attachment's bytes, with Content-Disposition set by the server",
)
def attachment_download(
    session: SessionDep, actor: ApiActor, proposal_id: RecordId, attachment_id: RecordId
) -> Response:
    found = attachments.get_attachment(session, actor, proposal_id, attachment_id)
    return web_files.download_response(attachments.attachment_path(found), found.name, found.media_type)


@router.get(
    "/challenges/{challenge_id}/proposal-questions",
    response_model=list[QuestionPublic],
    summary="The challenge's extra questions that every proposal answers",
)
def question_list(session: SessionDep, actor: ApiActor, challenge_id: RecordId) -> list[QuestionPublic]:
    challenge = challenges.get_challenge(session, actor, challenge_id)
    return [_question_public(q) for q in questions.list_questions(session, actor, challenge)]


@router.post(
    "/challenges/{challenge_id}/proposal-questions",
    response_model=QuestionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Proposals were already submitted"}},
    summary="Add an extra question (sponsors and operator)",
)
def question_add(
    session: SessionDep, actor: WriteActor, challenge_id: RecordId, data: QuestionCreate
) -> QuestionPublic:
    challenge = challenges.get_challenge(session, actor, challenge_id)
    return _question_public(questions.add_question(session, actor, challenge, data))


@router.patch(
    "/proposal-questions/{proposal_question_id}",
    response_model=QuestionPublic,
    responses={409: {"description": "Proposals were already submitted"}},
    summary="Change what an extra question says (its kind stays)",
)
def question_update(
    session: SessionDep, actor: WriteActor, proposal_question_id: RecordId, data: QuestionUpdate
) -> QuestionPublic:
    return _question_public(questions.update_question(session, actor, proposal_question_id, data))


@router.put(
    "/challenges/{challenge_id}/proposal-questions/order",
    response_model=list[QuestionPublic],
    responses={409: {"description": "Proposals were already submitted"}},
    summary="Reorder the extra questions: every question id of the challenge, once each",
)
def question_reorder(
    session: SessionDep, actor: WriteActor, challenge_id: RecordId, data: QuestionOrder
) -> list[QuestionPublic]:
    challenge = challenges.get_challenge(session, actor, challenge_id)
    return [_question_public(q) for q in questions.reorder_questions(session, actor, challenge, data.order)]


@router.delete(
    "/proposal-questions/{proposal_question_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "Proposals were already submitted"}},
    summary="Remove an extra question",
)
def question_remove(session: SessionDep, actor: WriteActor, proposal_question_id: RecordId) -> Response:
    questions.remove_question(session, actor, proposal_question_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
