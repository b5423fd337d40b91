"""Real headless Chromium (Debian's, via Playwright): a customer on a phone answers from
the e-mail. Screenshots go to artifacts/ for a human to look at."""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings

from customers.models import Customer
from feedback.models import Survey, SurveyResponse, SurveySend
from feedback.sending import Sender, send_to
from tests.conftest import make_customer

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def chromium_path():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "Debian's chromium is not installed (make test installs it when it can)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    ARTIFACTS.mkdir(exist_ok=True)
    return path


@pytest.mark.django_db(transaction=True)
def test_a_customer_on_a_phone_answers_from_the_email(live_server, chromium_path):
    from playwright.sync_api import sync_playwright

    # The database is used before and after the browser, outside Playwright's event loop.
    survey = Survey.objects.create(
        name="NPS",
        kind="nps",
        question_en="How likely are you to recommend us?",
        followup_en="What is the main reason for your score?",
    )
    make_customer(email="ana@example.com", name="Ana")
    with override_settings(SITE_URL=live_server.url):
        send_to(
            SurveySend.objects.create(survey=survey, audience="test"),
            list(Customer.objects.values_list("id", flat=True)),
            Sender(),
        )
    link = re.search(r"^9: (\S+)$", mail.outbox[0].body, re.M).group(1)
    assert link.startswith(live_server.url) and link.endswith("?score=9")

    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=FLAGS)
        page = browser.new_context(**PHONE).new_page()
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.goto(link)
        checked = page.locator("#score-9").is_checked()
        page.fill("#comment", "Fast and friendly, thank you!")
        page.screenshot(path=str(ARTIFACTS / "survey-phone.png"), full_page=True)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Thank you!")
        page.screenshot(path=str(ARTIFACTS / "survey-thanks-phone.png"))
        browser.close()
    assert checked, "the score from the e-mail link was not preselected"
    assert errors == []
    answer = SurveyResponse.objects.get()
    assert (answer.score, answer.comment) == (9, "Fast and friendly, thank you!")
    assert answer.invitation.opened_at is not None  # reported by the page's script
