"""A follow-up by e-mail: each rule's template (the owner's wording or the default, in
the customer's language) filled with merge fields, sent through Django's mail backend
with the owner's reply-to, logged on the timeline with its Message-ID, and the item
completed (docs/architecture.md#follow-up-queue)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from email.utils import make_msgid

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext, gettext_noop

from customers.models import (
    Customer,
    Direction,
    EmailTemplate,
    FollowUp,
    FollowUpRule,
    Interaction,
    InteractionKind,
)

from . import actions

MERGE_FIELDS = [
    "first_name",
    "name",
    "company",
    "plan",
    "last_order",
    "comment",
    "owner",
    "business",
    "why_link",
]
GREETING = gettext_noop("Hi {first_name},")
SIGNATURE = gettext_noop("Best regards,\n{owner}\n{business}")
# (subject, the body between greeting and signature) per rule, in English; the Chinese
# default is their translation.
DEFAULTS = {
    FollowUpRule.DETRACTOR: (
        gettext_noop("About your feedback"),
        gettext_noop(
            'Thank you for telling us how we are doing. You wrote: "{comment}"\n\n'
            "I am sorry we let you down. Could you tell me a little more about what went "
            "wrong? I read every reply myself and will make it right."
        ),
    ),
    FollowUpRule.PAYMENT_FAILED: (
        gettext_noop("Your last payment did not go through"),
        gettext_noop(
            "Your last payment for {plan} did not go through. This happens when a card "
            "expires or is replaced. Could you update your card so nothing is "
            "interrupted? Reply to this e-mail if I can help."
        ),
    ),
    FollowUpRule.RENEWAL: (
        gettext_noop("Your {plan} plan renews soon"),
        gettext_noop(
            "Your {plan} plan renews soon. Is it giving you what you need? If anything "
            "could work better for you, just reply and tell me."
        ),
    ),
    FollowUpRule.ONBOARDING: (
        gettext_noop("How is it going so far?"),
        gettext_noop(
            "You have been with us for a little while now. Did you find what you came "
            "for? If anything is unclear or missing, reply to this e-mail."
        ),
    ),
    FollowUpRule.PROMOTER: (
        gettext_noop("Thank you!"),
        gettext_noop(
            "Thank you for recommending us, it means a lot to a small business. If you "
            "have a minute, a short review or telling a friend would help us even more."
        ),
    ),
    # The shipped playbooks' own e-mails.
    "welcome": (
        gettext_noop("Welcome to {business}"),
        gettext_noop(
            "Thank you for choosing us. I am {owner}, and I run {business} myself: if you "
            "have any question while you settle in, reply to this e-mail and it comes "
            "straight to me."
        ),
    ),
    "tips": (
        gettext_noop("Three tips to get the most out of {plan}"),
        gettext_noop(
            "A few days in, here is what our happiest customers did first: set up your "
            "account the way you work, invite the people you work with, and tell us what "
            "is missing. Reply with anything that is unclear."
        ),
    ),
    "rescue": (
        gettext_noop("Is everything all right?"),
        gettext_noop(
            "I noticed you have not been getting as much out of {business} lately. Is "
            "something in the way? Reply and tell me; I would like to fix it for you."
        ),
    ),
    "winback": (
        gettext_noop("Sorry to see you go"),
        gettext_noop(
            "Your subscription has ended. Thank you for the time you were with us. Would "
            "you tell me in one click why you left? It helps me make {business} better: "
            "{why_link}\n\nIf you ever want to come back, just reply to this e-mail."
        ),
    ),
}
GENERIC = (
    gettext_noop("Checking in"),
    gettext_noop(
        "I wanted to check in and see how things are going since your last order "
        "({last_order}). Is there anything I can help with?"
    ),
)


@dataclass(frozen=True)
class Draft:
    language: str
    subject: str
    body: str


class _Blank(dict):
    def __missing__(self, key):  # an unknown merge field stays as it was typed
        return "{" + key + "}"


def fill(text: str, fields: dict) -> str:
    """The text with its merge fields replaced; a stray brace never breaks it."""
    try:
        return string.Formatter().vformat(text, (), _Blank(fields))
    except (ValueError, IndexError):
        return text


def language_of(customer: Customer) -> str:
    return "zh-hans" if (customer.locale or "").startswith("zh") else "en"


def customer_fields(customer: Customer, owner: str, business: str, **extra) -> dict:
    """The merge fields for one customer; `extra` adds the comment or the exit link."""
    last = customer.orders.exclude(kind="refund").order_by("-occurred_at").first()
    return {
        "first_name": (customer.name or "").split(" ")[0] or customer.name,
        "name": customer.name,
        "company": customer.company,
        "plan": customer.plan,
        "last_order": f"{timezone.localtime(last.occurred_at):%Y-%m-%d}" if last else "–",
        "comment": "",
        "owner": owner,
        "business": business,
        **extra,
    }


def merge_fields(item: FollowUp, owner: str, business: str) -> dict:
    comment = (item.reason_args or {}).get("comment", "")
    return customer_fields(item.customer, owner, business, comment=comment)


def template_for(rule: str, language: str) -> tuple[str, str]:
    """(subject, body) as the owner wrote them for this rule and language, or else the
    default (greeting, the rule's text, signature) in that language."""
    stored = EmailTemplate.objects.filter(rule=rule).first()
    suffix = "zh" if language.startswith("zh") else "en"
    subject = getattr(stored, f"subject_{suffix}", "") if stored else ""
    body = getattr(stored, f"body_{suffix}", "") if stored else ""
    default_subject, default_text = DEFAULTS.get(rule, GENERIC)
    with translation.override(language):
        subject = subject or gettext(default_subject)
        body = body or "\n\n".join([gettext(GREETING), gettext(default_text), gettext(SIGNATURE)])
    return subject, body


def draft(item: FollowUp, owner: str, business: str) -> Draft:
    language = language_of(item.customer)
    subject, body = template_for(item.rule, language)
    fields = merge_fields(item, owner, business)
    return Draft(language, fill(subject, fields), fill(body, fields))


@dataclass(frozen=True)
class Sender:
    from_address: str
    reply_to: str


def message(
    customer: Customer,
    subject: str,
    body: str,
    sender: Sender,
    message_id: str,
    unsubscribe_url: str = "",
) -> EmailMultiAlternatives:
    """Plain text and HTML. An automated e-mail (`unsubscribe_url`) carries the
    unsubscribe link in both parts and the RFC 8058 one-click headers."""
    headers = {"Message-ID": message_id}
    html = linebreaks(escape(body))
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        with translation.override(language_of(customer)):
            footer = gettext("No more e-mails like this: %(url)s") % {"url": unsubscribe_url}
            link = gettext("Unsubscribe")
        body = f"{body}\n\n--\n{footer}"
        html += f'<hr><p><small><a href="{escape(unsubscribe_url)}">{escape(link)}</a></small></p>'
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=sender.from_address,
        to=[customer.email],
        reply_to=[sender.reply_to] if sender.reply_to else None,
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return email


def log_sent(customer: Customer, subject: str, body: str, message_id: str) -> Interaction:
    """The e-mail on the timeline as an outbound contact, with the Message-ID a reply
    will name."""
    return Interaction.objects.create(
        customer=customer,
        kind=InteractionKind.EMAIL,
        direction=Direction.OUTBOUND,
        occurred_at=timezone.now(),
        subject=subject[:300],
        body=body,
        message_id=message_id,
    )


def domain_of(address: str) -> str:
    return (address.rsplit("@", 1)[-1] or "localhost").strip(">")


def send(
    item: FollowUp, subject: str, body: str, sender: Sender, unsubscribe_url: str = ""
) -> Interaction:
    """E-mail the customer (plain text and HTML), then log it on the timeline with its
    Message-ID and complete the item. A failure to send raises and leaves the item
    open and nothing logged."""
    message_id = make_msgid(domain=domain_of(sender.from_address))
    message(item.customer, subject, body, sender, message_id, unsubscribe_url).send()
    with transaction.atomic():
        logged = log_sent(item.customer, subject, body, message_id)
        actions.complete_followup(
            item, gettext("E-mailed: %(subject)s") % {"subject": subject}, log=False
        )
    return logged


def sender_from(account, user) -> tuple[Sender, str]:
    """The account's sender settings and the owner's name for the signature."""
    owner = account.sender_name or user.get_full_name() or user.get_username()
    return Sender(account.from_address, account.reply_to), owner
