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


def test_the_lockout_message_is_translated(client, owner):
    for _ in range(6):
        response = client.post(
            "/accounts/login/",
            {"username": "owner", "password": "wrong"},
            headers={"Accept-Language": "zh-hans"},
        )
    assert "登录失败次数过多" in response.content.decode()
