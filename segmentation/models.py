from django.db import models
from django.utils import timezone

from customers.models import Customer


class SavedSegment(models.Model):
    """A named filter over customers, usable as a survey audience.

    `filters` keys: search, lifecycle_stage, plan, tag, health_band, rfm_segment,
    behaviour, cluster, min_clv, min_churn (score filters use the current run).
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def customers(self):
        return filter_customers(Customer.objects.all(), self.filters)


SCORE_FILTERS = {
    "health_band": "health_band",
    "rfm_segment": "rfm_segment",
    "behaviour": "behaviour",
    "cluster": "cluster",
    "min_clv": "clv__gte",
    "min_churn": "churn_probability__gte",
}


def filter_customers(queryset, filters: dict):
    """Apply saved-segment filters to a Customer queryset."""
    from metrics.models import CustomerScore, ScoringRun

    if text := filters.get("search"):
        queryset = queryset.search(text)
    for field in ("lifecycle_stage", "plan"):
        if value := filters.get(field):
            queryset = queryset.filter(**{field: value})
    if tag := filters.get("tag"):
        queryset = queryset.with_tag(tag)
    score_lookups = {
        SCORE_FILTERS[k]: v
        for k, v in filters.items()
        if k in SCORE_FILTERS and v not in ("", None)
    }
    if score_lookups:
        run = ScoringRun.objects.current()
        if run is None:
            return queryset.none()
        ids = CustomerScore.objects.filter(run=run, **score_lookups).values("customer_id")
        queryset = queryset.filter(id__in=ids)
    return queryset
