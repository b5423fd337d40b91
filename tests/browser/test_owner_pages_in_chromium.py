"""The owner's morning in real headless Chromium: log in, read the dashboard, work the
queue, filter the customer list, note a call, switch to Chinese, import a bad file.
Screenshots of each page go to artifacts/ for a human to look at."""

import pytest

from customers.followups.nightly import score_and_refresh
from customers.models import FollowUp, Interaction
from tests.browser.test_survey_page_in_chromium import ARTIFACTS, FLAGS, PHONE, chromium_path  # noqa: F401
from tests.conftest import OWNER_PASSWORD
from tests.scoring_data import AS_OF, load_into_db, shop

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def scored_shop(owner):
    load_into_db(shop(customers=300, seed=5))
    score_and_refresh(as_of=AS_OF.date())
    items = list(FollowUp.objects.open_for_today()[:2])
    assert len(items) == 2, "the scoring run should have queued follow-ups"
    return items


@pytest.mark.django_db(transaction=True)
def test_the_owners_morning_in_a_real_browser(live_server, chromium_path, scored_shop, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    first, second = scored_shop
    bad_file = tmp_path / "customers.csv"
    bad_file.write_text("external_id,name,email\nn1,Ana,ana@example.com\nn2,Bo,not-an-email\n")
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=FLAGS)
        page = browser.new_context(**DESKTOP).new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{live_server.url}/")
        page.fill("input[name=username]", "owner")
        page.fill("input[name=password]", OWNER_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("How your customers are doing")
        for chart in ("#health-chart svg", "#nps-chart", "#revenue-chart svg"):
            expect(page.locator(chart)).to_be_visible()
        expect(page.locator("[data-kpi]")).to_have_count(9)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        page.click("nav >> text=Follow-ups")
        item = page.locator(f"#followup-{first.pk}")
        item.locator("input[name=note]").fill("Called them, all good")
        item.locator("button:has-text('Done')").click()
        expect(page.locator(f"#followup-{first.pk}")).to_contain_text("Done — Called them")
        page.locator(f"#followup-{second.pk} button:has-text('Snooze 1 week')").click()
        expect(page.locator(f"#followup-{second.pk}")).to_contain_text("Snoozed until")
        page.screenshot(path=str(ARTIFACTS / "queue.png"))

        page.click("nav >> text=Customers")
        page.select_option("select[name=health]", "red")
        page.wait_for_url("**/customers/?*health=red*")
        red_rows = page.locator("#customer-table .pill.red").count()
        assert red_rows == page.locator("#customer-table tbody tr").count() > 0
        page.locator("nav.pager a:has-text('Next')").click()
        page.wait_for_url("**page=2**")
        assert "health=red" in page.url
        expect(page.locator("nav.pager")).to_contain_text("Page 2 of")
        assert page.locator("#customer-table .pill.red").count() > 0
        page.screenshot(path=str(ARTIFACTS / "customers.png"))

        page.locator("#customer-table tbody a").first.click()
        page.select_option("select[name=kind]", "call")
        page.fill("input[name=subject]", "Renewal call, happy to stay")
        page.click("button:has-text('Add to timeline')")
        expect(page.locator("#timeline")).to_contain_text("Renewal call, happy to stay")
        page.screenshot(path=str(ARTIFACTS / "customer.png"), full_page=True)

        page.select_option("select[name=language]", "zh-hans")
        expect(page.locator("nav")).to_contain_text("仪表盘")
        page.goto(f"{live_server.url}/")
        expect(page.locator("h1")).to_have_text("您的客户状况如何")
        page.screenshot(path=str(ARTIFACTS / "dashboard-zh.png"), full_page=True)
        page.select_option("select[name=language]", "en")
        expect(page.locator("nav")).to_contain_text("Dashboard")

        page.goto(f"{live_server.url}/import/")
        page.select_option("select[name=kind]", "customers")
        page.set_input_files("input[name=file]", str(bad_file))
        page.click("main button[type=submit]")
        expect(page.locator("table.errors")).to_contain_text("not-an-email")
        expect(page.locator("#import-preview")).to_contain_text("ana@example.com")
        page.screenshot(path=str(ARTIFACTS / "import-errors.png"), full_page=True)

        phone = browser.new_context(**PHONE, storage_state=page.context.storage_state()).new_page()
        phone.goto(f"{live_server.url}/")
        expect(phone.locator("#health-chart svg")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
        browser.close()

    assert errors == []
    assert width <= 390, "the dashboard must not scroll sideways on a phone"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "done" and second.status == "snoozed"
    assert Interaction.objects.filter(body="Called them, all good").exists()
    assert Interaction.objects.filter(subject="Renewal call, happy to stay", kind="call").exists()
