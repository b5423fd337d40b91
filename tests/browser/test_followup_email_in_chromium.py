"""In real headless Chromium: the owner e-mails a customer from the queue; the e-mail
reaches a real SMTP server and shows on the customer's timeline. Then the playbooks
page: switch one on, open it, see who would enter. Screenshots go to artifacts/."""

import pytest

from customers.models import Playbook
from customers.playbooks.shipped import PLAYBOOKS
from tests.browser.test_survey_page_in_chromium import ARTIFACTS, FLAGS, chromium_path  # noqa: F401
from tests.conftest import OWNER_PASSWORD, make_customer
from tests.followups.test_email import detractor

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.mark.django_db(transaction=True)
def test_an_email_sent_from_the_queue_lands_on_the_timeline(
    live_server,
    chromium_path,  # noqa: F811
    owner,
    smtp,
    account,
):
    from playwright.sync_api import expect, sync_playwright

    item = detractor(name="Ana Lima", email="ana@example.com")
    make_customer(name="New Nia", email="nia@example.com", signup_date=item.created_at.date())
    if not Playbook.objects.filter(key="onboarding").exists():  # emptied by an earlier test
        Playbook.objects.create(**PLAYBOOKS[0])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=FLAGS)
        page = browser.new_context(**DESKTOP).new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_server.url}/followups/")
        page.fill("input[name=username]", "owner")
        page.fill("input[name=password]", OWNER_PASSWORD)
        page.click("button[type=submit]")
        page.locator(f"#followup-{item.pk} a:has-text('E-mail')").click()
        expect(page.locator("input[name=subject]")).to_have_value("About your feedback")
        page.fill("input[name=subject]", "Sorry about the wait, Ana")
        body = page.locator("textarea[name=body]")
        body.fill(
            body.input_value().replace(
                "Could you tell me", "I refunded the shipping. Could you tell me"
            )
        )
        page.screenshot(path=str(ARTIFACTS / "followup-email.png"), full_page=True)
        page.click("button[type=submit]:has-text('Send')")
        expect(page.locator(".messages")).to_contain_text("E-mail sent")

        (arrived,) = smtp.received
        assert arrived["Subject"] == "Sorry about the wait, Ana"
        assert "I refunded the shipping" in arrived.get_body(("plain",)).get_content()
        page.goto(f"{live_server.url}/customers/{item.customer_id}/")
        expect(page.locator("#timeline")).to_contain_text("Sorry about the wait, Ana")
        expect(page.locator("#last-contact")).to_contain_text("Last contact")
        page.screenshot(path=str(ARTIFACTS / "customer-emailed.png"), full_page=True)

        page.click("nav >> text=Playbooks")
        row = page.locator("tr", has_text="Onboarding")
        row.locator("button:has-text('Switch on')").click()
        expect(page.locator("tr", has_text="Onboarding")).to_contain_text("On")
        page.screenshot(path=str(ARTIFACTS / "playbooks.png"), full_page=True)
        page.locator("a:has-text('Onboarding')").click()
        expect(page.locator("#preview")).to_contain_text("New Nia")
        page.screenshot(path=str(ARTIFACTS / "playbook.png"), full_page=True)
        browser.close()
    assert errors == []
