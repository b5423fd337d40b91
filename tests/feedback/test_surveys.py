"""Public survey pages: tokens, GET-never-writes, one answer, closed loop, limits, language."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from customers.models import FollowUp
from feedback.models import Survey, SurveyInvitation, SurveyResponse, Unsubscribe, hash_token
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


def test_tokens_are_random_long_and_stored_only_hashed(invite):
    invitation, token = invite()
    assert len(token) >= 32  # 24 random bytes, base64url: 192 bits
    assert invitation.token_hash == hash_token(token) and token not in invitation.token_hash
    assert SurveyInvitation.objects.by_token(token) == invitation


def test_the_database_refuses_a_second_answer_and_a_score_outside_the_kinds_scale(invite):
    from django.db import IntegrityError, transaction

    invitation, _ = invite()
    answer = {"customer_id": invitation.customer_id, "kind": "nps"}
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(invitation=invitation, score=11, **answer)
    with pytest.raises(IntegrityError), transaction.atomic():  # CSAT is 1-5
        SurveyResponse.objects.create(
            invitation=invitation, score=0, customer_id=answer["customer_id"], kind="csat"
        )
    SurveyResponse.objects.create(invitation=invitation, score=9, **answer)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(invitation=invitation, score=3, **answer)
    assert SurveyResponse.objects.count() == 1


def test_a_get_shows_the_question_with_the_score_preselected_and_records_nothing(client, invite):
    invitation, token = invite()
    page = client.get(f"/s/{token}/?score=9").content.decode()
    assert "How likely are you to recommend us" in page
    assert 'id="score-9" value="9" checked' in page and "autofocus" in page
    assert "csrfmiddlewaretoken" in page
    assert SurveyResponse.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.responded_at is None and invitation.opened_at is None


def test_a_score_outside_the_scale_is_not_preselected(client, invite):
    _, token = invite()
    page = client.get(f"/s/{token}/?score=42").content.decode()
    assert "checked" not in page


def test_one_post_records_the_answer(client, invite):
    invitation, token = invite()
    response = client.post(f"/s/{token}/", {"score": "9", "comment": "Lovely service"})
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    answer = SurveyResponse.objects.get()
    assert (answer.score, answer.comment, answer.kind, answer.customer_id) == (
        9,
        "Lovely service",
        "nps",
        invitation.customer_id,
    )
    invitation.refresh_from_db()
    assert invitation.responded_at is not None


def test_an_answer_costs_a_fixed_few_statements(client, invite, django_capture_on_commit_callbacks):
    """The public POST is the hot path: the lookup, the answer, the invitation (one
    statement with the answer on Postgres), the follow-up, and nothing loaded behind the
    page's back (deferred fields, the customer). Preparing a statement happens once per
    connection and is not counted; the follow-up rules' settings come from the cache,
    which the first request of a worker fills."""
    from django.test.utils import CaptureQueriesContext

    from metrics.models import AccountSettings

    _, token = invite()
    AccountSettings.cached()
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(f"/s/{token}/", {"score": "9", "comment": "Lovely service"})
    statements = [
        " ".join(q["sql"].split()[:3])
        for q in queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "PREPARE"))
    ]
    assert len(statements) == (3 if connection.vendor == "postgresql" else 4), statements
    assert FollowUp.objects.filter(rule="promoter").count() == 1


def test_a_second_submit_replaces_score_and_comment_not_a_second_answer(client, invite):
    _, token = invite()
    client.post(f"/s/{token}/", {"score": "3"})
    page = client.post(f"/s/{token}/", {"score": "10", "comment": "Support was quick after all"})
    answer = SurveyResponse.objects.get()
    assert (answer.score, answer.comment) == (10, "Support was quick after all")
    assert "Your answer has been updated." in page.content.decode()
    # The same again (a double submit) changes nothing and says "recorded".
    again = client.post(f"/s/{token}/", {"score": "10", "comment": "Support was quick after all"})
    assert "Your answer has been recorded." in again.content.decode()
    assert SurveyResponse.objects.get().updated_at == answer.updated_at


def test_the_page_shows_the_answer_to_change_then_says_it_stands(client, invite):
    _, token = invite()
    client.post(f"/s/{token}/", {"score": "4", "comment": "Slow exports"})
    page = client.get(f"/s/{token}/").content.decode()
    assert 'value="4" checked' in page and ">Slow exports</textarea>" in page
    assert "sending again replaces your answer" in page
    SurveyResponse.objects.update(responded_at=timezone.now() - timedelta(hours=2))
    closed = client.get(f"/s/{token}/").content.decode()
    assert "your earlier answer stands" in closed and "<textarea" not in closed


def test_a_changed_answer_moves_its_follow_up_to_the_new_score(
    client, invite, django_capture_on_commit_callbacks
):
    invitation, token = invite()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "2", "comment": "Broken"})
    assert FollowUp.objects.get(customer=invitation.customer).rule == "detractor"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "10", "comment": "Fixed already, thanks"})
    assert list(FollowUp.objects.values_list("rule", flat=True)) == ["promoter"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "8", "comment": "Fixed already, thanks"})
    assert not FollowUp.objects.exists()  # a passive: nothing to follow up


def test_after_the_grace_period_the_answer_is_final(client, invite):
    _, token = invite()
    client.post(f"/s/{token}/", {"score": "8", "comment": "ok"})
    SurveyResponse.objects.update(responded_at=timezone.now() - timedelta(hours=2))
    page = client.post(
        f"/s/{token}/", {"score": "0", "comment": "changed my mind"}
    ).content.decode()
    assert "your earlier answer stands" in page
    assert (SurveyResponse.objects.get().score, SurveyResponse.objects.get().comment) == (8, "ok")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submits_store_one_answer(invite):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time; the concurrent case runs on Postgres in CI")
    _, token = invite()
    barrier = threading.Barrier(4)
    statuses = []

    def submit(score):
        barrier.wait()
        statuses.append(Client().post(f"/s/{token}/", {"score": str(score)}).status_code)
        connection.close()

    threads = [threading.Thread(target=submit, args=(s,)) for s in (1, 5, 9, 10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200, 200, 200]
    assert SurveyResponse.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_answers_keep_working_on_a_new_database_connection(client, invite):
    """The hot statements are prepared per connection (on Postgres): a reconnect, e.g.
    after a database restart, must prepare them again rather than fail."""
    tokens = [invite()[1] for _ in range(3)]
    for token in tokens:
        assert client.post(f"/s/{token}/", {"score": "2", "comment": "Too slow"}).status_code == 200
        connection.close()
    assert SurveyResponse.objects.count() == 3
    assert FollowUp.objects.filter(rule="detractor").count() == 3


def test_an_invalid_score_is_refused_and_nothing_is_stored(client, invite):
    _, token = invite()
    for bad in ("11", "-1", "abc", ""):
        assert client.post(f"/s/{token}/", {"score": bad}).status_code == 400
    assert SurveyResponse.objects.count() == 0


def test_unknown_forged_and_malformed_tokens_get_the_same_friendly_404(client, invite):
    _, token = invite()
    pages = [
        client.get(f"/s/{t}/")
        for t in ("x" * 32, token[:-1] + ("A" if token[-1] != "A" else "B"), "%00%27--", "a" * 300)
    ]
    assert {p.status_code for p in pages} == {404}
    assert len({p.content for p in pages}) == 1
    body = pages[0].content.decode()
    assert "We could not find this survey" in body and "Traceback" not in body


def test_an_expired_link_says_the_survey_has_closed(client, invite):
    invitation, token = invite()
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(f"/s/{token}/")
    assert response.status_code == 410 and "This survey has closed" in response.content.decode()
    assert client.post(f"/s/{token}/", {"score": "9"}).status_code == 410
    assert SurveyResponse.objects.count() == 0


def test_the_page_reveals_nothing_about_the_customer(client, invite):
    customer = make_customer(name="Secret Name", email="secret@example.com", company="Hidden Co")
    _, token = invite(customer)
    page = client.get(f"/s/{token}/").content.decode()
    for secret in ("Secret Name", "secret@example.com", "Hidden Co", customer.external_id):
        assert secret not in page


def test_public_posts_need_a_csrf_token(invite):
    _, token = invite()
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/s/{token}/", {"score": "9"}).status_code == 403
    page = strict.get(f"/s/{token}/").content.decode()
    csrf = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert (
        strict.post(f"/s/{token}/", {"score": "9", "csrfmiddlewaretoken": csrf}).status_code == 200
    )


def test_too_many_requests_from_one_address_get_429(client, invite):
    _, token = invite()
    codes = [client.get(f"/s/{token}/").status_code for _ in range(61)]
    assert codes[:60] == [200] * 60 and codes[60] == 429
    assert "Please wait a moment" in client.get(f"/s/{token}/").content.decode()
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert other.get(f"/s/{token}/").status_code == 200


def test_the_page_speaks_the_customers_language_over_the_browsers(client, invite):
    _, token = invite(make_customer(locale="zh-hans"))
    page = client.get(f"/s/{token}/", headers={"Accept-Language": "en"}).content.decode()
    assert "您有多大可能向朋友推荐我们" in page and 'lang="zh-hans"' in page
    assert "发送" in page and "完全不可能" in page


def test_without_a_customer_locale_the_browser_decides(client, invite):
    _, token = invite(make_customer(locale=""))
    page = client.get(
        f"/s/{token}/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    ).content.decode()
    assert "您有多大可能向朋友推荐我们" in page
    assert (
        "How likely"
        in client.get(f"/s/{token}/", headers={"Accept-Language": "en"}).content.decode()
    )


def test_a_detractor_lands_in_the_queue_at_once_quoting_the_comment(
    client, invite, django_capture_on_commit_callbacks
):
    invitation, token = invite()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/s/{token}/",
            {"score": "2", "comment": "Support was slow and the app keeps crashing."},
        )
    item = FollowUp.objects.get(customer=invitation.customer)
    assert item.rule == "detractor" and item.priority == 1
    assert item.reason == 'Answered NPS 2: "Support was slow and the app keeps crashing."'
    assert item.due == timezone.localdate() + timedelta(days=2)
    assert item.status == "open" and item.suggested_action
    # The reason's template and arguments, so the queue can show it in Chinese too.
    assert item.reason_args["comment"] == "Support was slow and the app keeps crashing."
    assert item.reason_args["t"] % item.reason_args == item.reason


def test_promoters_get_a_review_ask_and_passives_nothing(
    client, invite, django_capture_on_commit_callbacks
):
    promoter, token = invite()
    passive, token2 = invite()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "10"})
        client.post(f"/s/{token2}/", {"score": "7"})
    assert FollowUp.objects.get(customer=promoter.customer).rule == "promoter"
    assert not FollowUp.objects.filter(customer=passive.customer).exists()


def test_unhappy_csat_and_hard_ces_also_close_the_loop(
    client, invite, django_capture_on_commit_callbacks
):
    csat = Survey.objects.create(name="CSAT", kind="csat", question_en="How satisfied are you?")
    ces = Survey.objects.create(name="CES", kind="ces", question_en="How easy was it?")
    a, token_a = invite(survey=csat)
    b, token_b = invite(survey=ces)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token_a}/", {"score": "2"})
        client.post(f"/s/{token_b}/", {"score": "6"})
    assert FollowUp.objects.filter(rule="detractor").count() == 2
    assert client.post(f"/s/{token_a}/", {"score": "6"}).status_code == 400  # outside the 1-5 scale


def test_the_unsubscribe_page_changes_nothing_on_get_and_unsubscribes_on_post(client, invite):
    invitation, token = invite(make_customer(email="Ana@Example.com"))
    page = client.get(f"/s/{token}/unsubscribe/")
    assert page.status_code == 200 and "Yes, stop sending them" in page.content.decode()
    assert not Unsubscribe.objects.exists()
    assert client.post(f"/s/{token}/unsubscribe/").status_code == 200
    assert Unsubscribe.objects.get().email == "ana@example.com"
    invitation.customer.refresh_from_db()
    assert invitation.customer.survey_opt_out


def test_one_click_unsubscribe_per_rfc_8058_needs_no_cookie(invite):
    _, token = invite()
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        f"/s/{token}/unsubscribe/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and Unsubscribe.objects.count() == 1


def test_answers_feed_the_nightly_nps(client, invite):
    from metrics import feedback_scores, tables

    for score in (10, 10, 3):
        _, token = invite()
        client.post(f"/s/{token}/", {"score": str(score)})
    responses = tables.read_survey_responses()
    assert feedback_scores.nps(responses["score"])["nps"] == pytest.approx(33.3, abs=0.1)


def test_behind_a_proxy_each_customer_has_their_own_limit(invite, settings):
    settings.NUM_PROXIES = 1
    _, token = invite()
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(60):
        assert proxy.get(f"/s/{token}/", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 200
    assert proxy.get(f"/s/{token}/", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # A forged left-most entry does not buy a fresh limit; another real client has one.
    assert proxy.get(f"/s/{token}/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7").status_code == 429
    assert proxy.get(f"/s/{token}/", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 200


def test_the_pages_script_marks_the_invitation_opened_once(client, invite):
    invitation, token = invite()
    client.get(f"/s/{token}/")
    invitation.refresh_from_db()
    assert invitation.opened_at is None  # a GET alone records nothing
    assert client.post(f"/s/{token}/opened/").status_code == 204
    invitation.refresh_from_db()
    first = invitation.opened_at
    assert first is not None
    client.post(f"/s/{token}/opened/")
    invitation.refresh_from_db()
    assert invitation.opened_at == first
    assert client.post("/s/not-a-token/opened/").status_code == 404
    assert client.get(f"/s/{token}/opened/").status_code == 405


def test_the_follow_up_carries_the_current_runs_clv_and_is_never_doubled(
    client, invite, django_capture_on_commit_callbacks
):
    from metrics.models import CustomerScore, ScoringRun

    invitation, token = invite()
    customer = invitation.customer
    old = ScoringRun.objects.create(as_of=timezone.localdate() - timedelta(days=1), status="done")
    new = ScoringRun.objects.create(as_of=timezone.localdate(), status="done", is_current=True)
    CustomerScore.objects.create(run=old, customer=customer, as_of=old.as_of, clv=999.0)
    CustomerScore.objects.create(run=new, customer=customer, as_of=new.as_of, clv=1234.567)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "3"})
        client.post(f"/s/{token}/", {"score": "3", "comment": "Too slow"})
    item = FollowUp.objects.get(customer=customer)
    assert float(item.value_at_stake) == pytest.approx(1234.57)
    assert item.reason == 'Answered NPS 3: "Too slow"'


def test_an_answer_updates_a_snoozed_item_and_starts_a_new_one_after_a_done_one(
    client, invite, django_capture_on_commit_callbacks
):
    first, token = invite()
    customer = first.customer
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "4", "comment": "Slow"})
    FollowUp.objects.update(status="snoozed", snoozed_until=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{invite(customer)[1]}/", {"score": "2", "comment": "Slower"})
    item = FollowUp.objects.get(customer=customer)  # the snoozed one, brought up to date
    assert (item.status, item.reason) == ("snoozed", 'Answered NPS 2: "Slower"')
    FollowUp.objects.update(status="done")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{invite(customer)[1]}/", {"score": "1", "comment": "Broken"})
    assert list(
        FollowUp.objects.filter(customer=customer).order_by("id").values_list("status", "reason")
    ) == [("done", 'Answered NPS 2: "Slower"'), ("open", 'Answered NPS 1: "Broken"')]


def test_without_any_scores_the_follow_up_is_worth_zero(
    client, invite, django_capture_on_commit_callbacks
):
    invitation, token = invite()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "0"})
    assert FollowUp.objects.get(customer=invitation.customer).value_at_stake == 0


def test_if_the_follow_up_cannot_be_written_the_answer_is_still_kept(
    client, invite, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import DatabaseError

    from customers.followups import answers

    def broken(response):
        raise DatabaseError("follow-up table is locked")

    monkeypatch.setattr(answers, "follow_up", broken)
    _, token = invite()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/s/{token}/", {"score": "1", "comment": "Bad"})
    assert response.status_code == 200 and len(callbacks) == 1  # the follow-up was tried
    assert SurveyResponse.objects.get().comment == "Bad"
    assert not FollowUp.objects.exists()
