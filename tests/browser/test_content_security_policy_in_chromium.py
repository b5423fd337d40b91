"""The Content-Security-Policy in real headless Chromium: every page works under it with
no violation (its scripts are static files), and an injected inline script is blocked."""

import pytest

from tests.browser.test_survey_page_in_chromium import ARTIFACTS, FLAGS, chromium_path  # noqa: F401
from tests.conftest import OWNER_PASSWORD, make_customer

PAGES = [
    "/",
    "/followups/",
    "/customers/",
    "/segments/",
    "/revenue/",
    "/surveys/",
    "/playbooks/",
    "/followups/templates/",
    "/import/",
    "/settings/",
    "/api/docs/",
]
# What a violation looks like to the page, recorded before any of its own scripts run.
LISTEN = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));"""


@pytest.mark.django_db(transaction=True)
def test_every_page_runs_under_the_policy_and_inline_script_is_blocked(
    live_server,
    chromium_path,  # noqa: F811
    owner,
    scored,
    invite,
):
    from playwright.sync_api import expect, sync_playwright

    make_customer(name='<img src=x onerror="window.__ran=1">')
    _, token = invite()
    violations, errors = {}, []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=FLAGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.add_init_script(LISTEN)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{live_server.url}/s/{token}/")
        page.click("label[for=score-9]")
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_contain_text("Thank you")
        violations["survey"] = page.evaluate("window.__violations")

        page.goto(f"{live_server.url}/")
        page.fill("input[name=username]", "owner")
        page.fill("input[name=password]", OWNER_PASSWORD)
        page.click("button[type=submit]")
        for path in PAGES:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
            violations[path] = page.evaluate("window.__violations")
        expect(page.locator("#swagger-ui")).to_contain_text("cs_platform API")
        page.screenshot(path=str(ARTIFACTS / "api-docs.png"))

        # The pages' own behaviours still work from the static script: tick all boxes.
        page.goto(f"{live_server.url}/customers/")
        page.check("#customer-table thead input[type=checkbox]")
        ticked = page.locator("#customer-table tbody input[type=checkbox]:checked").count()
        assert ticked == page.locator("#customer-table tbody input[type=checkbox]").count() > 0

        # An injected inline handler is refused, and the refusal is seen.
        page.evaluate(
            """document.body.insertAdjacentHTML("beforeend",
               '<img src="data:," onerror="window.__ran = 1"><div onclick="window.__ran = 1"></div>')"""
        )
        page.wait_for_timeout(300)
        ran = page.evaluate("window.__ran")
        blocked = page.evaluate("window.__violations")
        browser.close()

    assert {where: found for where, found in violations.items() if found} == {}
    assert errors == []
    assert ran is None and any(v.startswith("script-src") for v in blocked), blocked
