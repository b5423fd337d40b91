"""Replies come back: a raw RFC 822 message posted to the inbound endpoint lands on the
customer's timeline (matched by the e-mail it answers, or the sender's address);
unmatched ones wait in the inbox to be assigned."""

from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from django.utils import timezone

from customers.models import Direction, InboundEmail, Interaction
from metrics.models import AccountSettings
from tests.conftest import make_customer
from tests.followups.test_email import detractor

pytestmark = pytest.mark.django_db


def raw_reply(
    sender: str, subject="Re: About your feedback", body="Thanks, that helps.", **headers
):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "help@northwind.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def url() -> str:
    return f"/inbound/email/{AccountSettings.load().inbound_secret}/"


def test_a_reply_to_an_email_sent_from_the_app_lands_on_its_customers_timeline(
    client, owner_client, smtp, account
):
    item = detractor(name="Ana Lima", email="ana@example.com")
    owner_client.post(f"/followups/{item.pk}/email/", {"subject": "About", "body": "Hi Ana"})
    sent_id = Interaction.objects.get(customer=item.customer, direction="outbound").message_id
    # She answers from another address: the thread, not the address, finds her.
    raw = raw_reply("Ana <ana.private@example.net>", In_Reply_To=sent_id, Message_ID="<r1@ex>")
    response = client.post(url(), raw, content_type="message/rfc822")
    assert response.status_code == 202
    assert response.json() == {"status": "matched", "matched_by": "thread"}
    reply = Interaction.objects.get(customer=item.customer, direction=Direction.INBOUND)
    assert reply.kind == "email" and reply.body == "Thanks, that helps."
    assert reply.message_id == "<r1@ex>"
    page = owner_client.get(f"/customers/{item.customer_id}/").content.decode()
    assert "Re: About your feedback" in page  # on the timeline
    assert "Last contact" in page and "No contact yet" not in page


def test_the_senders_address_matches_when_there_is_no_thread(client):
    customer = make_customer(email="Bo@Example.com")
    raw = raw_reply("Bo <bo@example.com>", Message_ID="<r2@ex>")
    answer = client.post(url(), raw, content_type="message/rfc822").json()
    assert answer["matched_by"] == "address"
    assert customer.interactions.filter(direction="inbound", kind="email").count() == 1


def test_the_secret_can_be_a_header_and_a_form_field_carries_the_message(client):
    customer = make_customer(email="cy@example.com")
    secret = AccountSettings.load().inbound_secret
    raw = raw_reply("cy@example.com", Message_ID="<r3@ex>").decode()
    response = client.post(
        "/inbound/email/", {"email": raw}, headers={"X-Inbound-Secret": secret}
    )  # SendGrid's inbound parse posts the raw message in the form field "email"
    assert response.status_code == 202
    assert customer.interactions.filter(direction="inbound").count() == 1


def test_nul_characters_in_a_reply_are_dropped_not_a_crash(client):
    customer = make_customer(email="nu@example.com")
    raw = raw_reply(
        "nu@example.com", subject="Re: hi\x00", body="Fine\x00 thanks", Message_ID="<n\x00@ex>"
    )
    assert client.post(url(), raw, content_type="message/rfc822").status_code == 202
    reply = customer.interactions.get(direction="inbound")
    assert (reply.subject, reply.body) == ("Re: hi", "Fine thanks")
    assert "\x00" not in reply.message_id


def test_a_message_posted_twice_is_stored_once(client):
    customer = make_customer(email="dee@example.com")
    raw = raw_reply("dee@example.com", Message_ID="<same@ex>")
    first = client.post(url(), raw, content_type="message/rfc822").json()
    second = client.post(url(), raw, content_type="message/rfc822").json()
    assert first["status"] == "matched" and second["status"] == "duplicate"
    assert customer.interactions.filter(direction="inbound").count() == 1
    assert InboundEmail.objects.count() == 1


def test_a_wrong_secret_reveals_nothing_and_stores_nothing(client):
    raw = raw_reply("eve@example.com", Message_ID="<r4@ex>")
    response = client.post("/inbound/email/wrong/", raw, content_type="message/rfc822")
    assert response.status_code == 404
    assert client.post("/inbound/email/", raw, content_type="message/rfc822").status_code == 404
    assert not InboundEmail.objects.exists()


def test_what_is_not_an_email_gets_a_reason(client):
    response = client.post(url(), b"hello there", content_type="text/plain")
    assert response.status_code == 400
    assert "no From address" in response.json()["detail"]
    assert client.post(url(), b"", content_type="message/rfc822").status_code == 400
    assert not InboundEmail.objects.exists()


def test_an_unmatched_reply_waits_in_the_inbox_until_the_owner_files_it(client, owner_client):
    customer = make_customer(name="Fay Wong", email="fay@example.com")
    raw = raw_reply("Someone <stranger@example.org>", subject="Question", Message_ID="<r5@ex>")
    assert client.post(url(), raw, content_type="message/rfc822").json()["status"] == "inbox"
    assert not Interaction.objects.filter(direction="inbound").exists()
    queue = owner_client.get("/followups/").content.decode()
    assert "Inbox (1)" in queue
    inbox = owner_client.get("/inbox/").content.decode()
    assert "stranger@example.org" in inbox and "Question" in inbox
    assert AccountSettings.load().inbound_secret in inbox  # where to point the forwarder
    message = InboundEmail.objects.get()
    owner_client.post(f"/inbox/{message.pk}/assign/", {"customer": "fay@example.com"})
    assert customer.interactions.filter(direction="inbound", subject="Question").exists()
    assert "stranger@example.org" not in owner_client.get("/inbox/").content.decode()


def test_a_message_that_is_nobodys_can_be_dismissed(client, owner_client):
    raw = raw_reply("news@example.org", subject="Newsletter", Message_ID="<r6@ex>")
    client.post(url(), raw, content_type="message/rfc822")
    message = InboundEmail.objects.get()
    owner_client.post(f"/inbox/{message.pk}/dismiss/")
    assert "Newsletter" not in owner_client.get("/inbox/").content.decode()
    assert InboundEmail.objects.filter(dismissed=True).count() == 1


def test_the_inbox_requires_login(client):
    assert client.get("/inbox/").status_code == 302


def test_a_message_with_a_large_attachment_is_filed_and_one_over_10_mb_is_refused(client):
    customer = make_customer(email="gil@example.com")
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = (
        "gil@example.com",
        "Logs",
        "<big@x>",
    )
    message.set_content("Here are the logs.")
    message.add_attachment(b"x" * 4_000_000, maintype="application", subtype="octet-stream")
    posted = client.post(url(), message.as_bytes(), content_type="message/rfc822")
    assert posted.status_code == 202  # above Django's 2.5 MB in-memory limit
    assert customer.interactions.get(direction="inbound").body == "Here are the logs."
    huge = b"From: gil@example.com\r\n\r\n" + b"x" * (10 * 1024 * 1024)
    assert client.post(url(), huge, content_type="message/rfc822").status_code == 413
