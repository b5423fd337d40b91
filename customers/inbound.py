"""Replies come back: a raw RFC 822 message (as a mail forwarder or an inbound-parse
service posts it) is matched to a customer by the e-mail it answers (In-Reply-To or
References naming a Message-ID we sent) or else by the sender's address, and lands on
their timeline as an inbound e-mail; what matches nobody waits in the inbox."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import strip_tags

from .imports.formats import NUL
from .models import Customer, Direction, InboundEmail, Interaction, InteractionKind

MAX_BODY = 20_000
MESSAGE_ID = re.compile(r"<[^<>\s\x00]+>")


class NotAnEmail(ValueError):
    """The posted bytes are not a message we can file (the reason is the text)."""


@dataclass(frozen=True)
class Parsed:
    message_id: str
    from_name: str
    from_address: str
    subject: str
    body: str
    sent_at: datetime | None
    answers: list[str]  # the Message-IDs it replies to, nearest first


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: keep what decodes
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        content = strip_tags(content)
    return content.strip()[:MAX_BODY]


def _without_nul(text: str) -> str:
    """Postgres cannot store a NUL character in text; in an e-mail it carries nothing."""
    return text.replace(NUL, "")


def parse(raw: bytes) -> Parsed:
    if not raw or not raw.strip():
        raise NotAnEmail("the message is empty")
    message = message_from_bytes(raw, policy=policy.default)
    try:
        senders = getaddresses([str(message.get("From", ""))])
    except (TypeError, ValueError, IndexError):
        senders = []
    name, address = senders[0] if senders else ("", "")
    if "@" not in address:
        raise NotAnEmail("it has no From address")
    own_id = MESSAGE_ID.search(str(message.get("Message-ID", "")))
    # Without a Message-ID of its own, the content names it: a re-post is still one message.
    message_id = own_id.group(0) if own_id else f"<{hashlib.sha256(raw).hexdigest()}@inbound>"
    answers = MESSAGE_ID.findall(str(message.get("In-Reply-To", "")))
    answers += reversed(MESSAGE_ID.findall(str(message.get("References", ""))))
    try:
        sent_at = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        sent_at = None
    if sent_at is not None and timezone.is_naive(sent_at):
        sent_at = None
    return Parsed(
        message_id=message_id[:255],
        from_name=_without_nul(name)[:200],
        from_address=_without_nul(address).strip().lower()[:254],
        subject=_without_nul(str(message.get("Subject", ""))).strip()[:300],
        body=_without_nul(_text(message)),
        sent_at=sent_at,
        answers=answers,
    )


def match(parsed: Parsed) -> tuple[Customer | None, str]:
    """(customer, how): the customer of the e-mail it answers, else the one customer
    with the sender's address, else nobody."""
    if parsed.answers:
        sent = (
            Interaction.objects.filter(
                message_id__in=parsed.answers[:50], direction=Direction.OUTBOUND
            )
            .select_related("customer")
            .first()
        )
        if sent is not None:
            return sent.customer, InboundEmail.Match.THREAD
    by_address = list(Customer.objects.filter(email__iexact=parsed.from_address)[:2])
    if len(by_address) == 1:
        return by_address[0], InboundEmail.Match.ADDRESS
    return None, InboundEmail.Match.NONE


def _log(inbound: InboundEmail, customer: Customer, at: datetime) -> Interaction:
    return Interaction.objects.create(
        customer=customer,
        kind=InteractionKind.EMAIL,
        direction=Direction.INBOUND,
        occurred_at=at,
        subject=inbound.subject,
        body=inbound.body,
        message_id=inbound.message_id,
    )


def receive(raw: bytes) -> tuple[InboundEmail, bool]:
    """(the stored message, new?). Stored once per Message-ID; a matched reply is logged
    on the customer's timeline in the same transaction."""
    parsed = parse(raw)
    existing = InboundEmail.objects.filter(message_id=parsed.message_id).first()
    if existing is not None:
        return existing, False
    customer, how = match(parsed)
    now = timezone.now()
    at = parsed.sent_at if parsed.sent_at and parsed.sent_at <= now else now
    try:
        with transaction.atomic():
            inbound = InboundEmail.objects.create(
                message_id=parsed.message_id,
                from_address=parsed.from_address,
                from_name=parsed.from_name,
                subject=parsed.subject,
                body=parsed.body,
                received_at=at,
                customer=customer,
                matched_by=how,
            )
            if customer is not None:
                inbound.interaction = _log(inbound, customer, at)
                inbound.save(update_fields=["interaction"])
    except IntegrityError:  # the same message posted twice at once: the other one won
        return InboundEmail.objects.get(message_id=parsed.message_id), False
    return inbound, True


@transaction.atomic
def assign(inbound: InboundEmail, customer: Customer) -> Interaction:
    """The owner files an unmatched message under a customer: it joins their timeline."""
    inbound.customer, inbound.matched_by = customer, InboundEmail.Match.OWNER
    inbound.interaction = _log(inbound, customer, inbound.received_at)
    inbound.save(update_fields=["customer", "matched_by", "interaction"])
    return inbound.interaction


def last_contact(customer: Customer) -> datetime | None:
    """The last e-mail, call or meeting with the customer, either way."""
    return (
        customer.interactions.filter(
            kind__in=[InteractionKind.EMAIL, InteractionKind.CALL, InteractionKind.MEETING]
        )
        .exclude(direction=Direction.INTERNAL)
        .values_list("occurred_at", flat=True)
        .first()
    )
