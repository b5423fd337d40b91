"""Every owner page speaks Chinese completely: rendered in Chinese, no text node holds
Latin words except names and other data, e-mail addresses, numbers and codes."""

import re
from html.parser import HTMLParser

import pytest
from django.utils.translation import gettext_noop

from customers.imports.formats import Errors
from customers.imports.load import ImportReport
from customers.models import ImportJob
from metrics.models import CustomerScore
from tests.architecture.test_query_counts import PAGES, Account

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-Hans"}
# Abbreviations and names that stay Latin in Chinese text.
CODES = {
    "NPS",
    "CSAT",
    "CES",
    "CLV",
    "MRR",
    "RFM",
    "ARPA",
    "NRR",
    "GRR",
    "API",
    "CSV",
    "JSON",
    "USD",
    "EUR",
    "CNY",
    "AUC",
    "BG",
    "NBD",
    "Gamma",
    "ISO",
    "SMTP",
    "GDPR",
    "HTMX",
    "UTC",
    "cs_platform",
    "DEFAULT_FROM_EMAIL",
    "ACCOUNT_CURRENCY",
    "TIME_ZONE",
    "English",
    "Token",
    "Stripe",
    "Paddle",
    "Shopify",
    "CDNOW",
    "M",
    "k",
    "ID",
    "id",
    "URL",
    "HTTP",
    "MM",
    "Excel",
    "subscription",
    "purchase",
    "refund",
    "external_id",
    "email",
    "name",
    "UTF",
    "BOM",
    "k-means",
    "e-mail",
    "amount",
    # names the owner types or configures as they are
    "Slack",
    "KPI",
    "Webhook",
    "body-mime",
    "X-Inbound-Secret",
    "detractor",
    "nps",
    "csat",
    "ces",
}
SKIP_TAGS = {"script", "style", "code", "pre", "svg", "option", "textarea"}  # textarea: a draft
LATIN = re.compile(r"[A-Za-z][A-Za-z_'-]*[A-Za-z]")


class TextNodes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.skipping = 0
        self.nodes: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.nodes.append(data.strip())


def english_words(page: str, data: set[str]) -> list[str]:
    """Text nodes with a Latin word that is neither data nor a code."""
    parser = TextNodes()
    parser.feed(page)
    found = []
    for node in parser.nodes:
        text = re.sub(r"\S+@\S+", "", node)
        for value in sorted(data, key=len, reverse=True):
            text = text.replace(value, "")
        words = [w for w in LATIN.findall(text) if w not in CODES]
        if words:
            found.append(node)
    return found


def with_words(account: Account) -> None:
    """What the thin query-count account lacks: stored English words of every kind (a
    health sentence, segments and clusters, an import's outcome and row problems)."""
    CustomerScore.objects.filter(customer=account.first).update(
        explanation="Held back by no purchase or login for 120 days.",
        components={
            "parts": {"engagement": 20.0, "churn_risk": 30.0, "support": 90.0},
            "facts": {"days_since_activity": 120.0, "churn_probability": 0.7},
        },
    )
    account.run.summary = {
        "clv_total": 1.0,
        "clv_median": 12.0,
        "segments": {"Loyal": 2, "Can't lose them": 1},
        "clusters": {"silhouette": 0.5, "groups": {"0": {"size": 2, "traits": ["frequent"]}}},
        "mrr": [{"month": "2026-10", "mrr": 90.0, "accounts": 9, "arpa": 10.0, "churn": -9.0}],
    }
    account.run.save()
    errors = Errors()
    errors.add_one(3, "amount", "abc", gettext_noop("is not an amount"))
    errors.add_one(
        4, "name", "x" * 80, gettext_noop("is longer than %(limit)s characters"), limit=40
    )
    report = ImportReport(kind="orders", rows=4, error_count=2, errors=errors)
    ImportJob.objects.filter(pk=account.job.pk).update(
        status="failed",
        errors=[e.as_dict() for e in errors],
        message=report.summary(),
        report=report.counts(),
    )


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_owner_page_has_no_english_left_in_chinese(owner_client, name):
    account = Account()
    account.add(2)
    with_words(account)
    response = owner_client.get(account.path(name), headers=ZH)
    if response.streaming or "html" not in response["Content-Type"]:
        pytest.skip("not an HTML page")
    page = response.content.decode()
    assert 'lang="zh-hans"' in page or "<html" not in page  # a fragment has no <html>
    data = account.data_strings() | {"owner"}  # the owner's user name
    left = english_words(page, data)
    assert not left, f"{name}: {left[:12]}"
