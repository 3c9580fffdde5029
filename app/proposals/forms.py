"""The proposal form: from HTML form fields to the service's input shape and back.

The team and the nine-month plan are edited as lines of text ("name | role", "month | milestone"), which works
without JavaScript; extra questions are fields named q_<question id>.
"""

from typing import Any

from app.errors import Invalid
from app.proposals.models import Proposal, ProposalQuestion, QuestionKind
from app.validation import InvalidInput, whole_number
from app.web.forms import join_lines, parse_lines

TEXT_FIELDS = ("title", "summary", "description", "data_use", "experimentation_plan", "needs", "video_url")
TEAM_KEYS = ("name", "role")
PLAN_KEYS = ("month", "milestone")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def fields_from_form(form: dict[str, Any], questions: list[ProposalQuestion]) -> dict[str, Any]:
    """The service input from a submitted proposal form. Raises Invalid for lines it cannot read."""
    data: dict[str, Any] = {name: str(form.get(name, "")) for name in TEXT_FIELDS}
    trl = str(form.get("trl", "")).strip()
    data["trl"] = whole_number(trl, max_digits=2)
    if trl and data["trl"] is None:
        raise Invalid({"trl": "Choose one of the options."})
    data["team"] = parse_lines(str(form.get("team", "")), TEAM_KEYS, "team")
    plan = parse_lines(str(form.get("plan", "")), PLAN_KEYS, "plan")
    for number, row in enumerate(plan, start=1):
        month = str(row.get("month", "")).strip().lower().removeprefix("m")
        number_of_month = whole_number(month, max_digits=1)
        if number_of_month is None or not 1 <= number_of_month <= 9 or not row.get("milestone"):
            raise Invalid({"plan": "Line %(line)s: give a month from 1 to 9, then the milestone."}, line=number)
        row["month"] = number_of_month
    data["plan"] = plan
    data["kpis"] = _as_list(form.get("kpis"))
    answers: dict[str, Any] = {}
    for q in questions:
        if q.kind == QuestionKind.file:
            continue
        raw = form.get(f"q_{q.id}")
        answers[str(q.id)] = _as_list(raw) if q.kind == QuestionKind.multiple_choice else str(raw or "")
    data["answers"] = answers
    return data


def form_errors(error: Invalid) -> Invalid:
    """Errors on list items (team.0.name, plan.2.month) shown on their field (team, plan)."""
    errors: dict[str, str] = {}
    for name, message in error.errors.items():
        head = name.split(".")[0]
        key = head if head in ("team", "plan", "kpis") else name
        errors.setdefault(key, message)
    if isinstance(error, InvalidInput):
        variables: dict[str, dict[str, Any]] = {}
        for name, values in error.field_variables.items():
            head = name.split(".")[0]
            variables.setdefault(head if head in ("team", "plan", "kpis") else name, values)
        error.field_variables = variables
    error.errors = errors
    return error


def form_from_proposal(proposal: Proposal) -> dict[str, Any]:
    form: dict[str, Any] = {name: getattr(proposal, name) or "" for name in TEXT_FIELDS}
    form["trl"] = str(proposal.trl) if proposal.trl else ""
    form["team"] = join_lines(proposal.team, TEAM_KEYS)
    form["plan"] = join_lines(proposal.plan, PLAN_KEYS)
    form["kpis"] = list(proposal.kpis)
    for key, value in proposal.answers.items():
        form[f"q_{key}"] = [str(v) for v in value] if isinstance(value, list) else str(value)
    form["revision"] = str(proposal.revision)
    return form
