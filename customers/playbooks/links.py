"""The links automated e-mails carry: unsubscribe, and the win-back exit question."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from customers.models import Customer
from feedback.sending import unsubscribe_token

WHY_SALT = "customers.playbooks.exit-question"


def unsubscribe_url(customer: Customer) -> str:
    return settings.SITE_URL + reverse("email-unsubscribe", args=[unsubscribe_token(customer.pk)])


def why_token(customer_id: int) -> str:
    return signing.Signer(salt=WHY_SALT).sign(str(customer_id))


def customer_of_why_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=WHY_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def why_url(customer: Customer) -> str:
    return settings.SITE_URL + reverse("exit-question", args=[why_token(customer.pk)])
