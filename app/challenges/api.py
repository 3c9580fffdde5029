"""/api/v1 endpoints of challenges and their questions (API.md), on the same service as the pages."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.api import etags
from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, offset_of, page_of, paginate
from app.challenges import service
from app.challenges.models import Question
from app.challenges.schemas import (
    AnswerCreate,
    ChallengeCreate,
    ChallengePublic,
    ChallengeUpdate,
    ChangePublic,
    OrganisationRef,
    QuestionCreate,
    QuestionPublic,
    Status,
    Theme,
)
from app.challenges.service import ChallengeFilters, ChallengeView
from app.db import SessionDep
from app.validation import IdOrSlug, RecordId

router = APIRouter()


def etag(view: ChallengeView) -> str:
    return etags.etag("", view.challenge.id, view.challenge.revision)


def _revision_from(if_match: str | None, view: ChallengeView) -> int | None:
    return etags.revision_from(if_match, "", view.challenge.id)


def public(request: Request, view: ChallengeView) -> ChallengePublic:
    c = view.challenge
    return ChallengePublic(
        id=c.id or 0,
        url=api_url(request, f"/challenges/{c.id}"),
        html_url=str(request.base_url).rstrip("/") + f"/programmes/{view.programme.slug}/challenges/{c.slug}",
        programme=c.programme_id,
        slug=c.slug,
        title=c.title,
        summary=c.summary,
        problem=c.problem,
        context=c.context,
        expected_outcome=c.expected_outcome,
        eligibility=c.eligibility,
        ip_terms=view.ip_terms,
        ip_terms_language=view.terms.language if view.terms else None,
        ip_terms_translations=dict(view.terms.translations) if view.terms else {},
        terms_version=c.terms_version,
        lead_sponsor=OrganisationRef(
            id=view.lead_sponsor.id or 0, slug=view.lead_sponsor.slug, name=view.lead_sponsor.name
        ),
        sponsors=[OrganisationRef(id=o.id or 0, slug=o.slug, name=o.name) for o in view.co_sponsors],
        deadline=c.deadline,
        qa_closes_at=c.qa_closes_at,
        status=view.status,  # type: ignore[arg-type]
        themes=c.themes,
        sdgs=c.sdgs,
        kpis=c.kpis,
        test_sites=c.test_sites,
        changes=[ChangePublic(changed_at=ch.changed_at, fields=ch.fields, note=ch.note) for ch in view.changes],
        image_url=str(request.base_url).rstrip("/") + f"/challenges/{c.id}/image" if c.image_key else None,
        created_at=c.created_at,
        updated_at=c.updated_at,
        published_at=c.published_at,
    )


def _question_public(request: Request, question: Question) -> QuestionPublic:
    return QuestionPublic(
        id=question.id or 0,
        url=api_url(request, f"/questions/{question.id}"),
        challenge=question.challenge_id,
        body=question.body,
        answer=question.answer,
        created_at=question.created_at,
        updated_at=question.answered_at or question.created_at,
        answered_at=question.answered_at,
    )


@router.get(
    "/challenges",
    response_model=Page[ChallengePublic],
    summary="Published challenges, plus the drafts the caller may edit",
)
def challenge_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    limit: Limit = 50,
    cursor: Cursor = None,
    programme: Annotated[IdOrSlug | None, Query(description="Programme id or slug")] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    theme: Theme | None = None,
    sponsor: Annotated[IdOrSlug | None, Query(description="Organisation id or slug")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Words in the title or summary")] = None,
) -> Page[ChallengePublic]:
    offset = offset_of(cursor)
    filters = ChallengeFilters(programme=programme, status=status_, theme=theme, sponsor=sponsor, q=q)
    views, total = service.list_challenges(session, actor, filters, offset=offset, limit=limit)
    full = {v.challenge.id: v for v in service.complete(session, views)}
    return page_of(
        request, [public(request, full[v.challenge.id]) for v in views], offset=offset, limit=limit, total=total
    )


@router.post(
    "/challenges",
    response_model=ChallengePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a draft challenge (sponsor or operator staff)",
)
def challenge_create(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, data: ChallengeCreate
) -> ChallengePublic:
    view = service.create_challenge(session, actor, data)
    response.headers["ETag"] = etag(view)
    response.headers["Location"] = api_url(request, f"/challenges/{view.challenge.id}")
    return public(request, view)


@router.get("/challenges/{challenge_id}", response_model=ChallengePublic, summary="One challenge")
def challenge_get(
    request: Request, response: Response, session: SessionDep, actor: ApiActor, challenge_id: RecordId
) -> ChallengePublic:
    view = service.get_challenge(session, actor, challenge_id)
    response.headers["ETag"] = etag(view)
    return public(request, view)


@router.patch(
    "/challenges/{challenge_id}",
    response_model=ChallengePublic,
    responses={
        409: {"description": "The status asked for does not follow the current one (closed → awarded → archived)"},
        412: {"description": "The If-Match ETag is stale: someone changed the challenge"},
    },
    summary="Edit a challenge; send If-Match with the ETag you read",
)
def challenge_patch(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: WriteActor,
    challenge_id: RecordId,
    data: ChallengeUpdate,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> ChallengePublic:
    view = service.get_challenge(session, actor, challenge_id)
    revision = _revision_from(if_match, view)
    view = service.update_challenge(session, actor, view, data, expected_revision=revision)
    if data.status is not None:
        view = service.set_final_status(session, actor, view, data.status)
    response.headers["ETag"] = etag(view)
    return public(request, view)


@router.post(
    "/challenges/{challenge_id}/publish",
    response_model=ChallengePublic,
    responses={409: {"description": "Not a draft"}},
    summary="Publish a draft (checks required fields and a future deadline)",
)
def challenge_publish(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, challenge_id: RecordId
) -> ChallengePublic:
    view = service.publish_challenge(session, actor, service.get_challenge(session, actor, challenge_id))
    response.headers["ETag"] = etag(view)
    return public(request, view)


@router.get(
    "/challenges/{challenge_id}/questions",
    response_model=Page[QuestionPublic],
    summary="Questions and answers (answered ones; the challenge's staff also see pending ones)",
)
def question_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    challenge_id: RecordId,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[QuestionPublic]:
    view = service.get_challenge(session, actor, challenge_id)
    items = [_question_public(request, q) for q in service.list_questions(session, actor, view)]
    return paginate(request, items, limit=limit, cursor=cursor)


@router.post(
    "/challenges/{challenge_id}/questions",
    response_model=QuestionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Q&A closed"}},
    summary="Ask a question (the asker is never shown)",
)
def question_ask(
    request: Request, session: SessionDep, actor: WriteActor, challenge_id: RecordId, data: QuestionCreate
) -> QuestionPublic:
    view = service.get_challenge(session, actor, challenge_id)
    return _question_public(request, service.ask_question(session, actor, view, data))


@router.post(
    "/questions/{question_id}/answer",
    response_model=QuestionPublic,
    summary="Answer a question (sponsors); the answer is published to all",
)
def question_answer(
    request: Request, session: SessionDep, actor: WriteActor, question_id: RecordId, data: AnswerCreate
) -> QuestionPublic:
    return _question_public(request, service.answer_question(session, actor, question_id, data))
