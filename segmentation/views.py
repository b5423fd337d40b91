"""Segments: the RFM grid, the clusters in words, and the owner's saved segments."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.listing import CustomerFilter, describe_filters, segment_customers
from metrics.models import ScoringRun

from .models import SavedSegment


def rfm_grid(cells: list[dict]) -> list[dict]:
    """5 × 5 rows (recency 5 = most recent, on top) of frequency cells 1..5, each with
    a shade 0..0.85 proportional to its customers (for the heat map)."""
    by_key = {(c["r"], c["f"]): c for c in cells or []}
    most = max((c["customers"] for c in cells or []), default=0) or 1
    empty = {"customers": 0, "revenue": 0.0}
    return [
        {
            "r": r,
            "cells": [
                {
                    **(cell := by_key.get((r, f), empty)),
                    "f": f,
                    "shade": round(0.85 * cell["customers"] / most, 3),
                }
                for f in range(1, 6)
            ],
        }
        for r in range(5, 0, -1)
    ]


@require_GET
@login_required
def segments(request):
    run = ScoringRun.objects.current()
    summary = run.summary if run else {}
    saved = [
        (s, describe_filters(s.filters), segment_customers(s).count())
        for s in SavedSegment.objects.all()
    ]
    clusters = (summary.get("clusters") or {}).get("groups", {})
    return render(
        request,
        "segmentation/segments.html",
        {
            "run": run,
            "grid": rfm_grid(summary.get("rfm_grid")),
            "named": sorted((summary.get("segments") or {}).items(), key=lambda kv: -kv[1]),
            "clusters": sorted(clusters.items(), key=lambda kv: -kv[1]["size"]),
            "silhouette": (summary.get("clusters") or {}).get("silhouette"),
            "saved": saved,
        },
    )


class SegmentForm(forms.ModelForm):
    class Meta:
        model = SavedSegment
        fields = ["name", "description"]
        labels = {"name": gettext_lazy("Name"), "description": gettext_lazy("Description")}


@require_http_methods(["GET", "POST"])
@login_required
def create_segment(request):
    """Save the customer list's current filters (passed in the query string)."""
    filters = CustomerFilter(request.GET)
    active = {k: v for k, v in filters.active().items() if k != "sort"}
    form = SegmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not active:
            messages.error(request, _("Choose some filters on the customer list first."))
            return redirect("customers")
        segment = form.save(commit=False)
        segment.filters = active
        segment.save()
        messages.success(request, _("Saved segment “%(name)s”.") % {"name": segment.name})
        return redirect("segments")
    return render(
        request,
        "segmentation/create.html",
        {"form": form, "filters": describe_filters(active), "query": filters.query_string()},
    )


@require_POST
@login_required
def delete_segment(request, segment_id):
    segment = get_object_or_404(SavedSegment, pk=segment_id)
    segment.delete()
    messages.success(request, _("Deleted segment “%(name)s”.") % {"name": segment.name})
    return redirect("segments")
