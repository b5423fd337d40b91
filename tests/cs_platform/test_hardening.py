"""Hardening that every page shares: spreadsheet-safe CSV cells, the
Content-Security-Policy header, HSTS preload only when asked for, owner sessions that
end when idle, and 429s that say when to come back."""

import csv
import io
import time

import pytest

from cs_platform.csv_export import safe_cell
from cs_platform.middleware import LAST_SEEN
from tests.conftest import HTMX, make_customer
from tests.cs_platform.test_django_settings import PRODUCTION_ENV, run_manage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "a;=1+1", "a,+1", "a\t-1", "a|@x", "b;\r"],
)
def test_a_cell_a_spreadsheet_could_run_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Ana", "a; b", "a-b", "5 - 3", "mail@example.com", ""])
def test_ordinary_cells_stay_as_they_are(text):
    assert safe_cell(text) == text


def test_numbers_stay_numbers():
    assert safe_cell(-410) == "-410" and safe_cell(None) == ""


def test_the_customer_export_quotes_a_split_formula(owner_client):
    make_customer(name="a;=1+1", company="-cmd|' /C calc'!A0")
    export = b"".join(owner_client.get("/customers/export.csv").streaming_content).decode()
    rows = list(csv.reader(io.StringIO(export.lstrip("\ufeff"))))
    header, row = rows[0], rows[1]
    assert row[header.index("name")] == "'a;=1+1"
    assert row[header.index("company")].startswith("'-cmd")


def test_every_page_sends_the_content_security_policy(client, owner_client, invite):
    _, token = invite()
    for response in (
        client.get("/accounts/login/"),
        client.get(f"/s/{token}/"),
        client.get("/no-such-page/"),
        owner_client.get("/"),
    ):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
        assert "frame-ancestors 'none'" in policy


def test_hsts_preload_is_off_unless_set():
    show = "from django.conf import settings; print(settings.SECURE_HSTS_PRELOAD)"
    assert run_manage("shell", "-c", show, env=PRODUCTION_ENV).stdout.split()[-1] == "False"
    asked = {**PRODUCTION_ENV, "SECURE_HSTS_PRELOAD": "1"}
    assert run_manage("shell", "-c", show, env=asked).stdout.split()[-1] == "True"


def test_an_idle_owner_session_ends(owner_client, settings):
    settings.SESSION_IDLE_MINUTES = 30
    assert owner_client.get("/").status_code == 200
    session = owner_client.session
    assert abs(session[LAST_SEEN] - time.time()) < 5
    session[LAST_SEEN] = int(time.time()) - 29 * 60  # active 29 minutes ago: still in
    session.save()
    assert owner_client.get("/").status_code == 200
    session = owner_client.session
    session[LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    response = owner_client.get("/customers/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert owner_client.get("/").status_code == 302  # signed out for good


def test_an_idle_htmx_request_goes_to_the_login_page_whole(owner_client, settings):
    settings.SESSION_IDLE_MINUTES = 30
    owner_client.get("/")
    session = owner_client.session
    session[LAST_SEEN] = int(time.time()) - 3600
    session.save()
    response = owner_client.get("/followups/", headers=HTMX)
    assert response["HX-Redirect"] == "/accounts/login/"


def test_too_many_requests_say_when_to_come_back(client, invite, settings):
    _, token = invite()
    statuses = [client.get(f"/s/{token}/") for _ in range(61)]
    assert statuses[-1].status_code == 429 and statuses[-1]["Retry-After"] == "600"
    assert "Retry-After" not in statuses[0]
