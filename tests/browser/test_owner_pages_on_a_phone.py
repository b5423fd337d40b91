"""Every owner page on a phone (390 × 844) in real headless Chromium, in English and
Chinese: no sideways scroll, no text smaller than 11 px (SVG chart text measured as
drawn), and the customer list shows name, health, CLV and value at risk. Screenshots
go to artifacts/phone/."""

import pytest

from customers.followups.nightly import score_and_refresh
from customers.models import Customer, FollowUp, ImportJob
from feedback.models import Survey
from metrics.models import ScoringRun
from segmentation.models import SavedSegment
from tests.browser.test_survey_page_in_chromium import ARTIFACTS, FLAGS, PHONE, chromium_path  # noqa: F401
from tests.conftest import OWNER_PASSWORD
from tests.scoring_data import AS_OF, load_into_db, shop

SMALLEST_PX = 11
# Every text node's drawn size; SVG text is scaled by the chart's own transform.
TINY_TEXT = """(smallest) => {
  const tiny = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width < 2 || box.height < 2) continue;
    let size = parseFloat(style.fontSize);
    if (el instanceof SVGElement && el.getScreenCTM()) size *= el.getScreenCTM().a;
    if (size < smallest - 0.01) tiny.push(`${node.textContent.trim().slice(0, 40)} (${size.toFixed(1)} px)`);
  }
  return tiny;
}"""


@pytest.fixture
def account(owner):
    load_into_db(shop(customers=300, seed=5))
    score_and_refresh(as_of=AS_OF.date())
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    segment = SavedSegment.objects.create(name="Red", filters={"health": "red"})
    job = ImportJob.objects.create(
        kind="customers",
        original_name="customers.csv",
        status="failed",
        errors=[
            {
                "row": 3,
                "column": "email",
                "value": "not-an-email",
                "message": "is not an email address",
            }
        ],
        message="Nothing was imported: 1 problem in 2 rows.",
    )
    return {
        "customer": Customer.objects.first().pk,
        "survey": survey.pk,
        "segment": segment.pk,
        "job": job.pk,
        "run": ScoringRun.objects.current().pk,
        "followup": FollowUp.objects.filter(customer__email__gt="").first().pk,
    }


PAGES = [
    "/",
    "/followups/",
    "/followups/templates/",
    "/followups/{followup}/email/",
    "/revenue/",
    "/customers/",
    "/customers/{customer}/",
    "/customers/{customer}/edit/",
    "/customers/{customer}/delete/",
    "/import/",
    "/import/{job}/",
    "/settings/",
    "/segments/",
    "/segments/new/?health=red",
    "/surveys/",
    "/surveys/new/",
    "/surveys/{survey}/",
    "/surveys/{survey}/edit/",
    "/surveys/{survey}/send/?audience=all",
    "/runs/{run}/",
]


@pytest.mark.django_db(transaction=True)
def test_every_owner_page_fits_a_phone_with_readable_text(live_server, chromium_path, account):  # noqa: F811
    from playwright.sync_api import sync_playwright

    problems = {}
    folder = ARTIFACTS / "phone"
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=FLAGS)
        for language in ("en", "zh-hans"):
            context = browser.new_context(**PHONE, locale=language)
            page = context.new_page()
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("input[name=username]", "owner")
            page.fill("input[name=password]", OWNER_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")
            for path in PAGES:
                url = live_server.url + path.format(**account)
                page.goto(url)
                width = page.evaluate("document.documentElement.scrollWidth")
                tiny = page.evaluate(TINY_TEXT, SMALLEST_PX)
                name = (
                    path.strip("/")
                    .split("?")[0]
                    .replace("/", "-")
                    .translate({123: None, 125: None})
                )
                name = name or "dashboard"
                page.screenshot(path=str(folder / f"{name}-{language}.png"), full_page=True)
                if width > 390 or tiny:
                    problems[f"{language} {path}"] = {"width": width, "tiny": tiny[:5]}
            if language == "en":
                page.goto(f"{live_server.url}/customers/")
                headers = [
                    h.inner_text().strip()
                    for h in page.locator("#customer-table thead th").all()
                    if h.is_visible()
                ]
            context.close()
        browser.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert {"Customer", "Health", "CLV", "Value at risk"} <= set(headers), headers
