"""HTML face of a round's ranking: the table (raw and calibrated ranks side by side, the moves marked), a strip
plot of each entry's scores, each juror's severity, the cut line, the Borda and Schulze views, and its CSV.

Everything shown comes from selection.ranking as its reader may see it: a reader who may not see the ranking
gets a 404 on every face, and a conflicted reader's ranking holds no trace of the entry (ranking.py's rules).

Rules of the page:
- 250 rows a page (`?page=`); the cut line (`?cut=N`, a small form) is drawn after the N-th row of the order
  shown, with a warning when the row after it ties with the last one above it.
- `?view=borda|schulze` orders the entries by the jurors' ballots combined; Schulze declines past 1,000
  entries and says so. `?model=scale` fits the juror-scale model instead of the additive one.
- Calibration refused: a sentence says why in place of the calibrated columns.
- The CSV holds every row, in the reader's language, formula-safe, with a comma (or `separator=semicolon`
  for Excel in French and Arabic, with decimal commas); each export is recorded in the audit log.
"""

import csv
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlmodel import Session
from starlette.responses import Response

from app import i18n
from app.audit import service as audit
from app.db import SessionDep, reads_that_write
from app.i18n import N_, gettext
from app.jury import records
from app.jury.records import RoundView
from app.proposals.exports import safe_cell
from app.security.actor import Actor
from app.selection import permissions as can
from app.selection import svg
from app.selection.calibration import Reason, Refused
from app.selection.orderings import Ranked, TooManyEntries
from app.selection.ranking import JurorSeverity, RankedEntry, Ranking, ranking
from app.templating import environment
from app.validation import RecordId, whole_number
from app.web import files as web_files
from app.web.deps import SignedInDep
from app.web.templating import render

router = APIRouter()

ROWS_PER_PAGE = 250
View = Literal["raw", "borda", "schulze"]
Model = Literal["additive", "scale"]
VIEW_LABELS: dict[str, str] = {
    "raw": N_("Scores, raw and calibrated"),
    "borda": N_("Borda count"),
    "schulze": N_("Schulze method"),
}
MODEL_LABELS: dict[str, str] = {
    "additive": N_("Severity only (score = quality + bias)"),
    "scale": N_("Severity and scale (score = quality × scale + bias)"),
}

STRIP_LABEL = N_("Scores %(scores)s on a scale of %(min)s to %(max)s")
NO_REVIEW = N_("No review counted")
CUT_ERROR = N_("Enter a whole number of proposals from 0 to %(limit)s.")


def ranking_path(round_id: int) -> str:
    return f"/rounds/{round_id}/ranking"


def ranking_link(view: RoundView, own_done: bool) -> str | None:
    """The ranking's address for a round page whose reader may read it, else None: the jurors' round page
    knows from its queue whether the reader has anything left to do."""
    juror_done = view.is_juror and not view.staff and own_done
    allowed = can.can_see_ranking(view.round, staff=view.staff, juror=view.is_juror, own_done=juror_done, now=view.now)
    return ranking_path(view.id) if allowed else None


environment.globals["ranking_link"] = ranking_link


# ---- what the page shows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One row of the table as shown: its place in the order shown, the row, and the further view's value."""

    place: int
    row: RankedEntry
    strip: Markup
    ordering: Ranked | None = None


@dataclass(frozen=True)
class Severity:
    juror: JurorSeverity
    label: str  # the name, or "Juror 3" where the reader may not know who
    bar: Markup


def _number(value: float | None, digits: int = 2) -> str:
    """A number in the reader's locale with `digits` decimals. A page shows thousands of them, of few distinct
    values once rounded (scores on a small scale): each is formatted once per language."""
    return "" if value is None else _formatted(i18n.get_language(), round(value, digits), digits)


@lru_cache(maxsize=65_536)
def _formatted(language: str, value: float, digits: int) -> str:
    return i18n.format_number(value, digits=digits)


def _strip(found: Ranking, row: RankedEntry, rtl: bool) -> Markup:
    if found.scale is None:
        return Markup("")
    scores = i18n.list_separator().join(_number(s) for s in row.scores)
    low, high = _number(found.scale.min, 0), _number(found.scale.max, 0)
    label = gettext(STRIP_LABEL, scores=scores, min=low, max=high) if row.scores else gettext(NO_REVIEW)
    return svg.strip_plot(row.scores, found.scale.min, found.scale.max, mean=row.stats.score, rtl=rtl, label=label)


def _severities(found: Ranking, rtl: bool) -> list[Severity]:
    shown = []
    biases = [abs(j.bias) for j in found.jurors if j.bias is not None]
    reach = max([1.0, *biases])
    for number, juror in enumerate(found.jurors, start=1):
        label = juror.name or gettext("Juror %(number)s", number=number)
        if juror.bias is not None:
            bar = svg.severity_bar(juror.bias, -reach, reach, origin=0, rtl=rtl)
        elif found.scale is not None:
            bar = svg.severity_bar(juror.mean, found.scale.min, found.scale.max, origin=found.scale.min, rtl=rtl)
        else:
            bar = Markup("")
        shown.append(Severity(juror, label, bar))
    return shown


@dataclass(frozen=True)
class RefusalShown:
    """One reason calibration was refused, as the page words it: how many jurors it concerns, and those the
    reader may know by name."""

    reason: str
    count: int
    names: tuple[str, ...]


def refusal_shown(refused: Refused, found: Ranking) -> list[RefusalShown]:
    names = {j.juror_id: j.name for j in found.jurors}
    shown = []
    for reason in refused.reasons:
        if reason == Reason.too_few_reviews:
            known = tuple(name for j in refused.too_few_reviews if (name := names.get(j)))
            shown.append(RefusalShown(reason, len(refused.too_few_reviews), known))
        else:
            shown.append(RefusalShown(reason, len(refused.groups), ()))
    return shown


def _cut(value: str | None, limit: int) -> tuple[int | None, dict[str, str], dict[str, dict[str, Any]]]:
    """The cut line's position from the query, or the form's error (the input is kept by the caller)."""
    if value is None or not value.strip():
        return None, {}, {}
    number = whole_number(value.strip(), max_digits=6)
    if number is None or number > limit:
        return None, {"cut": CUT_ERROR}, {"cut": {"limit": limit}}
    return number, {}, {}


def _ordered(found: Ranking, view: View) -> tuple[list[tuple[RankedEntry, Ranked | None]], TooManyEntries | None]:
    if view == "raw":
        return [(row, None) for row in found.rows], None
    ordering = found.borda if view == "borda" else found.schulze
    if isinstance(ordering, TooManyEntries):
        return [], ordering
    by_entry = {row.entry_id: row for row in found.rows}
    listed = [(by_entry[r.entry_id], r) for r in ordering]
    seen = {r.entry_id for r in ordering}
    return listed + [(row, None) for row in found.rows if row.entry_id not in seen], None


def _page_context(
    request: Request, found: Ranking, *, view: View, model: Model, page: int, cut_text: str | None
) -> dict[str, Any]:
    rtl = i18n.is_rtl()
    ordered, declined = _ordered(found, view)
    ranked_count = sum(1 for row, ordering in ordered if (ordering.rank if ordering else row.rank) is not None)
    cut, errors, error_vars = _cut(cut_text, ranked_count)
    pages = max(1, math.ceil(len(ordered) / ROWS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * ROWS_PER_PAGE
    lines = [
        Line(start + n, row, _strip(found, row, rtl), ordering)
        for n, (row, ordering) in enumerate(ordered[start : start + ROWS_PER_PAGE], start=1)
    ]
    tie_at_cut = False
    if cut and cut < len(ordered):
        above, below = ordered[cut - 1], ordered[cut]
        rank_of = [(o.rank if o else r.rank) for r, o in (above, below)]
        tie_at_cut = rank_of[0] is not None and rank_of[0] == rank_of[1]

    def query_for(**changes: Any) -> str:
        values = {"view": view, "model": model, "cut": cut_text or "", "page": page} | changes
        defaults = {"view": "raw", "model": "additive", "cut": "", "page": 1}
        kept = {k: v for k, v in values.items() if v != defaults[k]}
        return str(request.url.replace_query_params(**kept)) if kept else request.url.path

    return {
        "view": found.view,
        "found": found,
        "shown_view": view,
        "model": model,
        "lines": lines,
        "declined": declined,
        "page": page,
        "pages": pages,
        "cut": cut,
        "tie_at_cut": tie_at_cut,
        "severities": _severities(found, rtl),
        "refusal": refusal_shown(found.refused, found) if found.refused else [],
        "query_for": query_for,
        "number": _number,
        "form": {"cut": cut_text or ""},
        "errors": errors,
        "error_vars": error_vars,
        "VIEW_LABELS": VIEW_LABELS,
        "MODEL_LABELS": MODEL_LABELS,
        "csv_path": f"{ranking_path(found.view.id)}.csv",
    }


def _read(session: Session, actor: Actor, round_id: int, model: str) -> Ranking:
    return ranking(session, records.get_round(session, actor, round_id), juror_scale=model == "scale")


@router.get("/rounds/{round_id}/ranking", response_class=HTMLResponse)
def ranking_page(
    request: Request,
    session: SessionDep,
    actor: SignedInDep,
    round_id: RecordId,
    view: str = "raw",
    model: str = "additive",
    page: str = "1",
    cut: str | None = None,
) -> Response:
    shown_view: View = view if view in ("borda", "schulze") else "raw"  # type: ignore[assignment]
    shown_model: Model = "scale" if model == "scale" else "additive"
    found = _read(session, actor, round_id, shown_model)
    context = _page_context(
        request, found, view=shown_view, model=shown_model, page=whole_number(page) or 1, cut_text=cut
    )
    return render(request, "selection/ranking.html", context, status_code=422 if context["errors"] else 200)


# ---- the CSV ----------------------------------------------------------------------------------------------

SEPARATORS = {"comma": ",", "semicolon": ";"}
COLUMNS = (
    N_("Rank"),
    N_("Calibrated rank"),
    N_("Proposal number"),
    N_("Title"),
    N_("Startup"),
    N_("Score"),
    N_("Calibrated score"),
    N_("Median"),
    N_("Standard deviation"),
    N_("Lowest"),
    N_("Highest"),
    N_("Reviews"),
    N_("Disagreement"),
)


def export_csv(found: Ranking, *, separator: str = "comma") -> str:
    """Every row of the ranking, in the current language: a BOM, then the headers and one line a row."""
    decimal = "," if separator == "semicolon" else "."
    blind = found.view.blind_for_reader

    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}".replace(".", decimal)

    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATORS.get(separator, ","))
    headers = [gettext(h) for h in COLUMNS if not (blind and h == "Startup")]
    writer.writerow([safe_cell(h) for h in headers + [c.name for c in found.criteria]])
    yes, no = gettext("yes"), gettext("no")
    criterion_ids = [c.id for c in found.criteria]
    for row in found.rows:
        s = row.stats
        values: list[Any] = [s.rank, row.calibrated_rank, row.proposal_id, row.title]
        if not blind:
            values.append(row.startup_name)
        values += [number(s.score), number(row.calibrated_score), number(s.median), number(s.stdev)]
        values += [number(s.min), number(s.max), s.reviews, yes if s.disagreement else no]
        values += [number(s.criteria.get(c or 0)) for c in criterion_ids]
        writer.writerow([safe_cell(v) for v in values])
    return "\ufeff" + out.getvalue()


@router.get("/rounds/{round_id}/ranking.csv", dependencies=[Depends(reads_that_write)])
def ranking_csv(
    session: SessionDep,
    actor: SignedInDep,
    round_id: RecordId,
    separator: Literal["comma", "semicolon"] = "comma",
    model: Literal["additive", "scale"] = "additive",
) -> Response:
    found = _read(session, actor, round_id, model)
    body = export_csv(found, separator=separator)
    audit.record(
        session, "ranking.exported", actor=actor, target=("round", round_id), format="csv", rows=len(found.rows)
    )
    suffix = "-excel" if separator == "semicolon" else ""
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": web_files.content_disposition(f"ranking-round-{round_id}{suffix}.csv"),
            "Cache-Control": "private, no-store",
        },
    )
