"""The loaded round and assignment, and what each reader sees of them: the projections every face reads
(pages, API, emails), so that what a juror may see — and what a blind round hides — is decided here only.

Rules:
- A round is seen by the challenge's staff, and by its jurors once it is open (permissions.py).
- An assignment is seen by its juror and the staff, never across a conflict of interest (404).
- A juror reads the proposal's last submitted version. In a blind round every juror-facing projection hides
  who the startup is: its name, its members' names (in the team and wherever the text names them), its pitch
  video, and attachment names (shown as "Attachment 1.pdf"). The staff see the proposal as it is.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.accounts.models import Membership, Organisation, User
from app.challenges import service as challenges
from app.challenges.service import ChallengeView
from app.db import utcnow
from app.errors import NotFound
from app.i18n import gettext
from app.jury import conflicts
from app.jury import permissions as can
from app.jury.models import (
    AssignmentStatus,
    Juror,
    JuryAssignment,
    JuryCriterion,
    JuryEntry,
    JuryReview,
    JuryRound,
)
from app.proposals import records as proposal_records
from app.proposals.models import Proposal
from app.proposals.records import ProposalView
from app.security.actor import Actor


@dataclass
class RoundView:
    round: JuryRound
    challenge: ChallengeView
    criteria: list[JuryCriterion]
    actor: Actor
    staff: bool
    seat: Juror | None  # the actor's own juror row in this round, if they sit on it
    now: datetime

    @property
    def id(self) -> int:
        return self.round.id or 0

    @property
    def status(self) -> str:
        return can.effective_status(self.round, self.now)

    @property
    def accepts_reviews(self) -> bool:
        return can.accepts_reviews(self.round, self.now)

    @property
    def is_juror(self) -> bool:
        return can.is_juror(self.actor, self.seat)

    @property
    def may_manage(self) -> bool:
        return can.can_manage_round(staff=self.staff)

    @property
    def may_edit_criteria(self) -> bool:
        return self.staff and can.can_edit_criteria(self.round)

    @property
    def may_edit_settings(self) -> bool:
        return self.staff and can.can_edit_settings(self.round, self.now)

    @property
    def may_open(self) -> bool:
        return self.staff and can.can_open_round(self.round)

    @property
    def may_close(self) -> bool:
        return self.staff and can.can_close_round(self.round, self.now)

    @property
    def blind_for_reader(self) -> bool:
        """The reader is shown the round's proposals without who wrote them."""
        return self.round.blind and not self.staff

    @property
    def timezone(self) -> str:
        return self.challenge.programme.timezone

    @property
    def scale_max(self) -> float:
        return max((c.max_score for c in self.criteria), default=0)

    def local(self, value: datetime) -> datetime:
        return value.astimezone(ZoneInfo(self.timezone))


def _criteria(session: Session, round_ids: Sequence[int]) -> dict[int, list[JuryCriterion]]:
    found: dict[int, list[JuryCriterion]] = {}
    for c in session.exec(
        select(JuryCriterion)
        .where(col(JuryCriterion.round_id).in_(list(round_ids) or [-1]))
        .order_by(col(JuryCriterion.position), col(JuryCriterion.id))
    ):
        found.setdefault(c.round_id, []).append(c)
    return found


def round_views(
    session: Session,
    actor: Actor,
    rounds: Sequence[JuryRound],
    challenge_views: dict[int, ChallengeView],
    now: datetime,
) -> list[RoundView]:
    """Views of many rounds in a constant number of queries (the challenges are loaded by the caller)."""
    ids = [r.id or 0 for r in rounds]
    criteria = _criteria(session, ids)
    seats = (
        {
            j.round_id: j
            for j in session.exec(
                select(Juror).where(col(Juror.round_id).in_(ids or [-1]), Juror.user_id == actor.user_id)
            )
        }
        if actor.is_authenticated
        else {}
    )
    views = []
    for r in rounds:
        challenge = challenge_views[r.challenge_id]
        views.append(
            RoundView(
                r, challenge, criteria.get(r.id or 0, []), actor, challenge.is_staff(actor), seats.get(r.id or 0), now
            )
        )
    return views


def get_round(session: Session, actor: Actor, round_id: int, *, now: datetime | None = None) -> RoundView:
    """A round the actor may see; NotFound for everyone else."""
    now = now or utcnow()
    round_ = session.get(JuryRound, round_id)
    if round_ is None:
        raise NotFound()
    challenge = challenges.get_challenge(session, actor, round_.challenge_id)
    view = round_views(session, actor, [round_], {round_.challenge_id: challenge}, now)[0]
    if not can.can_view_round(actor, round_, staff=view.staff, juror=view.seat):
        raise NotFound()
    return view


def get_managed_round(session: Session, actor: Actor, round_id: int, *, now: datetime | None = None) -> RoundView:
    """A round for what only its staff do: 404 to anyone else, its jurors included (those pages do not exist
    for them)."""
    view = get_round(session, actor, round_id, now=now)
    if not view.staff:
        raise NotFound()
    return view


def list_rounds(
    session: Session, actor: Actor, challenge: ChallengeView, *, now: datetime | None = None
) -> list[RoundView]:
    """The challenge's rounds in order, as the actor may see them: all for the staff, the ones they sit on for
    jurors, none for anyone else."""
    now = now or utcnow()
    query = select(JuryRound).where(JuryRound.challenge_id == challenge.challenge.id)
    if not challenge.is_staff(actor):
        query = query.where(can.juror_rounds(actor))
    rows = session.exec(query.order_by(col(JuryRound.position))).all()
    return round_views(session, actor, rows, {challenge.challenge.id or 0: challenge}, now)


def seated_rounds(session: Session, actor: Actor, *, now: datetime | None = None) -> list[RoundView]:
    """The rounds the actor sits on as a juror (not drafts), the most recent first: their jury page."""
    now = now or utcnow()
    rows = session.exec(
        select(JuryRound).where(can.juror_rounds(actor)).order_by(col(JuryRound.closes_at).desc())
    ).all()
    views = {v.challenge.id or 0: v for v in challenges.views_for(session, list({r.challenge_id for r in rows}))}
    return round_views(session, actor, rows, views, now)


# ---- conflicts of the reader ------------------------------------------------------------------------------


def reader_conflicts(session: Session, actor: Actor, startup_ids: set[int]) -> set[int]:
    """The startups among these that the actor may not judge (nor see judged)."""
    if not actor.is_authenticated or actor.user is None:
        return set()
    return conflicts.facts_for(session, [actor.user], startup_ids).startups_of(actor.user_id)


# ---- assignments ------------------------------------------------------------------------------------------


@dataclass
class AssignmentView:
    assignment: JuryAssignment
    entry: JuryEntry
    round: RoundView
    juror: Juror
    proposal: ProposalView
    review: JuryReview | None
    juror_name: str = ""
    names_to_hide: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.assignment.id or 0

    @property
    def status(self) -> str:
        return assignment_status(self.review)

    @property
    def blind(self) -> bool:
        return self.round.blind_for_reader

    @property
    def is_own(self) -> bool:
        return can.is_juror(self.round.actor, self.juror)

    @property
    def may_review(self) -> bool:
        return can.can_write_review(
            self.round.actor, self.round.round, self.juror, conflicted=False, now=self.round.now
        )

    @property
    def startup_name(self) -> str | None:
        """The startup's name, or None where the reader may not know it (a blind round)."""
        return None if self.blind else self.proposal.startup.name

    @property
    def title(self) -> str:
        return str(self.content.get("title") or "") or gettext("Untitled proposal")

    @property
    def content(self) -> dict[str, Any]:
        """The last submitted version, as this reader may see it (blind: without who wrote it)."""
        shown = self.proposal.content
        return redact(shown, self.names_to_hide) if self.blind else shown

    def attachment_name(self, attachment: dict[str, Any], number: int) -> str:
        if not self.blind:
            return str(attachment["name"])
        # the blind content has no file names: the type's suffix comes from the name as submitted
        named = {a["id"]: str(a["name"]) for a in self.proposal.content.get("attachments") or []}
        original = named.get(attachment["id"], str(attachment["name"]))
        suffix = original.rsplit(".", 1)[-1].lower() if "." in original else ""
        name = gettext("Attachment %(number)s", number=number)
        return f"{name}.{suffix}" if suffix else name


def assignment_status(review: JuryReview | None) -> str:
    return AssignmentStatus.pending if review is None else review.status


HIDDEN = "▇▇▇"


def redact(content: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The content with every mention of these names hidden, the team unnamed, the video and file names gone."""
    pattern = _names_pattern(names)

    def hide(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(HIDDEN, value) if pattern else value
        if isinstance(value, list):
            return [hide(v) for v in value]
        if isinstance(value, dict):
            return {k: hide(v) for k, v in value.items()}
        return value

    shown = {k: hide(v) for k, v in content.items() if k not in ("startup", "video_url", "attachments", "team")}
    shown["team"] = [
        {"name": gettext("Member %(number)s", number=i), "role": hide(str(m.get("role", "")))}
        for i, m in enumerate(content.get("team") or [], start=1)
    ]
    shown["attachments"] = [
        {k: v for k, v in a.items() if k != "name"} | {"name": ""} for a in content.get("attachments") or []
    ]
    shown["video_url"] = ""
    return shown


def hide_names(text: str, names: Sequence[str]) -> str:
    """A text written about a proposal by someone else (another juror's comment, note or reason to abstain)
    with these names hidden: what a blind round's juror reads of it."""
    pattern = _names_pattern(names)
    return pattern.sub(HIDDEN, text) if pattern else text


def _names_pattern(names: Sequence[str]) -> re.Pattern[str] | None:
    """The names as whole words (Unicode letters and digits on neither side: "Ana" hides in "Ana's", not in
    "banana"), longest first, whatever their case."""
    words = sorted({n.strip() for n in names if len(n.strip()) >= 3}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


# words of a company's name that name no one: legal forms and articles
NAMELESS_WORDS = frozenset(
    [
        "sarl",
        "sarlau",
        "sa",
        "sas",
        "sasu",
        "eurl",
        "snc",
        "ltd",
        "llc",
        "inc",
        "gmbh",
        "spa",
        "srl",
        "bv",
        "ag",
        "plc",
        "société",
        "societe",
        "groupe",
        "group",
        "the",
        "les",
        "la",
        "le",
    ]
)


def organisation_names(name: str) -> list[str]:
    """A startup's name as a text may write it: whole, without what it adds in brackets, and its first word that
    is not a legal form (the brand: "LeakSense" of "LeakSense SARL", "Wayz" of "Wayz Mobility (demo startup)")."""
    bare = re.sub(r"\s*[(\[][^)\]]*[)\]]", "", name).strip()
    brand = [w for w in re.findall(r"[\w'’-]+", bare) if w.lower() not in NAMELESS_WORDS][:1]
    return [name, bare, *brand]


def identities(session: Session, startups: Sequence[Organisation]) -> dict[int, list[str]]:
    """Per startup, the names a blind round hides: the startup's (organisation_names), its members' (accounts),
    and their parts (a first name alone names someone too)."""
    found: dict[int, list[str]] = {s.id or 0: organisation_names(s.name) for s in startups}
    for organisation_id, name in session.exec(
        select(Membership.organisation_id, User.name)
        .join(User, col(User.id) == Membership.user_id)
        .where(col(Membership.organisation_id).in_(list(found) or [-1]))
    ):
        found[organisation_id].extend([name, *name.split()])
    return found


def team_names(content: dict[str, Any]) -> list[str]:
    """The names the proposal's own team lists, and their parts: people without an account are named there."""
    names = [str(m.get("name") or "") for m in content.get("team") or []]
    return [part for name in names for part in (name, *name.split())]


def names_hidden_from(session: Session, view: RoundView, proposals: Sequence[ProposalView]) -> dict[int, list[str]]:
    """Per proposal id, the names a blind round hides from this reader: its startup's and people's (accounts,
    and the team its last submitted version lists). Nothing for the staff or in a round that is not blind."""
    if not view.blind_for_reader:
        return {}
    hidden = identities(session, [p.startup for p in proposals])
    return {p.proposal.id or 0: [*hidden.get(p.proposal.startup_id, []), *team_names(p.content)] for p in proposals}


def assignment_views(
    session: Session, view: RoundView, assignments: Sequence[JuryAssignment], *, conflicted: set[int] | None = None
) -> list[AssignmentView]:
    """Views of many assignments of one round in a constant number of queries; those whose startup is in
    `conflicted` (the reader's conflicts) are left out."""
    if not assignments:
        return []
    entries = {
        e.id: e for e in session.exec(select(JuryEntry).where(col(JuryEntry.id).in_({a.entry_id for a in assignments})))
    }
    proposals = session.exec(
        select(Proposal).where(col(Proposal.id).in_({e.proposal_id for e in entries.values()}))
    ).all()
    shown = {
        p.proposal.id: p
        for p in proposal_records.views_of(
            session, view.actor, proposals, {view.challenge.challenge.id or 0: view.challenge}, view.now
        )
    }
    jurors = {j.id: j for j in session.exec(select(Juror).where(col(Juror.id).in_({a.juror_id for a in assignments})))}
    reviews = {
        r.assignment_id: r
        for r in session.exec(select(JuryReview).where(col(JuryReview.assignment_id).in_([a.id for a in assignments])))
    }
    hidden = names_hidden_from(session, view, list(shown.values()))
    views = []
    for a in assignments:
        entry = entries[a.entry_id]
        proposal = shown[entry.proposal_id]
        if conflicted and proposal.proposal.startup_id in conflicted:
            continue
        juror = jurors[a.juror_id]
        views.append(
            AssignmentView(
                a,
                entry,
                view,
                juror,
                proposal,
                reviews.get(a.id or 0),
                juror_name=juror.name,
                names_to_hide=hidden.get(entry.proposal_id, []),
            )
        )
    return views


def get_assignment(
    session: Session, actor: Actor, assignment_id: int, *, now: datetime | None = None
) -> AssignmentView:
    """An assignment its juror or the staff may see; NotFound for anyone else and across a conflict."""
    assignment = session.get(JuryAssignment, assignment_id)
    if assignment is None:
        raise NotFound()
    view = get_round(session, actor, assignment.round_id, now=now)
    found = assignment_views(session, view, [assignment])
    if not found:
        raise NotFound()
    shown = found[0]
    startup_id = shown.proposal.proposal.startup_id
    conflicted = startup_id in reader_conflicts(session, actor, {startup_id})
    if not can.can_view_assignment(actor, view.round, shown.juror, staff=view.staff, conflicted=conflicted):
        raise NotFound()
    return shown
