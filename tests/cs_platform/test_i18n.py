"""The owner's pages speak English and Simplified Chinese."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_sign_in_page_follows_the_browser_language(client):
    chinese = client.get("/accounts/login/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in chinese.content.decode() and 'lang="zh-hans"' in chinese.content.decode()
    english = client.get("/accounts/login/", headers={"Accept-Language": "en-US"})
    assert "Sign in" in english.content.decode()


def test_switching_language_translates_the_start_page(owner_client):
    owner_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = owner_client.get("/").content.decode()
    assert "您的客户状况如何" in page and "仪表盘" in page and "跟进" in page


def test_the_language_choice_outlives_the_browser_session(owner_client):
    response = owner_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    cookie = response.cookies["django_language"]
    assert cookie.value == "zh-hans" and int(cookie["max-age"]) >= 300 * 24 * 3600


def test_numbers_keep_their_thousands_separators_in_chinese(owner_client, scored):
    run, _ = scored
    run.summary = {**run.summary, "clv_total": 1236328.0}
    run.save()
    page = owner_client.get("/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "1,236,328" in page and "1236328" not in page


def test_the_lockout_message_is_translated(client, owner):
    for _ in range(6):
        response = client.post(
            "/accounts/login/",
            {"username": "owner", "password": "wrong"},
            headers={"Accept-Language": "zh-hans"},
        )
    assert "登录失败次数过多" in response.content.decode()


def test_follow_up_reasons_and_actions_speak_the_owners_language(owner_client):
    from customers.followups import rules
    from customers.models import FollowUp
    from tests.conftest import make_customer

    reason = rules.say(
        "Top customer (CLV %(clv)s) with no contact for %(days)s days", clv="1,200", days="45"
    )
    FollowUp.objects.create(
        customer=make_customer(),
        rule="no_contact",
        reason=reason["t"] % reason,
        reason_args=reason,
        suggested_action="Send a personal note: thank them and ask how it is going.",
    )
    FollowUp.objects.create(
        customer=make_customer(), rule="manual", reason="Call about the invoice"
    )
    english = owner_client.get("/followups/").content.decode()
    assert "Top customer (CLV 1,200) with no contact for 45 days" in english
    owner_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    chinese = owner_client.get("/followups/").content.decode()
    assert "重要客户（CLV 1,200）已有 45 天没有联系" in chinese
    assert "写一封私人问候" in chinese
    assert "Call about the invoice" in chinese  # typed by the owner: shown as written
