"""A new question on a challenge is emailed to every active member of its lead and co-sponsor organisations
(who may answer it), with a link to it and without who asked (answers are public without the asker's name)."""

from sqlmodel import select

from app.accounts.models import Organisation
from app.challenges import service
from app.challenges.schemas import QuestionCreate
from app.notifications.models import OutboxMessage
from app.programmes.models import Programme

QUESTION = "Are the meters read every hour?"


def test_sponsors_members_are_emailed_a_new_question_without_the_askers_identity(db, make):
    lydec, inwi = make.organisation("partner", name="Lydec"), make.organisation("partner", name="inwi")
    challenge = make.published_challenge(lydec, title="Water leaks", co_sponsors=[inwi])
    lead_members = [make.user(organisation=lydec, role="admin"), make.user(organisation=lydec)]
    co_member = make.user(organisation=inwi)
    gone = make.user(organisation=lydec)
    gone.is_active = False
    db.add(gone)
    operator = make.user(organisation=db.get(Organisation, db.get(Programme, challenge.programme_id).operator_id))
    outsider = make.member("partner")[0]
    asker = make.user(organisation=make.organisation("startup"), name="Fatima Zahra Bennani")
    view = service.get_challenge(db, make.actor(asker), challenge.id)

    question = service.ask_question(db, make.actor(asker), view, QuestionCreate(body=QUESTION))

    mails = {m.to_address: m for m in db.exec(select(OutboxMessage))}
    assert set(mails) == {u.email for u in [*lead_members, co_member]}
    assert not {gone.email, outsider.email, asker.email, operator.email} & set(mails)
    for mail in mails.values():
        assert "Water leaks" in mail.subject and QUESTION in mail.body
        assert f"http://testserver/programmes/{view.programme.slug}/challenges/{challenge.slug}#q-{question.id}" in (
            mail.body
        )
        assert "Fatima" not in mail.body and "Bennani" not in mail.body and asker.email not in mail.body


def test_each_sponsor_member_is_emailed_in_their_own_language_whatever_the_askers(db, make):
    from app import i18n

    lydec = make.organisation("partner", name="Lydec")
    challenge = make.published_challenge(lydec, title="Fuites d'eau")
    french, arabic = make.user(organisation=lydec), make.user(organisation=lydec)
    french.preferred_language, arabic.preferred_language = "fr", "ar"
    db.add_all([french, arabic])
    asker = make.user(organisation=make.organisation("startup"))
    view = service.get_challenge(db, make.actor(asker), challenge.id)
    i18n.set_language("en")  # the asker reads the site in English
    try:
        service.ask_question(db, make.actor(asker), view, QuestionCreate(body=QUESTION))
    finally:
        i18n.set_language("fr")

    mails = {m.to_address: m for m in db.exec(select(OutboxMessage))}
    assert "Nouvelle question" in mails[french.email].subject
    assert "سؤال جديد" in mails[arabic.email].subject
    assert "New question" not in mails[french.email].body + mails[arabic.email].body
