"""The follow-up queue: whom to contact, why, and what is at stake; done and snooze inline;
e-mail from an item and the rules' e-mail templates."""

import smtplib
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from cs_platform.filters import LenientFilterForm
from customers.listing import find_customer
from customers.models import (
    TEMPLATE_CHOICES,
    Customer,
    EmailTemplate,
    FollowUp,
    FollowUpRule,
    FollowUpStatus,
    InboundEmail,
)
from customers.playbooks import actions as playbook_actions
from customers.playbooks import links
from metrics.models import AccountSettings

from . import actions
from . import email as outreach
from . import today as today_queue

DUE_CHOICES = [
    ("", gettext_lazy("Any time")),
    ("overdue", gettext_lazy("Overdue")),
    ("today", gettext_lazy("Due by today")),
    ("week", gettext_lazy("Due within a week")),
]


class QueueFilter(LenientFilterForm):
    rule = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=[("", gettext_lazy("All reasons")), *FollowUpRule.choices],
        required=False,
    )
    due = forms.ChoiceField(label=gettext_lazy("Due"), choices=DUE_CHOICES, required=False)


class DoneForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000)


class SnoozeForm(forms.Form):
    days = forms.TypedChoiceField(choices=[(1, 1), (7, 7)], coerce=int, required=False)
    until = forms.DateField(required=False)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        until = data.get("until") or (
            today + timedelta(days=data["days"]) if data.get("days") else None
        )
        if until is None or until <= today:
            raise forms.ValidationError(_("Choose a day after today."))
        data["until"] = until
        return data


class AddForm(forms.Form):
    """The owner's own follow-up. On the queue the customer is named (e-mail, id or
    name); on a customer page it is that customer."""

    customer = forms.CharField(
        label=gettext_lazy("Customer"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e-mail, id or name")}),
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)
    due = forms.DateField(label=gettext_lazy("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=gettext_lazy("Note (optional)"), required=False, max_length=300)

    def clean_customer(self):
        return find_customer(self.cleaned_data["customer"])

    def clean_due(self):
        due = self.cleaned_data["due"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        return due


class EmailForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 14})
    )


class TemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["subject_en", "body_en", "subject_zh", "body_zh"]
        widgets = {
            "body_en": forms.Textarea(attrs={"rows": 8}),
            "body_zh": forms.Textarea(attrs={"rows": 8}),
        }


def _filtered(items, filters: QueueFilter):
    if not filters.is_valid():
        return items
    today = timezone.localdate()
    if rule := filters.cleaned_data["rule"]:
        items = items.filter(rule=rule)
    due = filters.cleaned_data["due"]
    if due == "overdue":
        items = items.filter(due__lt=today)
    elif due == "today":
        items = items.filter(due__lte=today)
    elif due == "week":
        items = items.filter(due__lte=today + timedelta(days=7))
    return items


def _counts(request, shown: int, waiting: int) -> dict:
    """Today's and the later count, for the page and for in-place updates (the badge's
    context processor reuses today's instead of counting again)."""
    request.followups_today = shown
    return {"later_count": waiting, "capacity": AccountSettings.cached().daily_capacity}


@require_GET
@login_required
@vary_on_headers("HX-Request")  # one URL, page or fragment: caches must tell them apart
def queue(request):
    filters = QueueFilter(request.GET)
    todays, later, shown, waiting = today_queue.split()
    page = Paginator(_filtered(later, filters), 25).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "add_form": AddForm(initial={"due": timezone.localdate()}),
        "todays": _filtered(todays, filters),
        "page": page,
        "today": timezone.localdate(),
        "filtered": filters.is_valid() and any(filters.cleaned_data.values()),
        "inbox_count": InboundEmail.objects.filter(customer__isnull=True, dismissed=False).count(),
        **_counts(request, shown, waiting),
    }
    if request.htmx and request.htmx.target == "queue-more":
        return render(request, "followups/partials/_queue_items.html", context)
    if request.htmx:
        return render(request, "followups/partials/_queue.html", context)
    return render(request, "followups/queue.html", context)


@require_POST
@login_required
def add(request):
    """Add the owner's own follow-up, from the queue or a customer's page."""
    form = AddForm(request.POST)
    back = request.POST.get("back") == "customer"
    if form.is_valid():
        data = form.cleaned_data
        actions.add_followup(data["customer"], data["reason"], data["due"], data["note"])
        messages.success(
            request, _("Follow-up added: %(customer)s") % {"customer": data["customer"]}
        )
        return redirect("customer", data["customer"].pk) if back else redirect("followups")
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
    if back and (customer := form.cleaned_data.get("customer")):
        return redirect("customer", customer.pk)
    return redirect("followups")


@require_http_methods(["GET", "POST"])
@login_required
def email(request, item_id):
    """The rule's e-mail, filled in for this customer; the owner edits and sends it."""
    item = get_object_or_404(FollowUp.objects.select_related("customer"), pk=item_id)
    account = AccountSettings.cached()
    sender, owner = outreach.sender_from(account, request.user)
    if not item.customer.email:
        messages.error(request, _("This customer has no e-mail address."))
        return redirect("customer", item.customer_id)
    if item.status == FollowUpStatus.DONE:
        messages.info(request, _("This follow-up is done already."))
        return redirect("customer", item.customer_id)
    draft = outreach.draft(item, owner, account.business_name)
    pending = playbook_actions.pending_draft(item)  # a playbook's e-mail to approve
    if pending is not None:
        draft = outreach.Draft(draft.language, pending.subject, pending.body)
    form = EmailForm(request.POST or None, initial={"subject": draft.subject, "body": draft.body})
    if request.method == "POST" and form.is_valid():
        subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
        try:
            if pending is None:
                outreach.send(item, subject, body, sender)
            else:
                unsubscribe = links.unsubscribe_url(item.customer)
                sent = outreach.send(item, subject, body, sender, unsubscribe_url=unsubscribe)
                playbook_actions.resolve_draft(pending, sent)
        except (smtplib.SMTPException, OSError) as exc:
            messages.error(request, _("The e-mail could not be sent: %(why)s") % {"why": exc})
        else:
            messages.success(
                request, _("E-mail sent to %(customer)s.") % {"customer": item.customer}
            )
            return redirect("followups")
    context = {"item": item, "form": form, "draft": draft, "sender": sender}
    return render(request, "followups/email.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def templates(request):
    """Each rule's e-mail in English and Chinese, with the merge fields and a preview."""
    forms_by_rule = []
    for rule, label in TEMPLATE_CHOICES:
        stored = EmailTemplate.objects.filter(rule=rule).first() or EmailTemplate(rule=rule)
        posted = request.method == "POST" and request.POST.get("rule") == rule
        form = TemplateForm(request.POST if posted else None, instance=stored, prefix=rule)
        if posted and form.is_valid():
            form.save()
            messages.success(request, _("Template saved: %(rule)s") % {"rule": label})
            return redirect(f"{reverse('followup-templates')}#template-{rule}")
        defaults = {
            "en": outreach.template_for(rule, "en"),
            "zh": outreach.template_for(rule, "zh"),
        }
        forms_by_rule.append((rule, label, form, defaults))
    context = {"forms": forms_by_rule, "fields": outreach.MERGE_FIELDS}
    return render(request, "followups/templates.html", context)


@require_POST
@login_required
def template_preview(request):
    """The template as typed, filled in for a real customer of that rule (HTMX)."""
    rule, language = request.POST.get("rule", ""), request.POST.get("language", "en")
    item = FollowUp.objects.select_related("customer").filter(rule=rule).order_by("-id").first()
    customer = item.customer if item else Customer.objects.order_by("-id").first()
    if customer is None:
        return HttpResponse(_("No customer yet to preview with."))
    account = AccountSettings.cached()
    _sender, owner = outreach.sender_from(account, request.user)
    if item is not None:
        fields = outreach.merge_fields(item, owner, account.business_name)
    else:
        fields = outreach.customer_fields(
            customer, owner, account.business_name, why_link=links.why_url(customer)
        )
    default_subject, default_body = outreach.template_for(rule, language)
    suffix = "zh" if language.startswith("zh") else "en"
    subject = request.POST.get(f"{rule}-subject_{suffix}") or default_subject
    body = request.POST.get(f"{rule}-body_{suffix}") or default_body
    context = {
        "customer": customer,
        "subject": outreach.fill(subject, fields),
        "body": outreach.fill(body, fields),
    }
    return render(request, "followups/partials/_email_preview.html", context)


def _item(request, item):
    """The item as it now stands (replaces it in the queue), and the counts in the
    navigation and on the queue page brought up to date in place."""
    context = {
        "item": item,
        "today": timezone.localdate(),
        "oob": True,
        **_counts(request, *today_queue.count()),
    }
    return render(request, "followups/partials/_queue_item.html", context)


@require_POST
@login_required
def done(request, item_id):
    item = get_object_or_404(FollowUp.objects.select_related("customer"), pk=item_id)
    form = DoneForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if item.status != "done":
        actions.complete_followup(item, note)
        if pending := playbook_actions.pending_draft(item):  # closed without sending it
            playbook_actions.resolve_draft(pending, sent=None)
    if request.htmx:
        return _item(request, item)
    messages.success(request, _("Marked done: %(customer)s") % {"customer": item.customer})
    return redirect("followups")


@require_POST
@login_required
def snooze(request, item_id):
    item = get_object_or_404(FollowUp.objects.select_related("customer"), pk=item_id)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return HttpResponse(form.non_field_errors().as_text(), status=400)
        messages.error(request, form.non_field_errors().as_text())
        return redirect("followups")
    actions.snooze_followup(item, form.cleaned_data["until"])
    if request.htmx:
        return _item(request, item)
    messages.success(request, _("Snoozed: %(customer)s") % {"customer": item.customer})
    return redirect("followups")


@require_POST
@login_required
def reopen(request, item_id):
    """Undo a snooze: the item is back in today's queue."""
    item = get_object_or_404(FollowUp.objects.select_related("customer"), pk=item_id)
    actions.reopen_followup(item)
    if request.htmx:
        return _item(request, item)
    messages.success(request, _("Back in the queue: %(customer)s") % {"customer": item.customer})
    return redirect("followups")
