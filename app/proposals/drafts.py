"""Co-writing a draft: the working copy's fields one by one, the history of what each save changed, and the
three-way merge that lets teammates edit different fields of one proposal at the same time.

Rules:
- A proposal's fields, for merging, are its texts, its TRL and video link, its team, plan and KPIs, and each
  extra question's answer on its own ("answers.<question id>").
- Every save records the fields it changed (ProposalRevision), with the editing page that saved it (a token
  each edit page gets when it is drawn) — so that an editor's own earlier autosaves are never mistaken for a
  teammate's work.
- A save from a form drawn at revision `base`: a field the editor did not change (its value is the one at
  `base`) keeps what teammates saved since; a field only the editor changed is saved; a field changed by both
  to different values is a conflict — not saved, shown side by side — unless the editor chose, for that field,
  to keep their text, the teammate's, or both.
- When the value at `base` cannot be known (a proposal older than this history), a field a teammate changed
  since is a conflict whenever the two values differ: never a silent overwrite.
"""

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from app.proposals.models import Proposal, ProposalRevision

TEXTS = ("title", "summary", "description", "data_use", "experimentation_plan", "needs", "video_url")
SCALARS = (*TEXTS, "trl")
LISTS = ("team", "plan", "kpis")
ANSWER = "answers."
# Fields where "keep both texts" makes sense (the others take one side or the other).
JOINABLE = ("description", "data_use", "experimentation_plan", "needs", "team", "plan", "kpis")
CHOICES = ("mine", "theirs", "both")


class Unknown:
    """The value of a field at a revision the history does not reach."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()


def _same_lines(value: Any) -> Any:
    """Texts compared and stored with one kind of line ending (browsers send CRLF; older drafts hold it)."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def field_values(proposal: Proposal) -> dict[str, Any]:
    """Every field of the working copy, one key per field and per answered question."""
    values: dict[str, Any] = {name: _same_lines(getattr(proposal, name)) for name in (*SCALARS, *LISTS)}
    values.update({ANSWER + key: _same_lines(value) for key, value in proposal.answers.items()})
    return values


def value_of(values: dict[str, Any], key: str) -> Any:
    """A field's value in `values`; an unanswered question is None."""
    if key.startswith(ANSWER):
        return values.get(key)
    return values[key]


def set_field(proposal: Proposal, key: str, value: Any) -> None:
    if key.startswith(ANSWER):
        answers = dict(proposal.answers)  # a new dict: the JSON column sees the change
        if value in (None, "", []):
            answers.pop(key.removeprefix(ANSWER), None)
        else:
            answers[key.removeprefix(ANSWER)] = value
        proposal.answers = answers
    else:
        setattr(proposal, key, list(value) if isinstance(value, list) else value)


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value differs, with their value in `after` (None for an answer removed)."""
    keys = set(before) | set(after)
    return {k: value_of(after, k) for k in sorted(keys) if value_of(before, k) != value_of(after, k)}


def record(
    session: Session,
    proposal: Proposal,
    changes: dict[str, Any],
    *,
    saved_by: int | None,
    editor: str | None,
    full: bool = False,
) -> None:
    """Write what the save that made `proposal.revision` changed."""
    session.add(
        ProposalRevision(
            proposal_id=proposal.id or 0,
            revision=proposal.revision,
            editor=editor,
            saved_by_id=saved_by,
            full=full,
            changes=changes,
        )
    )


def changed_by_others(session: Session, proposal_id: int, base: int, editor: str | None) -> set[str]:
    """The fields that saves after revision `base` changed, other than those of the editing page `editor`."""
    rows = session.exec(
        select(ProposalRevision.editor, ProposalRevision.changes).where(
            ProposalRevision.proposal_id == proposal_id, ProposalRevision.revision > base
        )
    ).all()
    keys: set[str] = set()
    for row_editor, changes in rows:
        if editor is None or row_editor != editor:
            keys.update(changes)
    return keys


def values_at(session: Session, proposal_id: int, revision: int, keys: Iterable[str]) -> dict[str, Any]:
    """Each field's value as it was at `revision` (UNKNOWN where the history does not go back that far)."""
    wanted = set(keys)
    found: dict[str, Any] = {}
    if not wanted:
        return found
    rows = session.exec(
        select(ProposalRevision.full, ProposalRevision.changes)
        .where(ProposalRevision.proposal_id == proposal_id, ProposalRevision.revision <= revision)
        .order_by(col(ProposalRevision.revision).desc())
    ).all()
    for full, changes in rows:
        for key in wanted - set(found):
            if key in changes:
                found[key] = _same_lines(changes[key])
            elif full:
                found[key] = None if key.startswith(ANSWER) else UNKNOWN
        if len(found) == len(wanted):
            break
    return {key: found.get(key, UNKNOWN) for key in wanted}


def both(key: str, theirs: Any, mine: Any) -> Any:
    """The teammate's value, then the editor's: texts one after the other, lists joined without repeats."""
    if isinstance(theirs, list) or isinstance(mine, list):
        joined = list(theirs or [])
        joined += [item for item in mine or [] if item not in joined]
        return sorted(joined, key=lambda m: m["month"]) if key == "plan" else joined
    theirs, mine = str(theirs or "").strip(), str(mine or "").strip()
    if not theirs or mine.startswith(theirs):
        return mine
    if not mine or theirs.startswith(mine):
        return theirs
    return f"{theirs}\n\n{mine}"


def may_join(key: str, long_text_answers: set[str]) -> bool:
    return key in JOINABLE or key in long_text_answers
