"""The customer list (search, filters, sort, bulk actions) and each customer's page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from cs_platform import charts
from cs_platform.csv_export import streaming_csv
from metrics.models import CustomerScore, ScoringRun

from .. import actions, inbound, timeline
from ..dashboard.kpis import health_parts
from ..imports.formats import CUSTOMER_COLUMNS, EXPORTED_SCORES
from ..listing import PAGE_SIZE, SEARCH_COUNT_CAP, CustomerFilter, listed_customers
from ..models import Customer, InteractionKind


class BulkForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    action = forms.ChoiceField(choices=[("tag", "tag"), ("survey", "survey")])
    tag = forms.CharField(required=False, max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(v, v) for v in self.data.getlist("ids")]

    def clean(self):
        data = super().clean()
        if data.get("action") == "tag" and not data.get("tag", "").strip():
            raise forms.ValidationError(_("Type a tag to add."))
        return data


@require_GET
@login_required
@vary_on_headers("HX-Request")  # one URL, page or fragment: caches must tell them apart
def customer_list(request):
    run = ScoringRun.objects.current()
    filters = CustomerFilter(request.GET)
    customers, scored_only, count = listed_customers(filters, run)
    paginator = Paginator(customers, PAGE_SIZE)
    if count is not None:
        paginator.count = count  # known without the join (shadows the cached property)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "unscored": Customer.objects.filter(created_at__gte=run.started_at)
        .exclude(scores__run=run)
        .count()
        if scored_only
        else 0,
        "filters": filters,
        "page": page,
        "run": run,
        "segments": sorted((run.summary.get("segments") or {}) if run else []),
        "query": filters.query_string(),
        "capped": bool(filters.is_valid() and filters.cleaned_data["q"])
        and count is not None
        and count > SEARCH_COUNT_CAP,
    }
    template = "customers/partials/_customer_rows.html" if request.htmx else "customers/list.html"
    return render(request, template, context)


@require_POST
@login_required
def bulk_action(request):
    form = BulkForm(request.POST)
    kept = CustomerFilter(QueryDict(request.POST.get("query", ""))).query_string()
    back = f"{reverse('customers')}?{kept}"
    if not form.is_valid():
        messages.error(request, _("Choose customers and an action."))
        return redirect(back)
    ids = form.cleaned_data["ids"]
    if form.cleaned_data["action"] == "tag":
        tag = form.cleaned_data["tag"].strip()
        changed = actions.tag_customers(ids, tag)
        messages.success(
            request, _("Tagged %(n)d customers with “%(tag)s”.") % {"n": changed, "tag": tag}
        )
        return redirect(back)
    request.session["survey_audience"] = ids
    return redirect("survey-send-picked")


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What"),
        choices=[
            (InteractionKind.NOTE, gettext_lazy("Note")),
            (InteractionKind.CALL, gettext_lazy("Call")),
            (InteractionKind.EMAIL, gettext_lazy("Email")),
            (InteractionKind.MEETING, gettext_lazy("Meeting")),
        ],
    )
    subject = forms.CharField(label=gettext_lazy("Summary"), max_length=300)
    body = forms.CharField(
        label=gettext_lazy("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CustomerForm(forms.ModelForm):
    tags_text = forms.CharField(
        label=gettext_lazy("Tags"),
        required=False,
        help_text=gettext_lazy("Separate tags with commas."),
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "email",
            "company",
            "locale",
            "plan",
            "mrr",
            "subscription_ends_on",
            "lifecycle_stage",
            "survey_opt_out",
        ]
        widgets = {"subscription_ends_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags_text"].initial = ", ".join(self.instance.tags or [])

    def save(self, commit=True):
        self.instance.tags = [
            t.strip() for t in self.cleaned_data["tags_text"].split(",") if t.strip()
        ]
        return super().save(commit)


def _score_history(customer: Customer):
    rows = (
        CustomerScore.objects.filter(customer=customer, run__status="succeeded")
        .order_by("as_of")
        .values_list("as_of", "health")
    )
    return charts.line([(day.strftime("%m-%d"), health) for day, health in rows], low=0, high=100)


@require_GET
@login_required
def customer_detail(request, customer_id):
    customer = get_object_or_404(Customer, pk=customer_id)
    score = (
        CustomerScore.objects.filter(customer=customer, run__is_current=True)
        .select_related("run")
        .first()
    )
    events, more = timeline.page(customer, before=None)
    context = {
        "customer": customer,
        "score": score,
        "parts": health_parts(score.components) if score else [],
        "history": _score_history(customer),
        "events": events,
        "more": more,
        "note_form": NoteForm(),
        "open_followups": customer.followups.not_done(),
        "last_contact": inbound.last_contact(customer),
        "enrolments": customer.enrolments.select_related("playbook")[:10],
    }
    return render(request, "customers/detail.html", context)


@require_GET
@login_required
def customer_timeline(request, customer_id):
    """The next page of the timeline (HTMX, loaded when the end of the list scrolls in)."""
    customer = get_object_or_404(Customer, pk=customer_id)
    before = timeline.parse_cursor(request.GET.get("before", ""))
    events, more = timeline.page(customer, before=before)
    return render(
        request,
        "customers/partials/_timeline.html",
        {"customer": customer, "events": events, "more": more},
    )


@require_POST
@login_required
def add_note(request, customer_id):
    customer = get_object_or_404(Customer, pk=customer_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        actions.log_interaction(customer, **form.cleaned_data)
        form = NoteForm()
        saved = True
    else:
        saved = False
    if request.htmx:
        events, more = timeline.page(customer, before=None)
        return render(
            request,
            "customers/partials/_note_and_timeline.html",
            {
                "customer": customer,
                "note_form": form,
                "events": events,
                "more": more,
                "saved": saved,
            },
        )
    if saved:
        messages.success(request, _("Saved on the timeline."))
    return redirect("customer", customer_id=customer.pk)


@require_http_methods(["GET", "POST"])
@login_required
def edit_customer(request, customer_id):
    customer = get_object_or_404(Customer, pk=customer_id)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Customer saved."))
        return redirect("customer", customer_id=customer.pk)
    return render(request, "customers/edit.html", {"customer": customer, "form": form})


@require_GET
@login_required
def export_personal_data(request, customer_id):
    customer = get_object_or_404(Customer, pk=customer_id)
    response = JsonResponse(actions.personal_data(customer), json_dumps_params={"indent": 2})
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-{stamp}.json"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def delete_customer(request, customer_id):
    customer = get_object_or_404(Customer, pk=customer_id)
    if request.method == "POST":
        if request.POST.get("confirm") != customer.external_id:
            messages.error(request, _("Type the external id exactly to confirm."))
            return redirect("customer-delete", customer_id=customer.pk)
        name = str(customer)
        actions.delete_customer(customer)
        messages.success(request, _("Deleted %(name)s and all their data.") % {"name": name})
        return redirect("customers")
    return render(request, "customers/delete.html", {"customer": customer})


@require_GET
@login_required
def export_customers(request):
    """The list as filtered and sorted on the page: the import's columns (an export
    re-imports unchanged), then the current run's scores."""
    run = ScoringRun.objects.current()
    customers, _by_score, _count = listed_customers(CustomerFilter(request.GET), run)
    scores = EXPORTED_SCORES if run is not None else []
    tags = CUSTOMER_COLUMNS.index("tags")
    rows = (
        [*row[:tags], "; ".join(row[tags] or []), *row[tags + 1 :]]
        + [""] * (len(EXPORTED_SCORES) - len(scores))
        for row in customers.values_list(*CUSTOMER_COLUMNS, *scores).iterator(chunk_size=5000)
    )
    header = CUSTOMER_COLUMNS + EXPORTED_SCORES
    return streaming_csv(f"customers-{timezone.localdate():%Y-%m-%d}.csv", header, rows)
