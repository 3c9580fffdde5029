"""/api/v1 face of a round's ranking (API.md, "Jury rounds": GET /api/v1/rounds/{id}/ranking), on the same service
as the page: the staff, and the round's jurors as its `others_visible` says; 404 for anyone else, and a
conflicted reader's ranking holds no trace of the entry.

One row per entry, in raw rank order (the entries without a review last), paged as every API list
(`limit`, `cursor`); beside the rows, the calibration's status (and its reasons when refused) and the scale."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.api.deps import ApiActor
from app.api.pagination import Cursor, Limit, check_limit, offset_of, page_of
from app.db import SessionDep
from app.jury import records
from app.selection.ranking import RankedEntry, Ranking, ranking
from app.validation import RecordId

router = APIRouter()

ROW_EXAMPLE: dict[str, JsonValue] = {
    "proposal": 412,
    "title": "Acoustic leak sensors",
    "startup": "LeakSense",
    "score": 3.8,
    "median": 4.0,
    "stdev": 0.4,
    "min": 3.2,
    "max": 4.2,
    "reviews": 5,
    "rank": 1,
    "calibrated_score": 3.95,
    "calibrated_rank": 1,
    "disagreement": False,
    "criteria": {"17": 4.2, "18": 3.6},
}


class RankingRow(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ROW_EXAMPLE]})

    proposal: int = Field(description="The proposal's id")
    title: str = Field(description="In a blind round, a juror reads it with the startup's names hidden")
    startup: str | None = Field(description="None where the reader may not know it (a blind round, for a juror)")
    score: float | None = Field(
        description="The mean of the reviews' weighted scores, on the criteria's scale; None without a review"
    )
    median: float | None
    stdev: float | None = Field(description="Population standard deviation of the reviews' weighted scores")
    min: float | None
    max: float | None
    reviews: int = Field(description="Submitted reviews counted (abstentions and drafts are not)")
    rank: int | None = Field(description="1 is the best score; equal scores share a rank (1, 2, 2, 4)")
    calibrated_score: float | None = Field(
        description="The score an average juror would give (least squares: score = quality + juror bias); None "
        "when calibration is refused"
    )
    calibrated_rank: int | None
    disagreement: bool = Field(
        description="The reviews spread widely: standard deviation ≥ 20% of the scale, or max − min ≥ half of it"
    )
    criteria: dict[str, float] = Field(description="Mean per criterion id over the reviews that scored it")


class Calibration(BaseModel):
    status: Literal["calibrated", "refused", "none"] = Field(
        description="`none` while no review is submitted; `refused` where the data cannot support a fit"
    )
    model: Literal["additive", "scale"]
    reasons: list[Literal["no_reviews", "too_few_reviews", "disconnected"]] = Field(
        description="Why calibration is refused: a juror with fewer than 3 reviews, or juror groups that share "
        "no proposal"
    )


class Scale(BaseModel):
    min: float
    max: float


class RankingPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [ROW_EXAMPLE],
                    "next": None,
                    "calibration": {"status": "calibrated", "model": "additive", "reasons": []},
                    "scale": {"min": 0, "max": 5},
                    "total": 1,
                }
            ]
        }
    )

    items: list[RankingRow]
    next: str | None
    calibration: Calibration
    scale: Scale | None = Field(description="The range of a weighted score; None for a round without criteria")
    total: int = Field(description="Rows in the whole ranking")


def row_public(row: RankedEntry) -> RankingRow:
    s = row.stats
    return RankingRow(
        proposal=row.proposal_id,
        title=row.title,
        startup=row.startup_name,
        score=s.score,
        median=s.median,
        stdev=s.stdev,
        min=s.min,
        max=s.max,
        reviews=s.reviews,
        rank=s.rank,
        calibrated_score=row.calibrated_score,
        calibrated_rank=row.calibrated_rank,
        disagreement=s.disagreement,
        criteria={str(k): v for k, v in s.criteria.items()},
    )


def calibration_public(found: Ranking) -> Calibration:
    model: Literal["additive", "scale"] = "scale" if found.juror_scale else "additive"
    if found.calibrated is not None:
        return Calibration(status="calibrated", model=model, reasons=[])
    if found.refused is not None:
        return Calibration(status="refused", model=model, reasons=[r.value for r in found.refused.reasons])
    return Calibration(status="none", model=model, reasons=[])


@router.get(
    "/rounds/{round_id}/ranking",
    response_model=RankingPage,
    summary="A round's ranking, raw and calibrated: the staff; jurors as the round's `others_visible` says",
)
def ranking_list(
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    round_id: RecordId,
    limit: Limit = 50,
    cursor: Cursor = None,
    model: Annotated[
        Literal["additive", "scale"],
        Query(description="`scale`: the juror-scale model (score = quality × scale + bias)"),
    ] = "additive",
) -> RankingPage:
    found = ranking(session, records.get_round(session, actor, round_id), juror_scale=model == "scale")
    limit = check_limit(limit)
    offset = offset_of(cursor)
    rows = [row_public(row) for row in found.rows[offset : offset + limit]]
    page = page_of(request, rows, offset=offset, limit=limit, total=len(found.rows))
    return RankingPage(
        items=page.items,
        next=page.next,
        calibration=calibration_public(found),
        scale=Scale(min=found.scale.min, max=found.scale.max) if found.scale else None,
        total=len(found.rows),
    )
