"""Every owner page needs a login; repeated wrong passwords lock out for a while."""

import re

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import OWNER_PASSWORD

# Pages a stranger may open: signing in/out, switching language, and the customers'
# survey pages (reached only with an unguessable token; tested in test_surveys.py).
PUBLIC_NAMES = {
    "login",
    "logout",
    "set_language",
    "admin:login",
    "admin:logout",
    "survey",
    "survey-unsubscribe",
    "survey-opened",
    # an automated e-mail's unsubscribe link and the win-back exit question (signed tokens)
    "email-unsubscribe",
    "exit-question",
    # the mail forwarder's endpoint: authenticated by its secret (test_inbound.py)
    "inbound-email",
    "inbound-email-secret",
}


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else ""


def example_path(pattern: str) -> str:
    """A concrete path for a route or regex pattern (converters and groups get sample values)."""
    path = re.sub(r"\(\?P<format>[^)]*\)", "json", pattern)
    path = re.sub(r"\(\?P<\w+>(\w+)(\|[^)]*)?\)", r"\1", path)  # (?P<app_label>auth|...) -> auth
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = re.sub(r"<drf_format_suffix:format>", ".json", path)
    path = re.sub(r"<(\w+:)?\w+>", "1", path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    return "/" + path


def owner_urls():
    seen = {}
    for pattern, name in walk(get_resolver().url_patterns):
        if name in PUBLIC_NAMES:
            continue
        seen.setdefault(example_path(pattern), name)
    return sorted(seen.items())


def test_the_walk_finds_every_area():
    paths = [path for path, _ in owner_urls()]
    for expected in [
        "/",
        "/import/",
        "/admin/",
        "/api/customers/",
        "/api/orders/bulk/",
        "/api/schema/",
        "/api/docs/",
        "/customers/export.csv",
    ]:
        assert expected in paths


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "name"), owner_urls())
def test_every_owner_url_refuses_an_anonymous_visitor(client, path, name):
    for method in (client.get, client.post):
        response = method(path)
        if response.status_code == 405:
            continue
        if response.status_code == 302:
            assert "login" in response["Location"], f"{path} redirects to {response['Location']}"
        else:
            assert response.status_code in (401, 403, 404), (
                f"{path} ({name}) -> {response.status_code}"
            )
            assert response.status_code != 404 or path.startswith("/admin/"), f"{path} is 404"


@pytest.mark.django_db
def test_a_signed_in_owner_sees_the_start_page(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": OWNER_PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert b"How your customers are doing" in page.content


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_even_for_the_right_password(client, owner):
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "owner", "password": "wrong"})
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "owner", "password": OWNER_PASSWORD})
    assert response.status_code == 200
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lockout_is_temporary(client, owner, monkeypatch):
    with override_settings(LOGIN_LOCKOUT_SECONDS=1):
        for _ in range(5):
            client.post(reverse("login"), {"username": "owner", "password": "wrong"})
        import time

        time.sleep(1.2)
        response = client.post(reverse("login"), {"username": "owner", "password": OWNER_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


@pytest.mark.django_db
def test_failures_from_one_address_lock_out_guessing_at_other_usernames(client, owner):
    for n in range(5):
        client.post(reverse("login"), {"username": f"guess{n}", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "owner", "password": OWNER_PASSWORD})
    assert b"Too many failed sign-in attempts" in response.content


@pytest.mark.django_db
def test_the_admin_login_uses_the_same_lockout(client, owner):
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "owner", "password": "wrong"})
    response = client.post(
        reverse("admin:login"), {"username": "owner", "password": OWNER_PASSWORD}
    )
    assert b"Too many failed sign-in attempts" in response.content


@pytest.mark.django_db
def test_a_success_resets_the_counter(client, owner):
    for _ in range(4):
        client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    assert (
        client.post(reverse("login"), {"username": "owner", "password": OWNER_PASSWORD}).status_code
        == 302
    )
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "owner", "password": OWNER_PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_healthz_answers_without_login_even_for_an_unlisted_host(client):
    response = client.get("/healthz/", HTTP_HOST="172.18.0.5:8000")
    assert response.status_code == 200 and response.json()["database"] == "ok"


@pytest.mark.django_db
def test_createsuperuser_makes_an_owner_who_can_sign_in(client, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long passphrase 2026")
    call_command("createsuperuser", interactive=False, username="founder", email="f@example.com")
    response = client.post(
        reverse("login"), {"username": "founder", "password": "a long passphrase 2026"}
    )
    assert response.status_code == 302 and client.get("/").status_code == 200
