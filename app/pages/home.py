"""The home page: what to do next, for each role the person has.

Rules:
- A visitor sees the programmes that are not over, each with its current phase, and the open challenges,
  soonest deadline first (the first few, with how many in all).
- Signed in, every role the person has adds its section (a person in several roles sees each):
  - a startup's member: the profile's completeness (what is missing, with a link to the form for its
    admins), the open challenges matching its sectors first (a sector matches a theme by its name in
    French, English or Arabic), then others; its drafts with their deadlines; its submitted proposals with
    their last receipts;
  - sponsor staff (members of a city, partner or operator organisation leading or co-sponsoring
    challenges): those challenges, drafts and published, with their proposal counts (counts only: the
    proposals stay unreadable until the deadline), the questions waiting for an answer, and what is due;
  - operator staff: the programmes their organisation runs, each with its current phase, its challenges in
    draft, its unanswered questions and the challenges whose deadline has passed with proposals to check;
  - platform admins: the administration pages.
- Everything comes from the domains' services, which only return what the actor may see; the page's cost
  in queries does not grow with the number of rows.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from app.accounts import permissions as account_can
from app.accounts import service as accounts
from app.accounts.models import Organisation
from app.challenges import service as challenges
from app.challenges.models import ChallengeStatus, Question
from app.challenges.service import ChallengeFilters, ChallengeView
from app.db import utcnow
from app.programmes import permissions as programme_can
from app.programmes import service as programmes
from app.programmes.service import ProgrammeView
from app.proposals import permissions as proposal_can
from app.proposals import queries as proposal_queries
from app.proposals.models import ProposalStatus
from app.proposals.records import ProposalView
from app.security.actor import Actor
from app.startups import permissions as startup_can
from app.startups import service as startups
from app.startups.models import StartupProfile

OPEN_SHOWN = 6  # open challenges shown on the page; the list page has them all

# Words that name each theme in a startup's sectors (compared without case or accents).
THEME_WORDS: dict[str, tuple[str, ...]] = {
    "mobility": ("mobility", "mobilite", "transport", "transports", "tram", "bus", "trafic", "traffic", "التنقل"),
    "energy": ("energy", "energie", "solaire", "solar", "electricite", "electricity", "الطاقة", "طاقة"),
    "water": ("water", "eau", "eaux", "hydraulique", "assainissement", "المياه", "مياه", "الماء", "ماء"),
    "waste": ("waste", "dechets", "recyclage", "recycling", "proprete", "النفايات", "نفايات"),
    "buildings": ("buildings", "building", "batiment", "construction", "btp", "beton", "البناء", "بناء"),
    "public_space": ("public space", "espace public", "urbanisme", "eclairage", "lighting", "الفضاء العام"),
    "connectivity": ("connectivity", "connectivite", "iot", "telecom", "telecoms", "wifi", "5g", "الاتصالات"),
    "citizen_services": ("citizen services", "services aux citoyens", "govtech", "civictech", "e-gov", "الخدمات"),
    "safety": ("safety", "securite", "security", "السلامة", "الأمن"),
    "environment": ("environment", "environnement", "climat", "climate", "pollution", "البيئة", "بيئة"),
    "economy": ("economy", "economie", "commerce", "emploi", "fintech", "الاقتصاد", "اقتصاد"),
    "health": ("health", "sante", "medtech", "healthtech", "الصحة", "صحة"),
}


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


_WORDS = {theme: tuple(_plain(w) for w in words) for theme, words in THEME_WORDS.items()}


def themes_for_sectors(sectors: Iterable[str]) -> set[str]:
    """The challenge themes that a startup's sectors name (a sector "Eau, IoT" matches water, connectivity)."""
    found = set()
    for sector in sectors:
        plain = _plain(sector)
        words = set(re.findall(r"[\w-]+", plain))
        for theme, names in _WORDS.items():
            if plain == theme or any((n in plain) if " " in n else (n in words) for n in names):
                found.add(theme)
    return found


@dataclass
class StartupSection:
    organisation: Organisation
    profile: StartupProfile
    missing: list[str]
    may_edit_profile: bool


@dataclass
class ChallengeWork:
    """A challenge its staff work on, with its proposal counts and its unanswered questions."""

    view: ChallengeView
    counts: dict[str, int]
    questions: list[Question]
    now: datetime

    @property
    def submitted(self) -> int:
        return sum(n for status, n in self.counts.items() if status in proposal_can.REVIEWABLE)

    @property
    def drafts(self) -> int:
        return self.counts.get(ProposalStatus.draft, 0)

    @property
    def to_check(self) -> int:
        """Submitted proposals whose eligibility nobody has checked yet, once the deadline has passed."""
        if not proposal_can.deadline_passed(self.view.challenge, self.now):
            return 0
        return self.counts.get(ProposalStatus.submitted, 0)

    @property
    def qa_closes_at(self) -> datetime | None:
        closes = self.view.challenge.qa_closes_at
        return closes if closes is not None and closes < self.view.challenge.deadline else None


@dataclass
class Due:
    """A date coming up on a sponsor's challenge."""

    when: datetime
    kind: str  # "qa" (questions close) or "deadline"
    work: ChallengeWork


@dataclass
class ProgrammeWork:
    view: ProgrammeView
    challenges: list[ChallengeWork]

    @property
    def drafts(self) -> list[ChallengeWork]:
        return [w for w in self.challenges if w.view.challenge.status == ChallengeStatus.draft]

    @property
    def waiting(self) -> list[ChallengeWork]:
        return [w for w in self.challenges if w.questions]

    @property
    def waiting_total(self) -> int:
        return sum(len(w.questions) for w in self.challenges)

    @property
    def to_check(self) -> list[ChallengeWork]:
        return [w for w in self.challenges if w.to_check]


@dataclass
class Home:
    now: datetime
    programmes: list[ProgrammeView] = field(default_factory=list)
    open_challenges: list[ChallengeView] = field(default_factory=list)
    open_total: int = 0
    organisations: list[Organisation] = field(default_factory=list)
    startups: list[StartupSection] = field(default_factory=list)
    matching: list[ChallengeView] = field(default_factory=list)
    others: list[ChallengeView] = field(default_factory=list)
    drafts: list[ProposalView] = field(default_factory=list)
    submitted: list[ProposalView] = field(default_factory=list)
    sponsored: list[ChallengeWork] = field(default_factory=list)
    due: list[Due] = field(default_factory=list)
    operated: list[ProgrammeWork] = field(default_factory=list)
    admin: bool = False

    @property
    def waiting_questions(self) -> list[tuple[ChallengeWork, Question]]:
        return sorted(
            ((w, q) for w in self.sponsored for q in w.questions), key=lambda pair: (pair[1].created_at, pair[1].id)
        )

    @property
    def has_role(self) -> bool:
        return bool(self.startups or self.sponsored or self.operated or self.admin)


def build_home(session: Session, actor: Actor) -> Home:
    home = Home(now=utcnow(), admin=account_can.is_platform_admin(actor))
    all_programmes = programmes.list_programmes(session, actor)
    home.programmes = [p for p in all_programmes if p.stage(home.now) != "over"]
    if actor.is_authenticated:
        mine = actor.organisation_ids()
        home.organisations = [o for o in accounts.list_organisations(session, actor) if o.id in mine]
        _startup_sections(session, actor, home)
        _sponsor_section(session, actor, home)
        operated = [p for p in all_programmes if programme_can.is_programme_operator(actor, p.programme)]
        _operator_section(session, actor, operated, home)
    if not home.startups:
        home.open_challenges, home.open_total = challenges.list_challenges(
            session, actor, ChallengeFilters(status=ChallengeStatus.published), limit=OPEN_SHOWN
        )
    return home


def _startup_sections(session: Session, actor: Actor, home: Home) -> None:
    mine = startups.my_startups(session, actor)
    if not mine:
        return
    home.startups = [
        StartupSection(o, p, startups.missing_profile_fields(o, p), startup_can.can_edit_profile(actor, o))
        for o, p in mine
    ]
    themes = tuple(sorted(themes_for_sectors(s for _, p in mine for s in p.sectors)))
    open_filter = ChallengeFilters(status=ChallengeStatus.published)
    if themes:
        home.matching, _ = challenges.list_challenges(
            session, actor, ChallengeFilters(status=ChallengeStatus.published, themes=themes), limit=OPEN_SHOWN
        )
    shown = {v.challenge.id for v in home.matching}
    others, home.open_total = challenges.list_challenges(session, actor, open_filter, limit=OPEN_SHOWN + len(shown))
    home.others = [v for v in others if v.challenge.id not in shown][: max(0, OPEN_SHOWN - len(home.matching))]
    for view in proposal_queries.list_my_proposals(session, actor):
        if view.status in proposal_can.REVIEWABLE:
            home.submitted.append(view)
        elif view.may_edit:
            home.drafts.append(view)
    home.drafts.sort(key=lambda v: v.challenge.challenge.deadline)


def _work(session: Session, actor: Actor, views: Sequence[ChallengeView], now: datetime) -> list[ChallengeWork]:
    counts = proposal_queries.proposal_counts(session, actor, views)
    questions = challenges.waiting_questions(session, actor, views)
    return [
        ChallengeWork(v, counts.get(v.challenge.id or 0, {}), questions.get(v.challenge.id or 0, []), now)
        for v in views
    ]


def _sponsor_section(session: Session, actor: Actor, home: Home) -> None:
    home.sponsored = _work(session, actor, challenges.list_sponsored_challenges(session, actor), home.now)
    for work in home.sponsored:
        if work.view.challenge.status != ChallengeStatus.published:
            continue
        if work.qa_closes_at is not None and work.qa_closes_at > home.now:
            home.due.append(Due(work.qa_closes_at, "qa", work))
        if work.view.challenge.deadline > home.now:
            home.due.append(Due(work.view.challenge.deadline, "deadline", work))
    home.due.sort(key=lambda d: d.when)


def _operator_section(session: Session, actor: Actor, operated: list[ProgrammeView], home: Home) -> None:
    if not operated:
        return
    views = challenges.list_programme_challenges(session, actor, [p.programme.id or 0 for p in operated])
    work = _work(session, actor, views, home.now)
    home.operated = [ProgrammeWork(p, [w for w in work if w.view.programme.id == p.programme.id]) for p in operated]
