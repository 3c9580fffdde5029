"""Challenges: what cities and partners publish, their life cycle, terms, change log, followers and Q&A.

Rules:
- Staff of a challenge: members of its lead and co-sponsors, of its programme's operator, platform admins.
- A draft is seen by its staff only (404 for anyone else); published, closed, awarded and archived
  challenges are public.
- Life cycle: draft → published → closed → awarded → archived. "Closed" is not stored: a published
  challenge is closed once its deadline has passed, on the server's clock.
- Publishing needs a title, a summary, a problem statement, IP terms, at least one theme and a deadline in
  the future.
- A published challenge's deadline only moves later, never once passed (proposals stay confidential until
  it); `medina import` too (import_challenge), unless run with --move-deadlines, the explicit exception.
- Editing after publication is allowed to staff and recorded in the public change log; the IP terms get a
  new version whenever the current one is frozen (accepted by a proposal) or the challenge is published.
- A stale revision (API If-Match) is a Conflict (412 on the API), never a silent overwrite.
- A challenge may have one image (PNG, JPEG or WebP, up to 5 MiB), seen by whoever may see the challenge;
  its staff set, replace and remove it. A replaced or removed file leaves the disk once the change is
  committed; a new file whose change is rolled back leaves it at once.
- Anyone signed in may ask a question on a public challenge until the Q&A closes (or the deadline);
  staff answer; answered questions are public and never show who asked; followers are emailed answers.
  Every active member of the lead and co-sponsor organisations (who may answer) is emailed a new
  question, without who asked (the answer will be public without the asker's name).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, false, func, or_
from sqlmodel import Session, col, select

from app.accounts.models import Membership, Organisation, User
from app.accounts.service import slugify
from app.audit import service as audit
from app.challenges import permissions as can
from app.challenges import terms as challenge_terms
from app.challenges.models import (
    IN_PROGRESS,
    Challenge,
    ChallengeChange,
    ChallengeFollower,
    ChallengeSponsor,
    ChallengeStatus,
    ChallengeTerms,
    Question,
)
from app.challenges.schemas import AnswerCreate, ChallengeCreate, ChallengeUpdate, QuestionCreate
from app.config import site_url
from app.db import after_commit, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from app.files import staging, uploads
from app.files import types as file_types
from app.files.multipart import ReceivedUpload
from app.files.uploads import UploadBody
from app.i18n import N_
from app.notifications import service as notifications
from app.programmes.models import Programme, ProgrammePartner
from app.search import contains_text
from app.security.actor import Actor
from app.validation import id_or_slug

PAGE_SIZE = 20
TEXT_FIELDS = ("title", "summary", "problem", "context", "expected_outcome", "eligibility")


@dataclass
class ChallengeView:
    challenge: Challenge
    programme: Programme
    lead_sponsor: Organisation
    co_sponsors: list[Organisation] = field(default_factory=list)
    ip_terms: str = ""  # as written (the current version's); `terms` has it in other languages
    terms: ChallengeTerms | None = None
    changes: list[ChallengeChange] = field(default_factory=list)

    @property
    def sponsor_ids(self) -> set[int]:
        return {self.lead_sponsor.id or 0, *(o.id or 0 for o in self.co_sponsors)}

    @property
    def status(self) -> str:
        return effective_status(self.challenge)

    def is_staff(self, actor: Actor) -> bool:
        return can.is_challenge_staff(actor, self.challenge, self.programme, self.sponsor_ids)

    def may_delete(self, actor: Actor) -> bool:
        return can.can_delete_challenge(actor, self.challenge, self.programme, self.sponsor_ids)

    def may_edit(self, actor: Actor) -> bool:
        return can.can_edit_challenge(actor, self.challenge, self.programme, self.sponsor_ids)

    def terms_in(self, language: str) -> challenge_terms.ShownTerms:
        """The current IP terms as a reader of this language is shown them (loaded views only)."""
        if self.terms is None:
            return challenge_terms.ShownTerms(self.ip_terms, None, False)
        return challenge_terms.shown_to(self.terms, language)


def effective_status(challenge: Challenge, now: datetime | None = None) -> str:
    if challenge.status == ChallengeStatus.published and challenge.deadline <= (now or utcnow()):
        return ChallengeStatus.closed
    return challenge.status


# ---- loading ---------------------------------------------------------------------------------------------


def _views(session: Session, challenges: Sequence[Challenge], *, full: bool = False) -> list[ChallengeView]:
    """Views for many challenges in a constant number of queries."""
    if not challenges:
        return []
    ids = [c.id for c in challenges]
    programmes = {
        p.id: p
        for p in session.exec(select(Programme).where(col(Programme.id).in_({c.programme_id for c in challenges})))
    }
    co = session.exec(select(ChallengeSponsor).where(col(ChallengeSponsor.challenge_id).in_(ids))).all()
    org_ids = {c.lead_sponsor_id for c in challenges} | {s.organisation_id for s in co}
    orgs = {o.id: o for o in session.exec(select(Organisation).where(col(Organisation.id).in_(org_ids)))}
    co_by: dict[int, list[Organisation]] = {}
    for row in co:
        co_by.setdefault(row.challenge_id, []).append(orgs[row.organisation_id])
    views = [
        ChallengeView(
            c,
            programmes[c.programme_id],
            orgs[c.lead_sponsor_id],
            sorted(co_by.get(c.id or 0, []), key=lambda o: o.name),
        )
        for c in challenges
    ]
    if full:
        terms = {
            (t.challenge_id, t.version): t
            for t in session.exec(select(ChallengeTerms).where(col(ChallengeTerms.challenge_id).in_(ids)))
        }
        changes: dict[int, list[ChallengeChange]] = {}
        for change in session.exec(
            select(ChallengeChange)
            .where(col(ChallengeChange.challenge_id).in_(ids))
            .order_by(col(ChallengeChange.id).desc())
        ):
            changes.setdefault(change.challenge_id, []).append(change)
        for view in views:
            view.terms = terms.get((view.challenge.id or 0, view.challenge.terms_version))
            view.ip_terms = view.terms.ip_terms if view.terms else ""
            view.changes = changes.get(view.challenge.id or 0, [])
    return views


def complete(session: Session, views: list[ChallengeView]) -> list[ChallengeView]:
    """The same views with IP terms and change log loaded (for the API's full objects), in bulk."""
    return _views(session, [v.challenge for v in views], full=True)


def get_challenge(session: Session, actor: Actor, challenge_id: int) -> ChallengeView:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound()
    view = _views(session, [challenge], full=True)[0]
    if not can.can_view_challenge(actor, challenge, view.programme, view.sponsor_ids):
        raise NotFound()
    return view


def views_for(session: Session, challenge_ids: Sequence[int]) -> list[ChallengeView]:
    """Full views of the given challenges, without a permission check: for callers that check access to
    what they show through these challenges (e.g. a startup's own proposals)."""
    rows = session.exec(select(Challenge).where(col(Challenge.id).in_(list(challenge_ids) or [-1]))).all()
    return _views(session, rows, full=True)


def get_editable_challenge(session: Session, actor: Actor, challenge_id: int) -> ChallengeView:
    """A challenge for its edit form: 404 for anyone who may not edit it (the form does not exist for them)."""
    view = get_challenge(session, actor, challenge_id)
    if not view.may_edit(actor):
        raise NotFound()
    return view


def get_challenge_by_slug(session: Session, actor: Actor, programme_slug: str, slug: str) -> ChallengeView:
    challenge = session.exec(
        select(Challenge)
        .join(Programme, col(Programme.id) == Challenge.programme_id)
        .where(Programme.slug == programme_slug, Challenge.slug == slug)
    ).first()
    if challenge is None:
        raise NotFound()
    return get_challenge(session, actor, challenge.id or 0)


@dataclass
class ChallengeFilters:
    programme: int | str | None = None
    status: str | None = None
    theme: str | None = None
    themes: tuple[str, ...] = ()  # any of these themes
    sponsor: int | str | None = None
    q: str | None = None


def _named(value: int | str, id_column: Any, slug_column: Any) -> Any:
    """The SQL condition for the record a filter names by id or slug (see id_or_slug); nothing matches a
    value that can be neither."""
    found = value if isinstance(value, int) else id_or_slug(value)
    if found is None:
        return false()
    return id_column == found if isinstance(found, int) else slug_column == found


def _has_theme(theme: str) -> Any:
    return cast(Challenge.themes, String).contains(f'"{theme}"', autoescape=True)


def _filtered(actor: Actor, filters: ChallengeFilters) -> Any:
    query = select(Challenge).where(can.visible_challenges(actor))
    now = utcnow()
    if filters.programme:
        programme = select(Programme.id).where(_named(filters.programme, Programme.id, Programme.slug))
        query = query.where(col(Challenge.programme_id).in_(programme))
    if filters.status == ChallengeStatus.closed:
        query = query.where(Challenge.status == ChallengeStatus.published, col(Challenge.deadline) <= now)
    elif filters.status == ChallengeStatus.published:
        query = query.where(Challenge.status == ChallengeStatus.published, col(Challenge.deadline) > now)
    elif filters.status:
        query = query.where(Challenge.status == filters.status)
    if filters.theme:
        query = query.where(_has_theme(filters.theme))
    if filters.themes:
        query = query.where(or_(*(_has_theme(theme) for theme in filters.themes)))
    if filters.sponsor:
        sponsor = select(Organisation.id).where(_named(filters.sponsor, Organisation.id, Organisation.slug))
        co_sponsored = select(ChallengeSponsor.challenge_id).where(col(ChallengeSponsor.organisation_id).in_(sponsor))
        query = query.where(or_(col(Challenge.lead_sponsor_id).in_(sponsor), col(Challenge.id).in_(co_sponsored)))
    if filters.q:
        query = query.where(or_(contains_text(Challenge.title, filters.q), contains_text(Challenge.summary, filters.q)))
    return query


def list_challenges(
    session: Session, actor: Actor, filters: ChallengeFilters, *, offset: int = 0, limit: int = PAGE_SIZE
) -> tuple[list[ChallengeView], int]:
    """A page of the challenges the actor may see (soonest deadline first), and how many match in all."""
    query = _filtered(actor, filters)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Challenge.deadline), col(Challenge.id)).offset(offset).limit(limit)).all()
    return _views(session, rows), total


def list_sponsored_challenges(session: Session, actor: Actor) -> list[ChallengeView]:
    """The draft and published (open or closed) challenges that the actor's organisations lead or co-sponsor,
    soonest deadline first: what their staff work on."""
    rows = session.exec(
        select(Challenge)
        .where(
            can.sponsored_challenges(actor),
            col(Challenge.status).in_([s.value for s in IN_PROGRESS]),
        )
        .order_by(col(Challenge.deadline), col(Challenge.id))
    ).all()
    return _views(session, rows)


def list_programme_challenges(session: Session, actor: Actor, programme_ids: Sequence[int]) -> list[ChallengeView]:
    """The draft and published challenges of these programmes that the actor may see (drafts for their
    staff only), soonest deadline first."""
    if not programme_ids:
        return []
    rows = session.exec(
        select(Challenge)
        .where(
            can.visible_challenges(actor),
            col(Challenge.programme_id).in_(programme_ids),
            col(Challenge.status).in_([s.value for s in IN_PROGRESS]),
        )
        .order_by(col(Challenge.deadline), col(Challenge.id))
    ).all()
    return _views(session, rows)


def waiting_questions(session: Session, actor: Actor, views: Sequence[ChallengeView]) -> dict[int, list[Question]]:
    """The unanswered questions of those of these challenges the actor is staff of, oldest first, by
    challenge id (one query); nothing of the others."""
    ids = [v.challenge.id or 0 for v in views if v.is_staff(actor)]
    out: dict[int, list[Question]] = {}
    if not ids:
        return out
    for question in session.exec(
        select(Question)
        .where(col(Question.challenge_id).in_(ids), col(Question.answered_at).is_(None))
        .order_by(col(Question.created_at), col(Question.id))
    ):
        out.setdefault(question.challenge_id, []).append(question)
    return out


# ---- writing -----------------------------------------------------------------------------------------------


def _partner_ids(session: Session, programme: Programme) -> set[int]:
    return set(
        session.exec(
            select(ProgrammePartner.organisation_id).where(ProgrammePartner.programme_id == programme.id)
        ).all()
    )


def _check_sponsors(session: Session, ids: list[int]) -> list[Organisation]:
    orgs = list(session.exec(select(Organisation).where(col(Organisation.id).in_(ids or [-1]))))
    if len(orgs) != len(set(ids)) or not all(can.can_sponsor(o) for o in orgs):
        raise Invalid({"sponsors": "Choose existing city, partner or operator organisations."})
    return orgs


def create_challenge(session: Session, actor: Actor, data: ChallengeCreate) -> ChallengeView:
    programme = session.get(Programme, data.programme)
    if programme is None:
        raise Invalid({"programme": "Choose an existing programme."})
    if not can.can_create_challenge(actor, programme, _partner_ids(session, programme)):
        raise Forbidden("Only staff of the programme's city, partners and operator may write challenges.")
    lead_id = data.lead_sponsor
    if lead_id is None:
        mine = sorted(actor.organisation_ids(*can.SPONSOR_KINDS))
        if not mine:
            raise Invalid({"lead_sponsor": "This field is required."})
        lead_id = mine[0]
    elif not can.can_name_lead_sponsor(actor, programme, lead_id):
        raise Invalid({"lead_sponsor": "You may only lead a challenge for your own organisation."})
    _check_sponsors(session, [lead_id])
    co_sponsors = _check_sponsors(session, [i for i in (data.sponsors or []) if i != lead_id])
    slug = data.slug or slugify(data.title)
    if session.exec(select(Challenge.id).where(Challenge.programme_id == programme.id, Challenge.slug == slug)).first():
        raise Invalid({"slug": "This short name is already taken in this programme."})
    challenge = Challenge(
        programme_id=programme.id or 0,
        lead_sponsor_id=lead_id,
        slug=slug,
        title=data.title,
        summary=data.summary,
        problem=data.problem or "",
        context=data.context or "",
        expected_outcome=data.expected_outcome or "",
        eligibility=data.eligibility or "",
        themes=list(data.themes or []),
        sdgs=sorted(set(data.sdgs or [])),
        kpis=[k.model_dump() for k in data.kpis or []],
        test_sites=[t.model_dump() for t in data.test_sites or []],
        deadline=data.deadline,
        qa_closes_at=data.qa_closes_at,
        created_by_id=actor.user_id,
    )
    session.add(challenge)
    session.flush()
    for organisation in co_sponsors:
        session.add(ChallengeSponsor(challenge_id=challenge.id or 0, organisation_id=organisation.id or 0))
    session.add(
        ChallengeTerms(
            challenge_id=challenge.id or 0,
            version=1,
            created_by_id=actor.user_id,
            **challenge_terms.terms_values(data.ip_terms),
        )
    )
    session.flush()
    audit.record(session, "challenge.created", actor=actor, target=("challenge", challenge.id))
    return get_challenge(session, actor, challenge.id or 0)


def check_revision(view: ChallengeView, expected: int | None) -> None:
    if expected is not None and expected != view.challenge.revision:
        raise PreconditionFailed(
            "Someone else changed this challenge since you loaded it. Reload it and apply your change again."
        )


def update_challenge(
    session: Session, actor: Actor, view: ChallengeView, data: ChallengeUpdate, *, expected_revision: int | None = None
) -> ChallengeView:
    if not view.may_edit(actor):
        raise Forbidden("You may not edit this challenge.")
    check_revision(view, expected_revision)
    challenge = view.challenge
    given = data.model_dump(exclude_unset=True, exclude={"note", "status"})
    changed: list[str] = []
    for name in TEXT_FIELDS:
        if name in given and given[name] is not None and given[name] != getattr(challenge, name):
            setattr(challenge, name, given[name])
            changed.append(name)
    if "slug" in given and given["slug"] and given["slug"] != challenge.slug:
        if challenge.status != ChallengeStatus.draft:
            raise Invalid({"slug": "The address of a published challenge cannot change."})
        if session.exec(
            select(Challenge.id).where(
                Challenge.programme_id == challenge.programme_id, Challenge.slug == given["slug"]
            )
        ).first():
            raise Invalid({"slug": "This short name is already taken in this programme."})
        challenge.slug = given["slug"]
        changed.append("slug")
    lists = {
        "themes": list(data.themes) if data.themes is not None else None,
        "sdgs": sorted(set(data.sdgs)) if data.sdgs is not None else None,
        "kpis": [k.model_dump() for k in data.kpis] if data.kpis is not None else None,
        "test_sites": [t.model_dump() for t in data.test_sites] if data.test_sites is not None else None,
    }
    for name, value in lists.items():
        if value is not None and value != getattr(challenge, name):
            setattr(challenge, name, value)
            changed.append(name)
    for name in ("deadline", "qa_closes_at"):
        if name in given and given[name] != getattr(challenge, name):
            if name == "deadline" and given[name] is None:
                raise Invalid({"deadline": "This field is required."})
            if name == "deadline" and challenge.status != ChallengeStatus.draft:
                _check_new_deadline(challenge, given[name])
            setattr(challenge, name, given[name])
            changed.append(name)
    if data.sponsors is not None:
        wanted = {i for i in data.sponsors if i != challenge.lead_sponsor_id}
        if wanted != {o.id for o in view.co_sponsors}:
            _check_sponsors(session, sorted(wanted))
            for row in session.exec(select(ChallengeSponsor).where(ChallengeSponsor.challenge_id == challenge.id)):
                session.delete(row)
            session.flush()
            for organisation_id in wanted:
                session.add(ChallengeSponsor(challenge_id=challenge.id or 0, organisation_id=organisation_id))
            changed.append("sponsors")
    if data.ip_terms is not None and data.ip_terms != view.ip_terms:
        _set_ip_terms(session, actor, challenge, data.ip_terms)
        changed.append("ip_terms")
    if not changed:
        return view
    challenge.revision += 1
    challenge.updated_at = utcnow()
    session.add(challenge)
    if challenge.status != ChallengeStatus.draft:
        session.add(
            ChallengeChange(
                challenge_id=challenge.id or 0, changed_by_id=actor.user_id, fields=changed, note=data.note or ""
            )
        )
    session.flush()
    audit.record(session, "challenge.updated", actor=actor, target=("challenge", challenge.id), fields=changed)
    return get_challenge(session, actor, challenge.id or 0)


def deadline_change_problem(challenge: Challenge, deadline: datetime, now: datetime | None = None) -> str | None:
    """Why a published challenge's deadline may not move to `deadline` (None when it may). It only moves later,
    and never once it has passed: proposals are confidential until the deadline, so its own staff may not
    bring it forward to read them early, nor reopen a call whose proposals they have read."""
    now = now or utcnow()
    if challenge.deadline <= now:
        return "The deadline has passed: it can no longer change."
    if deadline < challenge.deadline:
        return "The deadline of a published challenge can only be moved later."
    if deadline <= now:
        return "The deadline must be in the future."
    return None


def _check_new_deadline(challenge: Challenge, deadline: datetime) -> None:
    if problem := deadline_change_problem(challenge, deadline):
        raise Invalid({"deadline": problem})


def import_challenge(
    session: Session,
    programme_id: int,
    slug: str,
    data: ChallengeCreate,
    *,
    lead_sponsor_id: int,
    sponsor_ids: set[int],
    status: str,
    move_deadline: bool = False,
) -> tuple[Challenge, list[str]]:
    """Create the challenge of an imported file or bring it in line with the file (`medina import`, a trusted
    operator action: no actor). The folder's reader validated `data`, the organisations and the status (a
    published challenge never goes back to draft; a draft may be published with a past deadline, for the
    record of a past programme). The published-deadline rule holds (Invalid) unless `move_deadline`, the
    operator's explicit exception. Returns the challenge and what changed: ["created"], the changed fields
    (and "status" when it is published), or [] when nothing did."""
    values: dict[str, Any] = {
        "lead_sponsor_id": lead_sponsor_id,
        "title": data.title,
        "summary": data.summary,
        "problem": data.problem or "",
        "context": data.context or "",
        "expected_outcome": data.expected_outcome or "",
        "eligibility": data.eligibility or "",
        "themes": list(data.themes or []),
        "sdgs": sorted(set(data.sdgs or [])),
        "kpis": [k.model_dump() for k in data.kpis or []],
        "test_sites": [t.model_dump() for t in data.test_sites or []],
        "deadline": data.deadline,
        "qa_closes_at": data.qa_closes_at,
    }
    terms_values = challenge_terms.terms_values(data.ip_terms)
    challenge = session.exec(
        select(Challenge).where(Challenge.programme_id == programme_id, Challenge.slug == slug)
    ).first()
    now = utcnow()
    if challenge is None:
        challenge = Challenge(programme_id=programme_id, slug=slug, status=status, **values)
        if status == ChallengeStatus.published:
            challenge.published_at = now
        session.add(challenge)
        session.flush()
        for organisation_id in sorted(sponsor_ids):
            session.add(ChallengeSponsor(challenge_id=challenge.id or 0, organisation_id=organisation_id))
        session.add(ChallengeTerms(challenge_id=challenge.id or 0, version=1, **terms_values))
        session.flush()
        audit.record(session, "challenge.imported", target=("challenge", challenge.id), fields=["created"])
        return challenge, ["created"]

    was_draft = challenge.status == ChallengeStatus.draft
    if not was_draft and not move_deadline and data.deadline != challenge.deadline:
        _check_new_deadline(challenge, data.deadline)
    changed: list[str] = []
    for name, value in values.items():
        if getattr(challenge, name) != value:
            setattr(challenge, name, value)
            changed.append(name)
    rows = list(session.exec(select(ChallengeSponsor).where(ChallengeSponsor.challenge_id == challenge.id)))
    if {r.organisation_id for r in rows} != sponsor_ids:
        for row in rows:
            session.delete(row)
        session.flush()
        for organisation_id in sorted(sponsor_ids):
            session.add(ChallengeSponsor(challenge_id=challenge.id or 0, organisation_id=organisation_id))
        changed.append("sponsors")
    terms = session.exec(
        select(ChallengeTerms).where(
            ChallengeTerms.challenge_id == challenge.id, ChallengeTerms.version == challenge.terms_version
        )
    ).first()
    unchanged = terms is not None and (
        terms.ip_terms == terms_values["ip_terms"]
        or (challenge_terms.is_default(terms.ip_terms) and challenge_terms.is_default(terms_values["ip_terms"]))
    )
    if terms is None or not unchanged:
        if terms is not None and terms.frozen_at is None and was_draft:
            challenge_terms.set_text(terms, terms_values["ip_terms"])
            session.add(terms)
        else:
            challenge.terms_version = challenge.terms_version if terms is None else challenge.terms_version + 1
            session.add(ChallengeTerms(challenge_id=challenge.id or 0, version=challenge.terms_version, **terms_values))
        changed.append("ip_terms")
    publishing = was_draft and status == ChallengeStatus.published
    if not changed and not publishing:
        return challenge, []
    challenge.revision += 1
    challenge.updated_at = now
    if publishing:
        challenge.status = ChallengeStatus.published
        challenge.published_at = now
    session.add(challenge)
    if changed and not was_draft:
        session.add(
            ChallengeChange(challenge_id=challenge.id or 0, fields=changed, note="Imported from the programme's files.")
        )
    session.flush()
    fields = changed + (["status"] if publishing else [])
    audit.record(session, "challenge.imported", target=("challenge", challenge.id), fields=fields)
    return challenge, fields


def _set_ip_terms(session: Session, actor: Actor, challenge: Challenge, text: str) -> None:
    current = session.exec(
        select(ChallengeTerms).where(
            ChallengeTerms.challenge_id == challenge.id, ChallengeTerms.version == challenge.terms_version
        )
    ).one()
    if current.frozen_at is None and challenge.status == ChallengeStatus.draft:
        challenge_terms.set_text(current, text)
        session.add(current)
        return
    challenge.terms_version += 1
    session.add(
        ChallengeTerms(
            challenge_id=challenge.id or 0,
            version=challenge.terms_version,
            created_by_id=actor.user_id,
            **challenge_terms.terms_values(text),
        )
    )


def publication_problems(view: ChallengeView, now: datetime | None = None) -> dict[str, str]:
    challenge = view.challenge
    problems = {}
    for name in ("title", "summary", "problem"):
        if not getattr(challenge, name).strip():
            problems[name] = "This field is required to publish."
    if not view.ip_terms.strip():
        problems["ip_terms"] = "This field is required to publish."
    if not challenge.themes:
        problems["themes"] = "Choose at least one theme to publish."
    if challenge.deadline <= (now or utcnow()):
        problems["deadline"] = "The deadline must be in the future."
    return problems


def publish_challenge(session: Session, actor: Actor, view: ChallengeView) -> ChallengeView:
    if not view.may_edit(actor):
        raise Forbidden("You may not publish this challenge.")
    if view.challenge.status != ChallengeStatus.draft:
        raise Conflict("Only a draft can be published.")
    problems = publication_problems(view)
    if problems:
        raise Invalid(problems, detail="The challenge cannot be published yet.")
    challenge = view.challenge
    challenge.status = ChallengeStatus.published
    challenge.published_at = challenge.updated_at = utcnow()
    challenge.revision += 1
    session.add(challenge)
    session.flush()
    audit.record(session, "challenge.published", actor=actor, target=("challenge", challenge.id))
    return get_challenge(session, actor, challenge.id or 0)


def set_final_status(session: Session, actor: Actor, view: ChallengeView, status: str) -> ChallengeView:
    """closed → awarded (results are out) → archived."""
    if not view.may_edit(actor):
        raise Forbidden("You may not change this challenge.")
    allowed = {ChallengeStatus.awarded: ChallengeStatus.closed, ChallengeStatus.archived: ChallengeStatus.awarded}
    if status not in allowed or view.status != allowed[ChallengeStatus(status)]:
        raise Conflict("This change of status is not possible now.")
    view.challenge.status = status
    view.challenge.revision += 1
    view.challenge.updated_at = utcnow()
    session.add(view.challenge)
    audit.record(session, f"challenge.{status}", actor=actor, target=("challenge", view.challenge.id))
    return view


def draft_contents(session: Session, view: ChallengeView) -> dict[str, int]:
    """What deleting the draft takes with it, for the question that confirms it."""
    from app.datasets.models import Dataset
    from app.proposals.models import ProposalQuestion

    def count(model: Any) -> int:
        mine = model.challenge_id == view.challenge.id
        return session.exec(select(func.count()).select_from(model).where(mine)).one()

    return {
        "datasets": count(Dataset),
        "questions": count(ProposalQuestion),
        "images": 1 if view.challenge.image_key else 0,
    }


def delete_draft(session: Session, actor: Actor, view: ChallengeView) -> None:
    """Delete a draft that was never published, with what only it had: its image, datasets and their files,
    extra questions, sponsors, terms and followers. A published challenge is never deleted (it is archived);
    a draft that proposals refer to is refused rather than taking them with it."""
    from app.datasets.models import Dataset, DatasetFile
    from app.proposals.models import Proposal

    if not view.may_edit(actor):
        raise Forbidden("Only the challenge's sponsors and the programme operator may delete it.")
    # read again under a row lock: a publication committing at this moment is seen (and refused below)
    challenge = session.exec(
        select(Challenge)
        .where(Challenge.id == view.challenge.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if not can.can_delete_challenge(actor, challenge, view.programme, view.sponsor_ids):
        raise Conflict("Only a draft can be deleted. A published challenge stays on record: archive it instead.")
    if session.exec(select(Proposal.id).where(Proposal.challenge_id == challenge.id)).first() is not None:
        raise Conflict("Proposals refer to this draft, so it cannot be deleted.")
    keys = list(
        session.exec(
            select(DatasetFile.storage_key)
            .join(Dataset, col(Dataset.id) == DatasetFile.dataset_id)
            .where(Dataset.challenge_id == challenge.id)
        )
    )
    if challenge.image_key:
        keys.append(challenge.image_key)
    audit.record(
        session,
        "challenge.deleted",
        actor=actor,
        target=("challenge", challenge.id),
        title=challenge.title,
        slug=challenge.slug,
        programme=challenge.programme_id,
        files=len(keys),
    )
    session.delete(challenge)  # the database cascades to everything that belongs to it alone
    session.flush()

    def remove_files() -> None:
        for key in keys:
            staging.remove_stored(key)

    after_commit(session, remove_files)


# ---- the image ------------------------------------------------------------------------------------------------


def _image_changed(session: Session, actor: Actor, view: ChallengeView, key: str | None, action: str) -> None:
    """Point the challenge at its new image (or none); the previous file goes once this is committed."""
    challenge = view.challenge
    previous = challenge.image_key
    challenge.image_key = key
    challenge.updated_at = utcnow()
    session.add(challenge)
    if challenge.status != ChallengeStatus.draft:
        session.add(ChallengeChange(challenge_id=challenge.id or 0, changed_by_id=actor.user_id, fields=["image"]))
    session.flush()
    audit.record(session, f"challenge.{action}", actor=actor, target=("challenge", challenge.id))
    if previous:
        after_commit(session, lambda: staging.remove_stored(previous))


def check_image_editor(actor: Actor, view: ChallengeView) -> None:
    if not view.may_edit(actor):
        raise Forbidden("Only the challenge's sponsors and the programme operator may change its image.")


def set_image(session: Session, actor: Actor, view: ChallengeView, staged: staging.StagedFile) -> ChallengeView:
    """Keep a checked image upload as the challenge's image, replacing any previous one."""
    check_image_editor(actor, view)
    if staged.file_type not in file_types.IMAGE_TYPES:
        raise file_types.UnsupportedType(
            "Images of this type are not accepted. Accepted types: %(types)s.", types="PNG, JPEG, WebP"
        )
    key = staging.new_storage_key("challenges")
    staging.remove_on_rollback(session, staged.move_into_place(key))
    _image_changed(session, actor, view, key, "image_set")
    return view


def remove_image(session: Session, actor: Actor, view: ChallengeView) -> ChallengeView:
    check_image_editor(actor, view)
    if view.challenge.image_key is not None:
        _image_changed(session, actor, view, None, "image_removed")
    return view


async def receive_image(session: Session, actor: Actor, challenge_id: int, body: UploadBody) -> ChallengeView:
    """Stream a multipart upload (field `file`) and make it the challenge's image: the permission is checked
    before a byte is read and again in the writing transaction (app/files/uploads.py)."""

    def check() -> None:
        check_image_editor(actor, get_challenge(session, actor, challenge_id))

    def keep(received: ReceivedUpload) -> ChallengeView:
        return set_image(session, actor, get_challenge(session, actor, challenge_id), received.staged)

    return await uploads.receive(
        body, check=check, keep=keep, limit=file_types.MAX_IMAGE_BYTES, types=file_types.IMAGE_TYPES
    )


def image_path(view: ChallengeView) -> Path:
    """Where the challenge's image lives; NotFound when it has none (or its file is gone)."""
    key = view.challenge.image_key
    if not key:
        raise NotFound()
    try:
        path = staging.path_for(key)
    except ValueError:
        raise NotFound() from None
    if not path.is_file():
        raise NotFound()
    return path


# ---- followers and Q&A -----------------------------------------------------------------------------------------


def is_following(session: Session, actor: Actor, view: ChallengeView) -> bool:
    if actor.user_id is None:
        return False
    return (
        session.exec(
            select(ChallengeFollower.id).where(
                ChallengeFollower.challenge_id == view.challenge.id, ChallengeFollower.user_id == actor.user_id
            )
        ).first()
        is not None
    )


def set_following(session: Session, actor: Actor, view: ChallengeView, follow: bool) -> None:
    if not can.can_follow_challenge(actor) or actor.user_id is None:
        raise Forbidden("Sign in to follow a challenge.")
    row = session.exec(
        select(ChallengeFollower).where(
            ChallengeFollower.challenge_id == view.challenge.id, ChallengeFollower.user_id == actor.user_id
        )
    ).first()
    if follow and row is None:
        session.add(ChallengeFollower(challenge_id=view.challenge.id or 0, user_id=actor.user_id))
    elif not follow and row is not None:
        session.delete(row)


def qa_open(view: ChallengeView, now: datetime | None = None) -> bool:
    now = now or utcnow()
    closes = view.challenge.qa_closes_at or view.challenge.deadline
    return view.status == ChallengeStatus.published and now < closes


def list_questions(session: Session, actor: Actor, view: ChallengeView) -> list[Question]:
    """Answered questions for everyone; staff also see the unanswered ones, and askers their own."""
    query = select(Question).where(Question.challenge_id == view.challenge.id)
    if not view.is_staff(actor):
        query = query.where(
            or_(col(Question.answered_at).is_not(None), col(Question.asked_by_id) == (actor.user_id or -1))
        )
    return list(session.exec(query.order_by(col(Question.id))))


def ask_question(session: Session, actor: Actor, view: ChallengeView, data: QuestionCreate) -> Question:
    if not can.can_ask_question(actor, view.challenge):
        raise Forbidden("Sign in to ask a question.")
    if not qa_open(view):
        raise Conflict("Questions are closed for this challenge.")
    question = Question(challenge_id=view.challenge.id or 0, asked_by_id=actor.user_id, body=data.body)
    session.add(question)
    session.flush()
    set_following(session, actor, view, True)
    audit.record(session, "question.asked", actor=actor, target=("question", question.id))
    _notify_sponsors(session, actor, view, question)
    return question


def _notify_sponsors(session: Session, actor: Actor, view: ChallengeView, question: Question) -> None:
    """Tell the sponsors' members that a question waits for them; the email never says who asked."""
    sponsors_members = select(Membership.user_id).where(col(Membership.organisation_id).in_(view.sponsor_ids))
    members = session.exec(
        select(User)
        .where(col(User.id).in_(sponsors_members), col(User.is_active).is_(True), User.id != (actor.user_id or -1))
        .order_by(col(User.id))
    ).all()
    link = site_url(f"/programmes/{view.programme.slug}/challenges/{view.challenge.slug}#q-{question.id}")
    notifications.email_each(
        session,
        members,
        N_("New question on “%(title)s”"),
        "emails/question_asked.txt",
        subject_vars={"title": view.challenge.title},
        challenge=view.challenge,
        question=question,
        link=link,
    )


def get_question(session: Session, actor: Actor, question_id: int) -> tuple[Question, ChallengeView]:
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound()
    view = get_challenge(session, actor, question.challenge_id)
    if question.answered_at is None and not view.is_staff(actor):
        raise NotFound()
    return question, view


def answer_question(session: Session, actor: Actor, question_id: int, data: AnswerCreate) -> Question:
    question, view = get_question(session, actor, question_id)
    if not can.can_answer_question(actor, view.challenge, view.programme, view.sponsor_ids):
        raise Forbidden("Only the challenge's sponsors may answer questions.")
    first_answer = question.answered_at is None
    question.answer = data.answer
    question.answered_by_id = actor.user_id
    question.answered_at = utcnow()
    session.add(question)
    session.flush()
    audit.record(session, "question.answered", actor=actor, target=("question", question.id))
    if first_answer:
        _notify_followers(session, view, question)
    return question


def _notify_followers(session: Session, view: ChallengeView, question: Question) -> None:
    followers = session.exec(
        select(User)
        .join(ChallengeFollower, col(ChallengeFollower.user_id) == User.id)
        .where(ChallengeFollower.challenge_id == view.challenge.id, col(User.is_active).is_(True))
    ).all()
    notifications.email_each(
        session,
        followers,
        N_("A question on “%(title)s” is answered"),
        "emails/question_answered.txt",
        subject_vars={"title": view.challenge.title},
        challenge=view.challenge,
        programme=view.programme,
        question=question,
    )
