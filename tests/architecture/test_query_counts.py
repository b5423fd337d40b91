"""Every owner page costs the same number of queries whatever the number of rows
(zulip's query-count guards): each page is rendered over a small account, then over
one with three times the rows, and the two counts must be equal. A page added later
must be added here: the last test fails on an owner page this file does not render."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import (
    Customer,
    Enrolment,
    FollowUp,
    ImportJob,
    InboundEmail,
    Interaction,
    Order,
    Playbook,
    StepRun,
)
from feedback.models import Survey, SurveyInvitation, SurveyResponse, SurveySend
from metrics.models import CustomerScore, ScoringRun
from segmentation.models import SavedSegment
from tests.conftest import HTMX, make_customer
from tests.cs_platform.test_auth import owner_urls

pytestmark = pytest.mark.django_db

# name -> path, given the ids of the account's first rows
PAGES = {
    "home": "/",
    "run-detail": "/runs/{run}/",
    "revenue": "/revenue/",
    "followups": "/followups/",
    "followup-templates": "/followups/templates/",
    "followup-email": "/followups/{followup}/email/",
    "customers": "/customers/",
    "customers-export": "/customers/export.csv",
    "customer": "/customers/{customer}/",
    "customer-timeline": "/customers/{customer}/timeline/",
    "customer-edit": "/customers/{customer}/edit/",
    "customer-export": "/customers/{customer}/export.json",
    "customer-delete": "/customers/{customer}/delete/",
    "import": "/import/",
    "import-status": "/import/{job}/",
    "settings": "/settings/",
    "inbox": "/inbox/",
    "playbooks": "/playbooks/",
    "playbook": "/playbooks/{playbook}/",
    "playbook-edit": "/playbooks/{playbook}/edit/",
    "playbook-new": "/playbooks/new/",
    "settings-run-status": "/settings/run/status/",
    "segments": "/segments/",
    "segment-create": "/segments/new/?plan=Pro",
    "surveys": "/surveys/",
    "survey-create": "/surveys/new/",
    "survey-detail": "/surveys/{survey}/",
    "survey-edit": "/surveys/{survey}/edit/",
    "survey-send": "/surveys/{survey}/send/",
    # these three redirect to the send page with their audience: guard where they lead
    "survey-send-segment": "/surveys/{survey}/send/?audience=segment&segment={segment}",
    "survey-send-customer": "/surveys/{survey}/send/?audience=customer&customer={customer}",
    "survey-send-picked": "/surveys/{survey}/send/?audience=picked",
    "survey-results-data": "/surveys/{survey}/results.json",
    "survey-export": "/surveys/{survey}/export.csv",
}
# Owner URLs that are not pages: actions (POST only), the admin and the API.
NOT_PAGES = {
    "customers-bulk",
    "customer-note",
    "followup-done",
    "followup-snooze",
    "followup-reopen",
    "followup-add",
    "followup-template-preview",
    "settings-run",
    "segment-delete",
    "inbox-assign",
    "inbox-dismiss",
    "playbook-switch",
}


class Account:
    """A scored account that grows by `add(n)`: customers with scores, orders,
    interactions, survey answers and follow-ups, plus runs, sendings and imports; the
    first customer's own history grows with it."""

    def __init__(self):
        today = timezone.localdate()
        ScoringRun.objects.create(as_of=today - timedelta(days=30), status="succeeded", summary={})
        self.run = ScoringRun.objects.create(
            as_of=today, status="succeeded", is_current=True, summary={"clv_total": 1.0}
        )
        self.survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
        self.send = SurveySend.objects.create(survey=self.survey, audience="everyone")
        self.segment = SavedSegment.objects.create(name="Pro", filters={"plan": "Pro"})
        self.job = ImportJob.objects.create(kind="customers", original_name="c.csv")
        self.playbook = Playbook.objects.create(
            name="Renewal nudge",
            trigger="rule",
            trigger_value="renewal",
            steps=[{"action": "email", "value": "renewal"}, {"action": "wait", "value": "3"}],
            exits=["replied"],
        )
        self.first = None

    def add(self, n: int) -> None:
        now = timezone.now()
        for i in range(n):
            customer = make_customer(plan="Pro", tags=["vip"])
            self.first = self.first or customer
            for owner in {customer, self.first}:
                self._history(owner, now - timedelta(days=i + 1))
            CustomerScore.objects.create(
                run=self.run,
                customer=customer,
                as_of=self.run.as_of,
                health=50,
                health_band="yellow",
                clv=100.0,
                value_at_risk=10.0,
                rfm_segment="Loyal",
                last_nps=8,
            )
            FollowUp.objects.create(
                customer=customer, rule="renewal", reason="Renews soon", due=now.date()
            )
            ScoringRun.objects.create(
                as_of=self.run.as_of - timedelta(days=40 + i),
                status="failed",
            )
            ImportJob.objects.create(kind="orders", original_name=f"o{i}.csv")
            enrolment = Enrolment.objects.create(playbook=self.playbook, customer=customer, step=1)
            StepRun.objects.create(enrolment=enrolment, step=0, action="email", status="sent")
            InboundEmail.objects.create(
                message_id=f"<m{InboundEmail.objects.count()}@x>",
                from_address="stranger@example.org",
                subject="Question",
            )
            SurveySend.objects.create(survey=self.survey, audience="everyone")

    def _history(self, customer, when) -> None:
        Order.objects.create(
            customer=customer,
            external_id=f"o-{Order.objects.count() + 1}",
            occurred_at=when,
            amount=20,
        )
        Interaction.objects.create(customer=customer, kind="ticket", subject="Help", opened_at=when)
        invitation = SurveyInvitation.objects.create(
            survey=self.survey,
            customer=customer,
            send=self.send,
            token_hash=f"{SurveyInvitation.objects.count() + 1:064x}",
            expires_at=when + timedelta(days=30),
        )
        SurveyResponse.objects.create(
            invitation=invitation,
            customer=customer,
            kind="nps",
            score=3,
            comment="Slow support",
            responded_at=when,
        )

    def data_strings(self) -> set[str]:
        """What the account's rows say (names, plans, subjects …): data, not UI text."""
        values = {"NPS", "Recommend us?", "Renews soon", "Slow support", "Help", "Pro", "vip"}
        values |= {"Renewal nudge", "renewal", "Question", "stranger@example.org"}
        values |= {"slow support"}  # the comments' theme
        values |= {"c.csv", "o0.csv", "o1.csv", "o2.csv", "everyone"}
        for customer in Customer.objects.all():
            values |= {customer.name, customer.email, customer.external_id}
        return {v for v in values if v}

    def path(self, name: str) -> str:
        return PAGES[name].format(
            run=self.run.pk,
            customer=self.first.pk,
            job=self.job.pk,
            survey=self.survey.pk,
            segment=self.segment.pk,
            playbook=self.playbook.pk,
            followup=FollowUp.objects.filter(customer=self.first).order_by("id").first().pk,
        )


def queries(client, path: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
        b"".join(response) if response.streaming else response.content
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_page_needs_no_more_queries_for_more_rows(owner_client, name):
    account = Account()
    account.add(3)
    queries(owner_client, account.path(name))  # warm: sessions, the cached settings
    few = queries(owner_client, account.path(name))
    account.add(6)
    many = queries(owner_client, account.path(name))
    assert many == few, f"{name}: {few} queries with 3 customers, {many} with 9"


@pytest.mark.parametrize(
    "path",
    ["/followups/?page=1", "/customers/?q=Customer", "/surveys/{survey}/?group=detractor"],
)
def test_htmx_fragments_need_no_more_queries_for_more_rows(owner_client, path):
    account = Account()
    account.add(3)
    path = path.format(survey=account.survey.pk)
    queries(owner_client, path, **HTMX)
    few = queries(owner_client, path, **HTMX)
    account.add(6)
    assert queries(owner_client, path, **HTMX) == few


def test_every_owner_page_is_guarded_here():
    names = {
        name
        for _, name in owner_urls()
        if name and not name.startswith(("admin:", "api-", "schema", "swagger"))
    }
    api = {name for name in names if name.endswith(("-list", "-detail", "-bulk", "-root"))}
    assert names - api - NOT_PAGES - set(PAGES) == set()
