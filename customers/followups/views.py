"""The follow-up queue: whom to contact, why, and what is at stake; done and snooze inline."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from customers.models import FollowUp, FollowUpRule

from . import actions

DUE_CHOICES = [
    ("", gettext_lazy("Any time")),
    ("overdue", gettext_lazy("Overdue")),
    ("today", gettext_lazy("Due by today")),
    ("week", gettext_lazy("Due within a week")),
]


class QueueFilter(forms.Form):
    rule = forms.ChoiceField(
        choices=[("", gettext_lazy("All reasons")), *FollowUpRule.choices], required=False
    )
    due = forms.ChoiceField(choices=DUE_CHOICES, required=False)


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


def _queue(filters: QueueFilter):
    items = FollowUp.objects.open_for_today().select_related("customer")
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


@require_GET
@login_required
@vary_on_headers("HX-Request")  # one URL, page or fragment: caches must tell them apart
def queue(request):
    filters = QueueFilter(request.GET)
    page = Paginator(_queue(filters), 25).get_page(request.GET.get("page"))
    context = {"filters": filters, "page": page, "today": timezone.localdate()}
    if request.htmx and request.htmx.target == "queue-more":
        return render(request, "followups/partials/_queue_items.html", context)
    if request.htmx:
        return render(request, "followups/partials/_queue.html", context)
    return render(request, "followups/queue.html", context)


def _item(request, item):
    """The item as it now stands (replaces it in the queue)."""
    context = {"item": item, "today": timezone.localdate()}
    return render(request, "followups/partials/_queue_item.html", context)


@require_POST
@login_required
def done(request, item_id):
    item = get_object_or_404(FollowUp.objects.select_related("customer"), pk=item_id)
    form = DoneForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if item.status != "done":
        actions.complete_followup(item, note)
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
