"""E-mail from the queue: the rule's template filled in the customer's language, sent
through Django's SMTP backend to a real SMTP server on loopback (aiosmtpd), logged on
the timeline with its Message-ID, the item completed; templates edited with a preview."""

import pytest

from customers.models import EmailTemplate, FollowUp, Interaction
from tests.conftest import HTMX, free_port, make_customer

pytestmark = pytest.mark.django_db


def detractor(**customer):
    return FollowUp.objects.create(
        customer=make_customer(**customer),
        rule="detractor",
        reason='Answered NPS 2: "Too slow"',
        reason_args={
            "t": 'Answered %(kind)s %(score)s: "%(comment)s"',
            "kind": "NPS",
            "score": "2",
            "comment": "Too slow",
        },
    )


def test_an_email_from_the_queue_arrives_is_logged_and_completes_the_item(
    owner_client, smtp, account
):
    item = detractor(name="Ana Lima", email="ana@example.com")
    page = owner_client.get(f"/followups/{item.pk}/email/").content.decode()
    assert "About your feedback" in page and "Hi Ana," in page and "Too slow" in page
    assert "Mia Chen" in page and "Northwind Records" in page
    queue = owner_client.get("/followups/").content.decode()
    assert f'href="/followups/{item.pk}/email/"' in queue
    body = "Hi Ana,\n\nSorry about the wait. I have refunded the shipping.\n\nMia"
    response = owner_client.post(
        f"/followups/{item.pk}/email/", {"subject": "About your order", "body": body}
    )
    assert response.status_code == 302
    [message] = smtp.received
    assert message["Subject"] == "About your order" and message["To"] == "ana@example.com"
    assert message["From"] == "Mia Chen <mia@northwind.example>"
    assert message["Reply-To"] == "help@northwind.example"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "refunded the shipping" in plain and "refunded the shipping" in html
    logged = Interaction.objects.get(customer=item.customer, kind="email")
    assert logged.direction == "outbound" and logged.message_id == message["Message-ID"]
    assert logged.subject == "About your order" and "refunded" in logged.body
    item.refresh_from_db()
    assert item.status == "done" and item.outcome == "E-mailed: About your order"
    assert Interaction.objects.filter(customer=item.customer).count() == 1  # no extra note
    timeline = owner_client.get(f"/customers/{item.customer_id}/").content.decode()
    assert "About your order" in timeline


def test_a_chinese_customer_gets_the_chinese_template(owner_client, smtp, account):
    item = detractor(name="王小明", email="wang@example.com", locale="zh-hans")
    page = owner_client.get(f"/followups/{item.pk}/email/").content.decode()
    assert "关于您的反馈" in page and "Too slow" in page and "in Chinese" in page


def test_the_owner_edits_a_template_and_previews_it_for_a_real_customer(owner_client, account):
    item = detractor(name="Ana Lima", email="ana@example.com", company="Acme")
    page = owner_client.get("/followups/templates/").content.decode()
    assert 'id="template-detractor"' in page and "{first_name}" in page
    preview = owner_client.post(
        "/followups/templates/preview/",
        {
            "rule": "detractor",
            "language": "en",
            "detractor-subject_en": "{company}: we hear you",
            "detractor-body_en": "Dear {first_name}, you said: {comment} — {owner}",
        },
        headers=HTMX,
    ).content.decode()
    assert "Acme: we hear you" in preview and "Dear Ana, you said: Too slow — Mia Chen" in preview
    owner_client.post(
        "/followups/templates/",
        {
            "rule": "detractor",
            "detractor-subject_en": "{company}: we hear you",
            "detractor-body_en": "Dear {first_name}",
        },
    )
    assert EmailTemplate.objects.get(rule="detractor").subject_en == "{company}: we hear you"
    page = owner_client.get(f"/followups/{item.pk}/email/").content.decode()
    assert "Acme: we hear you" in page and "Dear Ana" in page


def test_a_mail_server_that_refuses_leaves_the_item_open_and_logs_nothing(
    owner_client, settings, account
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    item = detractor(name="Ana Lima", email="ana@example.com")
    page = owner_client.post(
        f"/followups/{item.pk}/email/", {"subject": "Hi", "body": "Hello"}
    ).content.decode()
    assert "The e-mail could not be sent" in page
    item.refresh_from_db()
    assert item.status == "open" and not Interaction.objects.exists()
