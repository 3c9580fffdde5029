"""/api/v1 endpoints of the decisions (API.md, "Jury rounds"): propose, list, confirm, withdraw, publish, on the
same services as the decisions page (decisions.py, publication.py).

A round the caller may not know is a 404; a staff-only action on a round the caller sees as a juror is a 403
(API.md). A decision is known to the round's staff only, never across a conflict of interest (404)."""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from app.api.deps import ApiActor, WriteActor, api_url
from app.api.pagination import Cursor, Limit, Page, paginate
from app.db import SessionDep
from app.errors import Forbidden
from app.jury import records as jury_records
from app.security.actor import Actor
from app.selection import decisions, publication
from app.selection.models import DecisionStatus, SelectionDecision
from app.selection.schemas import DecisionIn, Kind
from app.validation import RecordId

router = APIRouter()

StatusName = Literal["proposed", "confirmed", "withdrawn", "superseded"]
assert set(StatusName.__args__) == set(DecisionStatus)  # type: ignore[attr-defined]
STAFF_ONLY = "Only the challenge's sponsors and the programme operator take its selection's decisions."


class DecisionPublic(BaseModel):
    id: int
    url: str
    round: int
    proposal: int
    decision: Kind
    rationale: str
    status: StatusName = Field(description="`proposed`: not yet in force; `confirmed`: in force")
    proposed_by: int | None = Field(description="The user who proposed it")
    proposed_at: datetime
    confirmed_by: int | None = Field(description="The user who confirmed it (never the proposer)")
    confirmed_at: datetime | None
    ranking_row: dict[str, Any] | None = Field(description="The entry's ranking row as the confirmer saw it")
    reviews_sha256: str | None = Field(
        description="SHA-256 (hex) of the canonical JSON of the reviews the decision rests on"
    )
    reviews_count: int | None
    replaces: int | None = Field(description="The decision in force before it, if any")
    ended_at: datetime | None = Field(description="When it was withdrawn or superseded")


class PublicationPublic(BaseModel):
    round: int
    url: str
    status: Literal["draft", "open", "closed", "decided"]
    published_at: datetime | None


def _public(request: Request, d: SelectionDecision) -> DecisionPublic:
    return DecisionPublic(
        id=d.id or 0,
        url=api_url(request, f"/decisions/{d.id}"),
        round=d.round_id,
        proposal=d.proposal_id,
        decision=d.decision,  # type: ignore[arg-type]
        rationale=d.rationale,
        status=d.status,  # type: ignore[arg-type]
        proposed_by=d.proposed_by_id,
        proposed_at=d.proposed_at,
        confirmed_by=d.confirmed_by_id,
        confirmed_at=d.confirmed_at,
        ranking_row=d.ranking_row,
        reviews_sha256=d.reviews_sha256,
        reviews_count=d.reviews_count,
        replaces=d.replaces_id,
        ended_at=d.ended_at,
    )


def _staff_round(session: SessionDep, actor: Actor, round_id: int) -> None:
    """404 for a round the caller may not know; 403 for one they see as a juror only."""
    if not jury_records.get_round(session, actor, round_id).staff:
        raise Forbidden(STAFF_ONLY)


@router.get(
    "/rounds/{round_id}/decisions",
    response_model=Page[DecisionPublic],
    summary="Every decision of the round, proposed, confirmed, withdrawn and superseded, oldest first (staff)",
)
def decision_list(
    request: Request, session: SessionDep, actor: ApiActor, round_id: RecordId, limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DecisionPublic]:  # fmt: skip
    _staff_round(session, actor, round_id)
    found = decisions.list_decisions(session, actor, round_id)
    return paginate(request, [_public(request, d) for d in found], limit=limit, cursor=cursor)


@router.post(
    "/rounds/{round_id}/decisions",
    response_model=DecisionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The round is not closed, or a decision is already proposed for the proposal"}},
    summary="Propose a decision on a proposal of the round: not in force until another member of the staff confirms",
)
def decision_propose(
    request: Request, response: Response, session: SessionDep, actor: WriteActor, round_id: RecordId, data: DecisionIn
) -> DecisionPublic:
    _staff_round(session, actor, round_id)
    decision = decisions.propose(session, actor, round_id, data)
    response.headers["Location"] = api_url(request, f"/decisions/{decision.id}")
    return _public(request, decision)


@router.get("/decisions/{decision_id}", response_model=DecisionPublic, summary="One decision (staff)")
def decision_get(request: Request, session: SessionDep, actor: ApiActor, decision_id: RecordId) -> DecisionPublic:
    return _public(request, decisions.get_decision(session, actor, decision_id).decision)


@router.post(
    "/decisions/{decision_id}/confirm",
    response_model=DecisionPublic,
    responses={
        403: {"description": "The caller proposed it: another member of the staff confirms"},
        409: {"description": "The decision is no longer proposed"},
    },
    summary="Put a proposed decision in force: the proposal's status changes; `selected` opens a project",
)
def decision_confirm(request: Request, session: SessionDep, actor: WriteActor, decision_id: RecordId) -> DecisionPublic:
    return _public(request, decisions.confirm(session, actor, decision_id))


@router.post(
    "/decisions/{decision_id}/withdraw",
    response_model=DecisionPublic,
    responses={409: {"description": "The decision is no longer proposed"}},
    summary="Withdraw a decision not yet confirmed",
)
def decision_withdraw(
    request: Request, session: SessionDep, actor: WriteActor, decision_id: RecordId
) -> DecisionPublic:
    return _public(request, decisions.withdraw(session, actor, decision_id))


@router.post(
    "/rounds/{round_id}/publish",
    response_model=PublicationPublic,
    responses={409: {"description": "The round is not closed, or some proposals have no confirmed decision"}},
    summary="Send every startup of the round its outcome and the jury's comments; the round becomes decided",
)
def round_publish(request: Request, session: SessionDep, actor: WriteActor, round_id: RecordId) -> PublicationPublic:
    _staff_round(session, actor, round_id)
    view = publication.publish(session, actor, round_id)
    url = api_url(request, f"/rounds/{view.id}")
    return PublicationPublic(round=view.id, url=url, status=view.status, published_at=view.round.published_at)  # type: ignore[arg-type]
