"""A round's ranking read through the real services (app/selection/ranking.py): what is counted, what
calibration does and when it refuses, what a conflicted reader learns (nothing), who may read it, and what a
blind round hides. The numbers are worked out by hand below.

The round: two equally weighted criteria on 0–10, eight entries E1…E8 of eight startups. Jurors J1, J2, J3
review E1…E5 so that the scores are exactly quality + severity, with qualities E1 6, E2 5, E3 4, E4 7, E5 3
and severities J1 +1, J2 0, J3 −3 (J1 skips E1, J2 skips E2, J3 skips E3):

        E1  E2  E3  E4  E5
    J1   –   6   5   8   4      (E4: Team 9, Fit 7)
    J2   6   –   4   7   3
    J3   3   2   –   4   0

Raw means: E1 4.5, E2 4, E3 4.5, E4 19/3, E5 7/3: ranks E4 1, E1 2, E3 2, E2 4, E5 5. The additive model fits
exactly; with the severities averaging 0 over the reviews (4 reviews each: mean −2/3) the calibrated scores
are the qualities − 2/3 and the severities +5/3, +2/3, −7/3: E4 1, E1 2, E2 3, E3 4, E5 5 — E2 up one, E3 down
two. J4 saves a draft of E1 (10) and abstains on E2: neither counts. E6…E8 have no review.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.accounts.models import Organisation
from app.audit.models import AuditEvent
from app.challenges import service as challenges
from app.db import utcnow
from app.errors import NotFound
from app.jury import assignments, jurors, records, reviews, service
from app.jury.models import JuryAssignment, JuryEntry, JuryReview
from app.jury.schemas import (
    AssignmentIn,
    ConflictIn,
    CriterionIn,
    EntriesIn,
    JurorIn,
    ReviewIn,
    RoundCreate,
    RoundUpdate,
)
from app.proposals import records as proposal_records
from app.proposals import service as proposals
from app.proposals.models import Proposal
from app.proposals.schemas import EligibilityDecision
from app.selection.calibration import Reason
from app.selection.ranking import Ranking, ranking
from tests.conftest import sign_in
from tests.test_query_counts import counting

QUALITY = {1: 6, 2: 5, 3: 4, 4: 7, 5: 3}
SEVERITY = {1: 1, 2: 0, 3: -3}
SKIPS = {1: 1, 2: 2, 3: 3}  # juror → the entry they did not review


class Round:
    """The round of the module's docstring, built through the services, and helpers to read it."""

    def __init__(self, db: Session, make) -> None:
        self.db, self.make = db, make
        lydec = make.organisation("partner", name="Lydec")
        challenge = make.published_challenge(lydec)
        self.staff_user = make.user(organisation=lydec, role="admin", name="Salma Staff")
        self.staff = make.actor(self.staff_user)
        self.startups = {n: make.organisation("startup", name=f"Startup{n}") for n in range(1, 9)}
        self.founders = {
            n: make.user(email=f"founder@startup{n}.ma", organisation=s, role="admin", name=f"Founder{n} Person")
            for n, s in self.startups.items()
        }
        self.proposal_ids = {
            n: make.proposal(f, challenge, submitted=True, title=f"E{n}: Startup{n} sensors").id
            for n, f in self.founders.items()
        }
        challenge.deadline = utcnow() - timedelta(hours=1)
        db.add(challenge)
        db.flush()
        for proposal_id in self.proposal_ids.values():
            view = proposal_records.get_proposal(db, self.staff, proposal_id)
            proposals.decide_eligibility(db, self.staff, view, EligibilityDecision(eligible=True))
        now = utcnow()
        criteria = [CriterionIn(name="Team", min=0, max=10), CriterionIn(name="Fit", min=0, max=10)]
        view = service.create_round(
            db,
            self.staff,
            challenges.get_challenge(db, self.staff, challenge.id),
            RoundCreate(
                name="Written",
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=5),
                others_visible="after_own",
                criteria=criteria,
            ),
        )
        self.round_id = view.id
        entries = service.add_entries(db, self.staff, view, EntriesIn(proposals=list(self.proposal_ids.values())))
        by_proposal = {e.proposal_id: e.id for e in entries}
        self.entry_ids = {n: by_proposal[p] for n, p in self.proposal_ids.items()}
        self.juror_users = {
            n: make.user(organisation=make.organisation("partner"), name=f"Juror{n}") for n in range(1, 8)
        }
        self.juror_ids = {
            n: jurors.add_juror(db, self.staff, view, JurorIn(user=u.id))[0].id for n, u in self.juror_users.items()
        }
        service.open_round(db, self.staff, view)
        for j in (1, 2, 3):
            for e in QUALITY:
                if SKIPS[j] != e:
                    self.review(j, e, QUALITY[e] + SEVERITY[j])
        self.review(1, 4, {"Team": 9, "Fit": 7})  # resubmitted: weighted 8 still, per criterion not
        self.review(4, 1, 10, submit=False)
        self.review(4, 2, abstain=True)

    def view(self, actor=None) -> records.RoundView:
        return records.get_round(self.db, actor or self.staff, self.round_id)

    def juror(self, n: int):
        return self.make.actor(self.juror_users[n])

    def review(self, j: int, e: int, score: float | dict[str, float] = 0, *, submit=True, abstain=False) -> None:
        actor = self.juror(j)
        view = self.view()
        task = next(
            (
                a
                for a in assignments.list_assignments(self.db, self.staff, view)
                if a.juror.id == self.juror_ids[j] and a.entry.id == self.entry_ids[e]
            ),
            None,
        )
        if task is None:
            assignments.add_assignment(
                self.db, self.staff, view, AssignmentIn(juror=self.juror_ids[j], proposal=self.proposal_ids[e])
            )
            task = next(
                a
                for a in assignments.list_assignments(self.db, actor, self.view(actor))
                if a.is_own and a.entry.id == self.entry_ids[e]
            )
        task = records.get_assignment(self.db, actor, task.id)
        names = {c.name: str(c.id) for c in task.round.criteria}
        per = score if isinstance(score, dict) else {name: score for name in names}
        data = (
            ReviewIn(abstain=True, reason="I know them.")
            if abstain
            else ReviewIn(scores={names[k]: v for k, v in per.items()}, submit=submit)
        )
        saved = reviews.save_review(self.db, actor, task, data)
        assert saved.problems is None, saved.problems

    def abstain_on_all(self, j: int) -> None:
        actor = self.juror(j)
        for task in assignments.list_assignments(self.db, actor, self.view(actor)):
            if task.is_own and task.status == "pending":
                reviews.save_review(self.db, actor, task, ReviewIn(abstain=True, reason="Not my field."))

    def ranking(self, actor=None, **options) -> Ranking:
        return ranking(self.db, self.view(actor), **options)

    def rows(self, found: Ranking) -> dict[int, object]:
        """The ranking's rows by entry number (E1…E8)."""
        number = {entry_id: n for n, entry_id in self.entry_ids.items()}
        return {number[row.entry_id]: row for row in found.rows}


@pytest.fixture
def jury(db: Session, make) -> Round:
    return Round(db, make)


def _ranks(jury: Round, found: Ranking) -> dict[int, tuple]:
    return {n: (row.rank, row.calibrated_rank) for n, row in jury.rows(found).items()}


def test_the_raw_ranking_counts_submitted_reviews_only_and_sums_each_entry_up(jury: Round) -> None:
    found = jury.ranking()
    rows = jury.rows(found)

    assert [n for n in rows] == [4, 1, 3, 2, 5, 6, 7, 8]  # ties by entry id, the unreviewed last
    assert {n: row.rank for n, row in rows.items()} == {4: 1, 1: 2, 3: 2, 2: 4, 5: 5, 6: None, 7: None, 8: None}
    e1 = rows[1].stats  # J4's draft of 10 is not counted
    assert (e1.reviews, e1.score, e1.median, e1.min, e1.max, e1.stdev) == (2, 4.5, 4.5, 3, 6, 1.5)
    assert rows[2].stats.reviews == 2 and rows[2].stats.score == 4  # J4's abstention is not counted
    assert rows[1].scores == (3.0, 6.0)
    e4 = rows[4].stats
    team, fit = (c.id for c in found.criteria)
    assert e4.score == pytest.approx(19 / 3) and e4.criteria == {team: pytest.approx(20 / 3), fit: 6}
    # E2's 6 and 2: a standard deviation of 2, 20% of the scale; E4's and E5's ranges of 4 stay under half of it
    assert {n for n, row in rows.items() if row.stats.disagreement} == {2}
    assert found.scale is not None and (found.scale.min, found.scale.max) == (0, 10)


def test_calibration_ranks_by_the_fitted_quality_and_marks_the_moves(jury: Round) -> None:
    found = jury.ranking()
    rows = jury.rows(found)

    assert found.calibrated is not None
    assert {n: rows[n].calibrated_score for n in QUALITY} == {
        n: pytest.approx(q - 2 / 3, abs=1e-6) for n, q in QUALITY.items()
    }
    assert _ranks(jury, found) == {
        4: (1, 1),
        1: (2, 2),
        3: (2, 4),
        2: (4, 3),
        5: (5, 5),
        6: (None, None),
        7: (None, None),
        8: (None, None),
    }
    assert (rows[2].move, rows[3].move, rows[4].move, rows[6].move) == (1, -2, 0, None)
    severity = {s.juror_id: s for s in found.jurors}
    assert {n: severity[jury.juror_ids[n]].bias for n in (1, 2, 3)} == {
        1: pytest.approx(5 / 3, abs=1e-6),
        2: pytest.approx(2 / 3, abs=1e-6),
        3: pytest.approx(-7 / 3, abs=1e-6),
    }
    assert [s.juror_id for s in found.jurors] == [jury.juror_ids[n] for n in (3, 2, 1)]  # severest first
    assert jury.juror_ids[4] not in severity  # a draft and an abstention: no counted review


def test_a_juror_who_scores_everyone_two_points_lower_leaves_the_calibrated_ranking_unchanged(jury: Round) -> None:
    before = jury.ranking()
    for e in QUALITY:
        if e != SKIPS[1]:
            jury.review(1, e, QUALITY[e] + SEVERITY[1] - 2)
    jury.review(1, 4, {"Team": 7, "Fit": 5})
    after = jury.ranking()

    # raw: E3 (seen by J1) falls below E1 (not seen by J1): 3.5 against 4.5
    assert {r.entry_id: r.rank for r in after.rows} != {r.entry_id: r.rank for r in before.rows}
    assert jury.rows(after)[3].rank == 3
    assert {r.entry_id: r.calibrated_rank for r in after.rows} == {r.entry_id: r.calibrated_rank for r in before.rows}
    bias = {s.juror_id: s.bias for s in before.jurors}
    moved = {s.juror_id: s.bias - bias[s.juror_id] for s in after.jurors}  # J1 2 points below the others' move
    assert moved[jury.juror_ids[1]] - moved[jury.juror_ids[2]] == pytest.approx(-2, abs=1e-6)
    assert moved[jury.juror_ids[2]] == pytest.approx(moved[jury.juror_ids[3]], abs=1e-6)


def test_calibration_is_refused_with_its_reason_for_a_juror_of_too_few_reviews(jury: Round) -> None:
    jury.review(5, 1, 7)
    found = jury.ranking()

    assert found.calibrated is None and found.refused is not None
    assert found.refused.reasons == (Reason.too_few_reviews,)
    assert found.refused.too_few_reviews == {jury.juror_ids[5]: 1}
    assert all(row.calibrated_rank is None and row.calibrated_score is None for row in found.rows)
    assert jury.rows(found)[1].stats.reviews == 3  # the raw ranking still counts the review
    assert all(s.bias is None for s in found.jurors)


def test_calibration_is_refused_for_juror_groups_that_share_no_entry(jury: Round) -> None:
    for j in (5, 6):
        for e in (6, 7, 8):
            jury.review(j, e, e - j)
    found = jury.ranking()

    assert found.refused is not None and found.refused.reasons == (Reason.disconnected,)
    groups = {frozenset(group) for group in found.refused.groups}
    assert groups == {frozenset(jury.juror_ids[n] for n in (1, 2, 3)), frozenset(jury.juror_ids[n] for n in (5, 6))}


def test_a_conflicted_reader_sees_the_round_as_it_would_be_without_the_entry(db: Session, make, jury: Round) -> None:
    """J7 (no assignment left) declares a conflict with E5's startup; a member of the staff shares the address's
    domain with E5's founder. Neither sees E5, and their ranks and calibration are those of the round once E5 is
    left out — E5's reviews moved the severities, so they would differ with them."""
    juror7 = jury.juror(7)
    jurors.declare_conflict(db, juror7, jury.view(juror7), ConflictIn(startup=jury.startups[5].id, reason="Adviser."))
    jury.abstain_on_all(7)  # the declaration refilled the unreviewed entries, some to J7
    lydec = db.get(Organisation, jury.view().challenge.challenge.lead_sponsor_id)
    staff_conflicted = make.actor(make.user(email="olga@startup5.ma", organisation=lydec))
    full = jury.ranking()
    seen = {"juror": jury.ranking(juror7), "staff": jury.ranking(staff_conflicted)}
    service.exclude_entry(db, jury.staff, jury.view(), jury.entry_ids[5], "Left out to compare.")
    without = jury.ranking()

    def shape(found: Ranking):
        return (
            [(r.entry_id, r.rank, r.calibrated_rank, round(r.calibrated_score or 0, 9)) for r in found.rows],
            [(s.juror_id, s.reviews, round(s.mean, 9), round(s.bias or 0, 9)) for s in found.jurors],
        )

    assert jury.entry_ids[5] in {r.entry_id for r in full.rows}
    assert shape(full) != shape(without)
    for reader, found in seen.items():
        assert jury.entry_ids[5] not in {r.entry_id for r in found.rows}, reader
        assert all(jury.entry_ids[5] != entry_id for _, entry_id in found.pairs), reader
        assert jury.entry_ids[5] not in {r.entry_id for r in found.borda}, reader
        assert shape(found) == shape(without), reader


def test_a_juror_reads_the_ranking_once_their_own_reviews_are_done_in_an_after_own_round(jury: Round) -> None:
    assert jury.ranking(jury.juror(1)).rows  # all four submitted
    with pytest.raises(NotFound):
        jury.ranking(jury.juror(4))  # a draft left
    jury.review(4, 1, 5)
    assert jury.ranking(jury.juror(4)).rows  # a submission and an abstention: done
    outsider = jury.make.actor(jury.make.user(organisation=jury.make.organisation("partner")))
    with pytest.raises(NotFound):
        jury.ranking(outsider)


def test_an_after_close_round_shows_its_ranking_to_jurors_once_closed_and_a_never_round_never(
    db: Session, jury: Round
) -> None:
    service.update_round(db, jury.staff, jury.view(), RoundUpdate(others_visible="after_close"))
    with pytest.raises(NotFound):
        jury.ranking(jury.juror(1))
    service.close_round(db, jury.staff, jury.view())
    assert jury.ranking(jury.juror(1)).rows
    assert jury.ranking(jury.juror(4)).rows  # after the close, their draft does not matter
    round_ = jury.view().round
    round_.others_visible = "never"  # a closed round's settings no longer change by the service
    db.add(round_)
    db.flush()
    with pytest.raises(NotFound):
        jury.ranking(jury.juror(1))
    assert jury.ranking().rows  # the staff always


def test_a_blind_round_names_no_startup_and_no_other_juror_to_a_juror(db: Session, jury: Round) -> None:
    service.update_round(db, jury.staff, jury.view(), RoundUpdate(blind=True))
    found = jury.ranking(jury.juror(1))

    assert all(row.startup_name is None for row in found.rows)
    assert all("Startup" not in row.title for row in found.rows), [row.title for row in found.rows]
    names = {s.juror_id: s.name for s in found.jurors}
    assert names == {jury.juror_ids[1]: "Juror1", jury.juror_ids[2]: None, jury.juror_ids[3]: None}
    staff = jury.ranking()
    assert {row.startup_name for row in staff.rows} == {f"Startup{n}" for n in range(1, 9)}
    assert set({s.juror_id: s.name for s in staff.jurors}.values()) == {"Juror1", "Juror2", "Juror3"}


# ---- the faces: the page, its pictures, the CSV, the API ---------------------------------------------------


def _as(client, user, language: str = "en") -> None:
    user.preferred_language = language
    client.cookies.clear()
    sign_in(client, user.email)


def test_the_staff_page_shows_both_ranks_the_moves_and_each_entry_strip_plot(client, db: Session, jury: Round) -> None:
    _as(client, jury.staff_user)
    page = client.get(f"/rounds/{jury.round_id}/ranking")

    assert page.status_code == 200, page.text
    html = page.text
    assert html.index("E4: Startup4 sensors") < html.index("E1: Startup1 sensors") < html.index("E3: Startup3")
    assert "▲1" in html and "up 1 place after calibration" in html  # E2: 4th raw, 3rd calibrated
    assert "▼2" in html and "down 2 places after calibration" in html  # E3: 2nd raw, 4th calibrated
    assert 'aria-label="Scores 3.00, 6.00 on a scale of 0 to 10"' in html  # E1's strip plot
    assert html.count('class="strip-plot"') == 8 and "Reviews disagree" in html
    assert "Juror3" in html and 'class="severity-bar"' in html  # the staff know the jurors
    assert "ranking-cut" not in html.split("</thead>")[1].split("</table>")[0]


def test_the_cut_line_is_drawn_after_the_nth_row_and_warns_of_a_tie_across_it(client, db: Session, jury: Round) -> None:
    _as(client, jury.staff_user)
    html = client.get(f"/rounds/{jury.round_id}/ranking?cut=2").text
    before, after = html.split("<tbody>")[1].split('class="ranking-cut"')

    assert "E1: Startup1" in before and "E3: Startup3" in after
    assert "The proposals on either side of the line are tied." in html  # E1 and E3 share rank 2
    assert "tied" not in client.get(f"/rounds/{jury.round_id}/ranking?cut=1").text
    refused = client.get(f"/rounds/{jury.round_id}/ranking?cut=deux")
    assert refused.status_code == 422
    assert "Enter a whole number of proposals from 0 to 5." in refused.text and 'value="deux"' in refused.text


def test_in_arabic_the_strip_plots_run_from_right_to_left(client, db: Session, jury: Round) -> None:
    def dots(language: str) -> list[float]:
        _as(client, jury.staff_user, language)
        html = client.get(f"/rounds/{jury.round_id}/ranking").text
        e1 = html.split(f'id="entry-{jury.entry_ids[1]}"')[1].split("</tr>")[0]
        return [float(x) for x in re.findall(r'<circle cx="([0-9.]+)"', e1)]

    low, high = dots("en")  # the scores 3 and 6, lowest first
    assert low < high
    mirrored = dots("ar")
    assert mirrored[0] > mirrored[1] and mirrored[0] == pytest.approx(132 - low, abs=0.1)


def test_a_refused_calibration_says_why_instead_of_the_calibrated_columns(client, db: Session, jury: Round) -> None:
    jury.review(5, 1, 7)
    _as(client, jury.staff_user)
    html = client.get(f"/rounds/{jury.round_id}/ranking").text

    assert "No calibrated ranking for this round." in html
    assert "Calibration needs at least 3 reviews from each juror; 1 juror has fewer." in html
    assert "Fewer than 3: Juror5." in html
    assert "Calibrated rank" not in html and "▲" not in html


def test_the_further_views_order_by_the_ballots_and_schulze_declines_a_large_round(
    client, db: Session, jury: Round, monkeypatch
) -> None:
    _as(client, jury.staff_user)
    borda = client.get(f"/rounds/{jury.round_id}/ranking?view=borda")
    assert borda.status_code == 200 and "Share beaten" in borda.text
    schulze = client.get(f"/rounds/{jury.round_id}/ranking?view=schulze")
    assert schulze.status_code == 200 and "Proposals it comes before" in schulze.text
    from app.selection import orderings
    from app.selection import ranking as ranking_module

    monkeypatch.setattr(ranking_module, "schulze", lambda pairs: orderings.schulze(pairs, max_entries=4))
    declined = client.get(f"/rounds/{jury.round_id}/ranking?view=schulze").text
    assert "The Schulze method orders at most 4 proposals and this round has 5" in declined
    assert "ranking-table" not in declined
    scale = client.get(f"/rounds/{jury.round_id}/ranking?model=scale")
    assert scale.status_code == 200 and "Scale" in scale.text


def test_the_csv_holds_every_row_in_the_reader_language_formula_safe(client, db: Session, jury: Round) -> None:
    proposal = db.get(Proposal, jury.proposal_ids[4])
    proposal.title = '=HYPERLINK("http://evil.example","E4")'
    db.add(proposal)
    db.flush()
    _as(client, jury.staff_user, "fr")
    answer = client.get(f"/rounds/{jury.round_id}/ranking.csv?separator=semicolon")

    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff")), delimiter=";"))
    assert lines[0][:4] == ["Rang", "Rang calibré", "Numéro de la proposition", "Titre"]
    assert len(lines) == 1 + 8
    first = lines[1]
    assert first[:4] == ["1", "1", str(jury.proposal_ids[4]), '\'=HYPERLINK("http://evil.example","E4")']
    assert first[5] == "6,3333"  # the score, with a decimal comma for Excel in French
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "ranking.exported")).first() is not None
    comma = client.get(f"/rounds/{jury.round_id}/ranking.csv").text
    assert "6.3333" in comma


def test_the_api_gives_the_fields_of_api_md_paged_like_every_list(client, db: Session, make, jury: Round) -> None:
    _, secret = make.token(jury.staff_user)
    headers = {"Authorization": f"Bearer {secret}"}
    first = client.get(f"/api/v1/rounds/{jury.round_id}/ranking?limit=3", headers=headers)

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["calibration"] == {"status": "calibrated", "model": "additive", "reasons": []}
    assert body["total"] == 8 and body["scale"] == {"min": 0, "max": 10}
    top = body["items"][0]
    assert set(top) >= {
        "proposal", "score", "median", "stdev", "min", "max", "reviews", "rank", "calibrated_score",
        "calibrated_rank", "disagreement", "criteria",
    }  # fmt: skip
    assert (top["proposal"], top["rank"], top["calibrated_rank"], top["reviews"]) == (jury.proposal_ids[4], 1, 1, 3)
    assert top["calibrated_score"] == pytest.approx(7 - 2 / 3, abs=1e-6)
    proposals = [row["proposal"] for row in body["items"]]
    while body["next"]:
        body = client.get(body["next"], headers=headers).json()
        proposals += [row["proposal"] for row in body["items"]]
    assert proposals == [jury.proposal_ids[n] for n in (4, 1, 3, 2, 5, 6, 7, 8)]
    jury.review(5, 1, 7)
    refused = client.get(f"/api/v1/rounds/{jury.round_id}/ranking", headers=headers).json()["calibration"]
    assert refused == {"status": "refused", "model": "additive", "reasons": ["too_few_reviews"]}
    assert client.get(f"/api/v1/rounds/{jury.round_id}/ranking?cursor=%21", headers=headers).status_code == 422


def test_a_conflicted_reader_finds_no_trace_of_the_entry_on_any_face(client, db: Session, make, jury: Round) -> None:
    lydec = db.get(Organisation, jury.view().challenge.challenge.lead_sponsor_id)
    olga = make.user(email="olga@startup5.ma", organisation=lydec)
    _as(client, olga)
    hidden = "E5: Startup5"
    assert hidden not in client.get(f"/rounds/{jury.round_id}/ranking").text
    assert hidden not in client.get(f"/rounds/{jury.round_id}/ranking?view=borda").text
    assert hidden not in client.get(f"/rounds/{jury.round_id}/ranking.csv").text
    _, secret = make.token(olga)
    api = client.get(f"/api/v1/rounds/{jury.round_id}/ranking?limit=500", headers={"Authorization": f"Bearer {secret}"})
    assert api.json()["total"] == 7 and jury.proposal_ids[5] not in {r["proposal"] for r in api.json()["items"]}


def test_a_juror_reads_a_blind_round_unnamed_and_finds_it_linked_from_their_round_page(
    client, db: Session, jury: Round
) -> None:
    service.update_round(db, jury.staff, jury.view(), RoundUpdate(blind=True))
    _as(client, jury.juror_users[1])
    assert f'href="/rounds/{jury.round_id}/ranking"' in client.get(f"/jury/rounds/{jury.round_id}").text
    html = client.get(f"/rounds/{jury.round_id}/ranking").text

    assert (
        "Startup1" not in html
        and "Startup4" not in html
        and "Startup" not in html.split("<thead>")[1].split("</thead>")[0]
    )
    # the severest first: J3 and J2 numbered, J1 (the reader) named
    assert "Juror2" not in html and "Juror3" not in html and "Juror 1" in html and "Juror 2" in html
    assert 'href="/proposals/' not in html  # the staff's proposal pages are not theirs
    csv_text = client.get(f"/rounds/{jury.round_id}/ranking.csv").text
    assert "Startup1" not in csv_text and "Startup" not in csv_text.splitlines()[0]
    _as(client, jury.juror_users[4])  # a draft left: neither the link nor the page
    assert "/ranking" not in client.get(f"/jury/rounds/{jury.round_id}").text
    assert client.get(f"/rounds/{jury.round_id}/ranking").status_code == 404


def test_the_staff_round_page_links_its_ranking(client, db: Session, jury: Round) -> None:
    _as(client, jury.staff_user)
    assert f'href="/rounds/{jury.round_id}/ranking"' in client.get(f"/rounds/{jury.round_id}").text


def _more_reviewed_entries(db: Session, jury: Round, count: int) -> None:
    """`count` more entries, each reviewed by J1, J2 and J3 (rows written directly: the services are exercised
    above)."""
    view = jury.view()
    criteria = [str(c.id) for c in view.criteria]
    challenge_id = view.challenge.challenge.id
    for n in range(count):
        startup = Organisation(kind="startup", name=f"Bulk {n}", slug=f"bulk-ranking-{n}")
        db.add(startup)
        db.flush()
        proposal = Proposal(challenge_id=challenge_id, startup_id=startup.id, status="eligible", title=f"Bulk {n}")
        db.add(proposal)
        db.flush()
        entry = JuryEntry(round_id=jury.round_id, proposal_id=proposal.id)
        db.add(entry)
        db.flush()
        for j in (1, 2, 3):
            assignment = JuryAssignment(round_id=jury.round_id, juror_id=jury.juror_ids[j], entry_id=entry.id)
            db.add(assignment)
            db.flush()
            scores = {c: (n + j) % 11 for c in criteria}
            db.add(JuryReview(assignment_id=assignment.id, status="submitted", scores=scores, submitted_at=utcnow()))
    db.flush()


def test_the_ranking_faces_cost_as_many_queries_for_a_large_round_as_for_a_small_one(
    client, db: Session, engine, make, jury: Round
) -> None:
    _as(client, jury.staff_user)
    base = f"/rounds/{jury.round_id}/ranking"
    faces = [base, f"{base}?view=borda", f"{base}?view=schulze", f"{base}?model=scale", f"{base}.csv"]

    def counts() -> list[int]:
        found = []
        headers = {"Authorization": f"Bearer {make.token(jury.staff_user)[1]}"}  # a new token records its first use
        for path, extra in [*((p, {}) for p in faces), (f"/api/v1{base}?limit=500", headers)]:
            db.expunge_all()  # the app shares the test's session: each count starts from an empty identity map
            with counting(engine) as statements:
                assert client.get(path, headers=extra).status_code == 200, path
            found.append(len(statements))
        return found

    small = counts()
    _more_reviewed_entries(db, jury, 40)
    large = counts()
    assert large == small, f"queries grew with the round's rows: {small} → {large}"


def test_a_review_resubmitted_after_the_ranking_was_read_counts_at_the_next_read(jury: Round) -> None:
    """The computation is kept for the next request while its inputs stay the same: a change to a review is one."""
    first = jury.rows(jury.ranking())[3].stats
    jury.review(1, 3, 10)  # J1 scores E3 again, higher
    again = jury.rows(jury.ranking())[3].stats
    assert again.reviews == first.reviews == 2
    assert again.score > first.score and again.max == 10
