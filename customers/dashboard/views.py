"""The morning page: how healthy the base is, read from the last scoring run."""

from datetime import timedelta

import pandas as pd
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cs_platform import charts
from customers.followups import today as today_queue
from customers.models import ChurnReason, Customer, Order, OrderKind
from metrics import health
from metrics.models import ScoringRun

from . import kpis


def _earlier_run(run: ScoringRun) -> ScoringRun | None:
    """The comparison run: the latest successful one at least four weeks older."""
    return (
        ScoringRun.objects.filter(
            status=ScoringRun.Status.SUCCEEDED, as_of__lte=run.as_of - timedelta(days=28)
        )
        .only("summary", "as_of")
        .order_by("-as_of")
        .first()
    )


@require_GET
@login_required
def home(request):
    run = ScoringRun.objects.current()
    last_run = ScoringRun.objects.defer("fitted_state").order_by("-started_at").first()
    context = {"run": run, "last_run": last_run}
    if run:
        summary = run.summary
        earlier = _earlier_run(run)
        queue = today_queue.split()
        request.followups_today = queue.shown  # the badge: counted once
        histogram = summary.get("health_histogram") or []
        # Each 10-point bucket coloured by the band its lower edge fell in for this run.
        bands = health.band(
            pd.Series(range(0, 10 * len(histogram), 10), dtype=float),
            summary.get("health_thresholds"),
        )
        context.update(
            earlier=earlier,
            kpis=kpis.kpis(summary, earlier.summary if earlier else None),
            skipped=kpis.skipped(summary),
            churn_ranking=kpis.churn_ranking((run.model_metrics or {}).get("churn")),
            health_chart=charts.bars(
                [(f"{10 * i}", n, bands[i]) for i, n in enumerate(histogram)], whole=True
            ),
            nps_chart=charts.line(
                [(m["month"][2:], m["nps"]) for m in summary.get("nps_trend") or []],
                low=-100,
                high=100,
            ),
            revenue_chart=charts.bars(
                [(m["month"][2:], m["revenue"], "") for m in summary.get("revenue_by_month") or []]
            ),
            cohorts=kpis.cohort_rows(summary.get("cohorts")),
            cohort_months=range(13),
            bands=summary.get("health_bands") or {},
            followups=queue.todays[:5],
        )
    return render(request, "dashboard/home.html", context)


@require_GET
@login_required
def run_detail(request, run_id):
    run = get_object_or_404(ScoringRun.objects.defer("fitted_state"), pk=run_id)
    recent = ScoringRun.objects.defer("fitted_state", "summary").order_by("-started_at")[:20]
    return render(
        request,
        "dashboard/run_detail.html",
        {
            "run": run,
            "recent": recent,
            "title": _("Scoring run"),
            "skipped": kpis.skipped(run.summary),
            "churn_ranking": kpis.churn_ranking((run.model_metrics or {}).get("churn")),
            "bgnbd_problem": kpis.fit_problem((run.model_metrics or {}).get("bgnbd")),
            "gamma_gamma_problem": kpis.fit_problem((run.model_metrics or {}).get("gamma_gamma")),
        },
    )


@require_GET
@login_required
def revenue(request):
    """MRR movements per month, NRR, GRR, ARPA, CES and the loyalty coefficient, from
    the current run (docs/metrics.md#revenue)."""
    run = ScoringRun.objects.current()
    context: dict = {"run": run}
    if run is not None:
        summary = run.summary or {}
        earlier = _earlier_run(run)
        months = (summary.get("mrr") or [])[-12:]
        context.update(
            kpis=kpis.revenue_kpis(summary, earlier.summary if earlier else None),
            movements=kpis.MOVEMENTS,
            rows=kpis.movement_rows(months),
            chart=charts.stacked(
                [m["month"][2:] for m in months],
                [
                    (str(label), [m.get(key, 0.0) for m in months], css)
                    for key, label, css in kpis.MOVEMENTS
                ],
            ),
            mrr_chart=charts.bars([(m["month"][2:], m["mrr"], "") for m in months], labels=6),
        )
    context["lost_by_reason"] = lost_mrr_by_reason()
    return render(request, "dashboard/revenue.html", context)


def lost_mrr_by_reason() -> list[dict]:
    """The win-back answers: per reason for leaving, how many and the MRR they took with
    them (each one's last subscription payment, or their MRR if they still have one)."""
    last_payment = (
        Order.objects.filter(customer=OuterRef("pk"), kind=OrderKind.SUBSCRIPTION)
        .order_by("-occurred_at")
        .values("amount")[:1]
    )
    rows = (
        Customer.objects.exclude(churn_reason="")
        .annotate(lost=Coalesce(Subquery(last_payment), F("mrr")))
        .values("churn_reason")
        .annotate(customers=Count("pk"), mrr=Sum("lost"))
        .order_by("-mrr", "churn_reason")
    )
    labels = dict(ChurnReason.choices)
    return [{**row, "label": labels.get(row["churn_reason"], row["churn_reason"])} for row in rows]
