"""Replies come back: the inbound endpoint a mail forwarder posts raw messages to, and
the inbox of messages that matched no customer (customers.inbound)."""

import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from customers import inbound
from customers.listing import find_customer
from customers.models import InboundEmail
from metrics.models import AccountSettings

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
FORM_FIELDS = ("email", "body-mime", "message")  # SendGrid raw, Mailgun MIME, generic


def _raw_message(request) -> bytes:
    """The RFC 822 bytes: the request body, or the form field inbound-parse services use."""
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name in FORM_FIELDS:
            if name in request.FILES:
                return request.FILES[name].read(MAX_MESSAGE_BYTES + 1)
            if name in request.POST:
                return request.POST[name].encode("utf-8")
        return b""
    # Read the stream itself: a message with attachments is larger than the memory
    # limit Django puts on request.body; MAX_MESSAGE_BYTES bounds it instead.
    return request.read(MAX_MESSAGE_BYTES + 1)


@csrf_exempt  # a mail forwarder has no session; the secret authenticates it
@require_POST
def receive(request, secret=""):
    """POST a raw message to /inbound/email/<secret>/ or with the secret in the
    X-Inbound-Secret header. 202 with what became of it; 400 with the reason."""
    given = secret or request.headers.get("X-Inbound-Secret", "")
    expected = AccountSettings.cached().inbound_secret
    if not given or not secrets.compare_digest(given.encode(), expected.encode()):
        return JsonResponse({"detail": "Not found."}, status=404)
    if int(request.headers.get("Content-Length") or 0) > MAX_MESSAGE_BYTES:
        return JsonResponse({"detail": "The message is larger than 10 MB."}, status=413)
    raw = _raw_message(request)
    if len(raw) > MAX_MESSAGE_BYTES:
        return JsonResponse({"detail": "The message is larger than 10 MB."}, status=413)
    try:
        message, new = inbound.receive(raw)
    except inbound.NotAnEmail as exc:
        return JsonResponse({"detail": f"Not an e-mail message: {exc}."}, status=400)
    status = "duplicate" if not new else ("matched" if message.customer_id else "inbox")
    return JsonResponse({"status": status, "matched_by": message.matched_by}, status=202)


class AssignForm(forms.Form):
    customer = forms.CharField(
        label=gettext_lazy("Customer"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e-mail, id or name")}),
    )

    def clean_customer(self):
        return find_customer(self.cleaned_data["customer"])


@require_GET
@login_required
def inbox(request):
    """Messages that matched no customer, newest first, each with "assign to"."""
    waiting = InboundEmail.objects.filter(customer__isnull=True, dismissed=False)
    page = Paginator(waiting, 25).get_page(request.GET.get("page"))
    context = {"page": page, "form": AssignForm(), "inbound_url": inbound_url()}
    return render(request, "customers/inbox.html", context)


def inbound_url() -> str:
    secret = AccountSettings.cached().inbound_secret
    return f"{settings.SITE_URL}{reverse('inbound-email-secret', args=[secret])}"


@require_POST
@login_required
def assign(request, message_id):
    message = get_object_or_404(InboundEmail, pk=message_id, customer__isnull=True)
    form = AssignForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("inbox")
    customer = form.cleaned_data["customer"]
    inbound.assign(message, customer)
    messages.success(request, _("Filed under %(customer)s.") % {"customer": customer})
    return redirect("inbox")


@require_POST
@login_required
def dismiss(request, message_id):
    """Not a customer's message (a newsletter, spam): out of the inbox, kept."""
    InboundEmail.objects.filter(pk=message_id, customer__isnull=True).update(dismissed=True)
    if request.htmx:
        return HttpResponse("")
    return redirect("inbox")
