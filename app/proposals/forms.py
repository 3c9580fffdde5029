"""The proposal form: from HTML form fields to the service's input shape and back.

The team and the nine-month plan are edited as lines of text ("name | role", "month | milestone"), which works
without JavaScript; extra questions are fields named q_<question id>.
"""

import secrets
from typing import Any

from pydantic import ValidationError

from app.errors import Invalid
from app.proposals import drafts
from app.proposals.models import Proposal, ProposalQuestion, QuestionKind
from app.proposals.schemas import ProposalUpdate
from app.validation import InvalidInput, field_errors, whole_number
from app.web.forms import join_lines, parse_lines

TEXT_FIELDS = ("title", "summary", "description", "data_use", "experimentation_plan", "needs", "video_url")
TEAM_KEYS = ("name", "role")
PLAN_KEYS = ("month", "milestone")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


Problems = dict[str, tuple[str, dict[str, Any]]]


def fields_from_form(form: dict[str, Any], questions: list[ProposalQuestion]) -> tuple[dict[str, Any], Problems]:
    """The service input from a submitted proposal form, and the problems of the fields it could not read
    (those fields are left out, so that the others can be saved)."""
    data: dict[str, Any] = {name: str(form.get(name, "")).replace("\r\n", "\n") for name in TEXT_FIELDS}
    problems: Problems = {}
    trl = str(form.get("trl", "")).strip()
    data["trl"] = whole_number(trl, max_digits=2)
    if trl and data["trl"] is None:
        problems["trl"] = ("Choose one of the options.", {})
        del data["trl"]
    for name, keys in (("team", TEAM_KEYS), ("plan", PLAN_KEYS)):
        try:
            data[name] = parse_lines(str(form.get(name, "")), keys, name)
        except Invalid as exc:
            problems[name] = (exc.errors[name], exc.variables)
    for number, row in enumerate(data.get("plan", []), start=1):
        month = str(row.get("month", "")).strip().lower().removeprefix("m")
        number_of_month = whole_number(month, max_digits=1)
        if number_of_month is None or not 1 <= number_of_month <= 9 or not row.get("milestone"):
            problems["plan"] = ("Line %(line)s: give a month from 1 to 9, then the milestone.", {"line": number})
            del data["plan"]
            break
        row["month"] = number_of_month
    data["kpis"] = _as_list(form.get("kpis"))
    answers: dict[str, Any] = {}
    for q in questions:
        if q.kind == QuestionKind.file:
            continue
        raw = form.get(f"q_{q.id}")
        answers[str(q.id)] = _as_list(raw) if q.kind == QuestionKind.multiple_choice else str(raw or "")
    data["answers"] = answers
    return data, problems


def valid_fields(data: dict[str, Any]) -> tuple[ProposalUpdate, Problems]:
    """The fields of `data` the proposal accepts, and the problems of those it refuses (a team line's name too
    long, a video link that is no link…), each on its field: one bad field never stops the others."""
    data = dict(data)
    problems: Problems = {}
    while True:
        try:
            return ProposalUpdate.model_validate(data), problems
        except ValidationError as exc:
            found = field_errors(exc.errors())
            for path, problem in found.items():
                head, _, rest = path.partition(".")
                if head == "answers" and rest and isinstance(data.get("answers"), dict):
                    key = rest.split(".")[0]
                    problems.setdefault(f"answers.{key}", problem)
                    data["answers"] = {k: v for k, v in data["answers"].items() if k != key}
                elif head in data:
                    problems.setdefault(head, problem)
                    del data[head]
                else:  # not a field of the form: nothing to leave out
                    raise InvalidInput(found) from None


def editor_of(form: dict[str, Any]) -> str | None:
    """The token of the editing page that sent the form (see app/proposals/drafts.py)."""
    editor = str(form.get("editor", ""))
    return (
        editor
        if 8 <= len(editor) <= 32 and editor.isascii() and editor.replace("-", "").replace("_", "").isalnum()
        else None
    )


def new_editor() -> str:
    return secrets.token_urlsafe(12)


def choices_from_form(form: dict[str, Any]) -> dict[str, str]:
    """For fields a teammate changed too, what the editor chose to keep: their text, the teammate's, or both."""
    choices = {}
    for name, value in form.items():
        if name.startswith("keep.") and str(value) in drafts.CHOICES:
            choices[name.removeprefix("keep.")] = str(value)
    return choices


def form_name(key: str) -> str:
    """The form field of a proposal field (an answer "answers.3" is the field q_3)."""
    return "q_" + key.removeprefix(drafts.ANSWER) if key.startswith(drafts.ANSWER) else key


def form_values(proposal: Proposal, keys: list[str]) -> dict[str, Any]:
    """The form fields of these proposal fields, as the working copy holds them."""
    whole = form_from_proposal(proposal)
    return {form_name(k): whole.get(form_name(k), "") for k in keys}


def shown_value(key: str, value: Any) -> Any:
    """A proposal field's value written as its form field shows it (lines of text for the team and plan)."""
    if key == "team":
        return join_lines(value or [], TEAM_KEYS)
    if key == "plan":
        return join_lines(value or [], PLAN_KEYS)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def form_from_proposal(proposal: Proposal) -> dict[str, Any]:
    form: dict[str, Any] = {name: getattr(proposal, name) or "" for name in TEXT_FIELDS}
    form["trl"] = str(proposal.trl) if proposal.trl else ""
    form["team"] = join_lines(proposal.team, TEAM_KEYS)
    form["plan"] = join_lines(proposal.plan, PLAN_KEYS)
    form["kpis"] = list(proposal.kpis)
    for key, value in proposal.answers.items():
        form[f"q_{key}"] = [str(v) for v in value] if isinstance(value, list) else str(value)
    form["revision"] = str(proposal.revision)
    form["editor"] = new_editor()
    return form
