"""Owner-side survey pages (login required): the list with what became of each
sending, create/edit, send with a preview of who is skipped and why, and results."""

from collections import Counter
from urllib.parse import urlencode

import pandas as pd
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from cs_platform import charts
from cs_platform.csv_export import streaming_csv
from customers.listing import churned_customers, segment_customers
from customers.models import Customer
from metrics.feedback_scores import FEW_ANSWERS
from metrics.models import AccountSettings
from metrics.tables import local_naive
from segmentation.models import SavedSegment

from .models import Survey, SurveyResponse, SurveySend
from .results import filter_comments, summarise
from .scales import group as score_group
from .sending import SKIP_REASONS, eligibility
from .tasks import start_send

GROUP_LABELS = {
    "promoter": gettext_lazy("Promoters (9–10)"),
    "passive": gettext_lazy("Passives (7–8)"),
    "detractor": gettext_lazy("Detractors (0–6)"),
    "satisfied": gettext_lazy("Satisfied (4–5)"),
    "neutral": gettext_lazy("Neutral"),
    "unsatisfied": gettext_lazy("Unsatisfied (1–2)"),
    "easy": gettext_lazy("Easy (1–3)"),
    "hard": gettext_lazy("Hard (5–7)"),
}
SKIP_LABELS = {
    "no_email": gettext_lazy("no e-mail address"),
    "unsubscribed": gettext_lazy("unsubscribed"),
    "opted_out": gettext_lazy("opted out"),
    "churned": gettext_lazy("churned (tick “include churned customers” to send to them)"),
    "recently_surveyed": gettext_lazy("surveyed within the recontact window"),
}

COLUMNS = [
    "customer__name",
    "customer__email",
    "score",
    "comment",
    "sentiment",
    "language",
    "responded_at",
]


def _responses(survey: Survey) -> pd.DataFrame:
    rows = SurveyResponse.objects.filter(invitation__survey=survey).values(*COLUMNS)
    frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
    if len(frame):
        frame["responded_at"] = local_naive(frame["responded_at"])  # months in the owner's zone
    return frame


@require_GET
@login_required
def results_data(request, survey_id):
    """JSON of the results (scores with margins, trend, distribution, response rate, themes)."""
    survey = get_object_or_404(Survey, pk=survey_id)
    invited = survey.invitations.filter(sent_at__isnull=False).count()
    return JsonResponse(summarise(survey.kind, _responses(survey), invited))


@require_GET
@login_required
def export_responses(request, survey_id):
    """Answers as CSV (formula-safe); ?group=detractor&mood=negative filter comments."""
    survey = get_object_or_404(Survey, pk=survey_id)
    responses = _responses(survey)
    group, mood = request.GET.get("group", ""), request.GET.get("mood", "")
    if group or mood:
        responses = (
            filter_comments(responses, survey.kind, group, mood) if len(responses) else responses
        )
    header = [column.removeprefix("customer__") for column in COLUMNS]
    rows = responses[COLUMNS].itertuples(index=False, name=None)
    return streaming_csv(f"survey-{survey.pk}-responses.csv", header, rows)


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = [
            "name",
            "kind",
            "question_en",
            "question_zh",
            "followup_en",
            "followup_zh",
            "recontact_days",
            "link_days",
            "reminder_days",
        ]

    def clean(self):
        data = super().clean()
        reminder, link = data.get("reminder_days"), data.get("link_days")
        if reminder and link is not None and reminder >= link:
            self.add_error("reminder_days", _("The reminder must go out before the link expires."))
        return data


@require_GET
@login_required
def survey_list(request):
    surveys = Survey.objects.annotate(
        sent=Count("invitations", filter=Q(invitations__sent_at__isnull=False)),
        opened=Count("invitations", filter=Q(invitations__opened_at__isnull=False)),
        answered=Count("invitations", filter=Q(invitations__responded_at__isnull=False)),
    )
    skipped = Counter()
    for survey_id, reasons in SurveySend.objects.values_list("survey_id", "skipped"):
        skipped[survey_id] += sum(reasons.values())
    rows = [(survey, skipped[survey.pk]) for survey in surveys]
    return render(request, "feedback/owner/list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@login_required
def survey_form(request, survey_id=None):
    survey = get_object_or_404(Survey, pk=survey_id) if survey_id else None
    initial = {}
    if survey is None:
        account = AccountSettings.load()
        initial = {
            "recontact_days": account.survey_recontact_days,
            "link_days": account.survey_link_days,
        }
    form = SurveyForm(request.POST or None, instance=survey, initial=initial)
    if request.method == "POST" and form.is_valid():
        survey = form.save()
        messages.success(request, _("Survey saved."))
        if not survey.has_chinese:
            chinese = Customer.objects.filter(locale__startswith="zh").count()
            messages.warning(
                request,
                ngettext(
                    "The survey has no complete Chinese text: %(n)s customer who reads Chinese "
                    "will get it wholly in English.",
                    "The survey has no complete Chinese text: %(n)s customers who read Chinese "
                    "will get it wholly in English.",
                    chinese,
                )
                % {"n": intcomma(chinese)},
            )
        return redirect("survey-detail", survey_id=survey.pk)
    return render(request, "feedback/owner/form.html", {"form": form, "survey": survey})


def _audience(request):
    """(customers queryset or None, label, choice) from audience=all|segment|picked|customer."""
    params = request.POST if request.method == "POST" else request.GET

    def number(name: str) -> int:
        value = params.get(name) or request.GET.get(name) or ""
        return int(value) if value.isdigit() else 0

    choice = params.get("audience", "")
    if choice == "segment":
        segment = SavedSegment.objects.filter(pk=number("segment")).first()
        if segment:
            return (
                segment_customers(segment),
                _("segment %(name)s") % {"name": segment.name},
                choice,
            )
    elif choice == "picked":
        ids = request.session.get("survey_audience") or []
        return (
            Customer.objects.filter(pk__in=ids),
            _("%(n)d picked customers") % {"n": len(ids)},
            choice,
        )
    elif choice == "customer":
        customer = Customer.objects.filter(pk=number("customer")).first()
        if customer:
            return Customer.objects.filter(pk=customer.pk), str(customer), choice
    elif choice == "all":
        return Customer.objects.all(), _("all customers"), choice
    return None, "", choice


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")  # one URL, page or fragment: caches must tell them apart
def survey_send(request, survey_id):
    """Choose an audience, see how many get it and who is skipped and why, then send.
    "Everyone eligible" leaves churned customers out unless asked, and is sent only
    when the owner confirms the count."""
    survey = get_object_or_404(Survey, pk=survey_id)
    customers, label, choice = _audience(request)
    params = request.POST if request.method == "POST" else request.GET
    everyone = choice == "all"
    include_churned = everyone and bool(params.get("include_churned"))
    preview = None
    if customers is not None:
        churned = churned_customers() if everyone and not include_churned else None
        eligible, skipped = eligibility(survey, customers, churned)
        confirmed = not everyone or params.get("confirm") == str(len(eligible))
        if request.method == "POST" and confirmed:
            with transaction.atomic():
                start_send(survey, label, eligible, skipped)
            messages.success(
                request,
                ngettext(
                    "Sending to %(n)s customer (%(skipped)s skipped).",
                    "Sending to %(n)s customers (%(skipped)s skipped).",
                    len(eligible),
                )
                % {"n": intcomma(len(eligible)), "skipped": intcomma(sum(skipped.values()))},
            )
            return redirect("survey-detail", survey_id=survey.pk)
        if request.method == "POST":
            messages.error(request, _("Tick the box that confirms how many customers get it."))
        preview = {
            "label": label,
            "eligible": len(eligible),
            "skipped": [(SKIP_LABELS[r], skipped[r]) for r in SKIP_REASONS if skipped[r]],
            "confirm": everyone,
            "confirmed": everyone and confirmed,
        }
    context = {
        "survey": survey,
        "preview": preview,
        "choice": choice,
        "include_churned": include_churned,
        "segments": SavedSegment.objects.all(),
        "segment_id": request.GET.get("segment", ""),
        "picked": len(request.session.get("survey_audience") or []),
        "customer_id": request.GET.get("customer", ""),
    }
    template = "feedback/owner/_preview.html" if request.htmx else "feedback/owner/send.html"
    return render(request, template, context)


def _send_latest(request, **audience):
    """Open a survey's send page with this audience chosen; with several surveys, ask
    which one first."""
    surveys = list(Survey.objects.annotate(sent=Count("sends")).order_by("-created_at")[:50])
    if not surveys:
        messages.error(request, _("Create a survey first."))
        return redirect("survey-create")
    query = urlencode(audience)
    if len(surveys) == 1:
        return redirect(f"{reverse('survey-send', args=[surveys[0].pk])}?{query}")
    return render(request, "feedback/owner/choose.html", {"surveys": surveys, "query": query})


@require_GET
@login_required
def send_segment(request, segment_id):
    return _send_latest(request, audience="segment", segment=segment_id)


@require_GET
@login_required
def send_picked(request):
    return _send_latest(request, audience="picked")


@require_GET
@login_required
def send_customer(request, customer_id):
    return _send_latest(request, audience="customer", customer=customer_id)


COMMENTS_PER_PAGE = 50


@require_GET
@login_required
@vary_on_headers("HX-Request")  # one URL, page or fragment: caches must tell them apart
def survey_detail(request, survey_id):
    """Results: score with its margin, breakdown, trend, distribution, response rate,
    comments with sentiment (filterable), themes, and each sending's outcome. The
    comment filter (HTMX) gets only the comments, not the whole summary again."""
    survey = get_object_or_404(Survey, pk=survey_id)
    responses = _responses(survey)
    group, mood = request.GET.get("group", ""), request.GET.get("mood", "")
    matching = filter_comments(responses, survey.kind, group, mood) if len(responses) else responses
    page = Paginator(matching, COMMENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "survey": survey,
        "page": page,
        "comments": page.object_list.to_dict(orient="records"),
        "comment_query": urlencode({k: v for k, v in (("group", group), ("mood", mood)) if v}),
    }
    if request.htmx and request.htmx.target == "comments-more":
        return render(request, "feedback/owner/_comment_items.html", context)
    if request.htmx:
        return render(request, "feedback/owner/_comments.html", context)
    invited = survey.invitations.filter(sent_at__isnull=False).count()
    result = summarise(survey.kind, responses, invited)
    key = survey.kind
    low, high = survey.scale
    context |= {
        "result": result,
        "few_answers": FEW_ANSWERS,
        "score": (result["score"] or {}).get(key) if result["score"] else None,
        "group": group,
        "mood": mood,
        "groups": [
            (g, GROUP_LABELS[g])
            for g in dict.fromkeys(score_group(key, s) for s in range(low, high + 1))
        ],
        "themes": [(GROUP_LABELS[g], terms) for g, terms in result["themes"].items()],
        "trend": charts.line(
            [(row["month"], row.get(key)) for row in result["trend"]],
            **({"low": -100, "high": 100} if key == "nps" else {}),
            fmt="{:.1f}" if key != "nps" else "{:.0f}",
        ),
        "distribution": charts.bars(
            [(str(s), result["distribution"].get(s, 0), "") for s in range(low, high + 1)],
            whole=True,
        ),
        "sends": survey.sends.with_outcomes()[:20],
        "skip_labels": SKIP_LABELS,
    }
    return render(request, "feedback/owner/detail.html", context)
