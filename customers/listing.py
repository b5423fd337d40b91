"""Which customers the list shows: the filter form and the query behind it, shared by
the customer list and saved segments (a segment is a saved set of these filters)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.db.models import F, FilteredRelation, Q
from django.utils.translation import gettext_lazy

from .models import Customer, LifecycleStage

PAGE_SIZE = 50
SORTS = {
    "value_at_risk": ("-value_at_risk", gettext_lazy("Value at risk")),
    "clv": ("-clv", gettext_lazy("CLV, highest first")),
    "churn": ("-churn_probability", gettext_lazy("Churn risk, highest first")),
    "health": ("health", gettext_lazy("Health, lowest first")),
    "-health": ("-health", gettext_lazy("Health, highest first")),
    "contact": ("-days_since_contact", gettext_lazy("Longest without contact")),
    "-contact": ("days_since_contact", gettext_lazy("Most recently contacted")),
    "name": ("name", gettext_lazy("Name")),
}
NPS_GROUPS = {
    "promoter": Q(last_nps__gte=9),
    "passive": Q(last_nps__gte=7, last_nps__lte=8),
    "detractor": Q(last_nps__lte=6),
    "none": Q(last_nps__isnull=True),
}


class CustomerFilter(forms.Form):
    q = forms.CharField(required=False, label=gettext_lazy("Search"))
    health = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Health"),
        choices=[
            ("", gettext_lazy("Any")),
            ("green", gettext_lazy("Green")),
            ("yellow", gettext_lazy("Yellow")),
            ("red", gettext_lazy("Red")),
        ],
    )
    segment = forms.CharField(required=False, label=gettext_lazy("Segment"))
    stage = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Lifecycle stage"),
        choices=[("", gettext_lazy("Any")), *LifecycleStage.choices],
    )
    plan = forms.CharField(required=False, label=gettext_lazy("Plan"))
    tag = forms.CharField(required=False, label=gettext_lazy("Tag"))
    nps = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Last NPS"),
        choices=[
            ("", gettext_lazy("Any")),
            ("promoter", gettext_lazy("Promoter (9–10)")),
            ("passive", gettext_lazy("Passive (7–8)")),
            ("detractor", gettext_lazy("Detractor (0–6)")),
            ("none", gettext_lazy("Never answered")),
        ],
    )
    sort = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Sort by"),
        choices=[(key, label) for key, (_field, label) in SORTS.items()],
    )

    def active(self) -> dict:
        """The filters in use (what a saved segment stores)."""
        return {k: v for k, v in self.cleaned_data.items() if v} if self.is_valid() else {}

    def query_string(self) -> str:
        return urlencode(self.active())


SCORE_FILTERS = ("health", "segment", "nps")


def filtered_customers(filters: CustomerFilter, run):
    """Customers with their scores from `run` (a LEFT JOIN, so customers imported since
    the last run are listed too), filtered and sorted. Score filters match nobody
    before the first run."""
    customers = Customer.objects.all()
    if run is not None:
        customers = customers.annotate(
            score=FilteredRelation("scores", condition=Q(scores__run_id=run.pk))
        ).annotate(
            health=F("score__health"),
            health_band=F("score__health_band"),
            clv=F("score__clv"),
            churn_probability=F("score__churn_probability"),
            value_at_risk=F("score__value_at_risk"),
            rfm_segment=F("score__rfm_segment"),
            last_nps=F("score__last_nps"),
            days_since_contact=F("score__days_since_contact"),
        )
    if not filters.is_valid():
        return customers.order_by("name", "id")
    data = filters.cleaned_data
    if data["q"]:
        customers = customers.search(data["q"])
    if data["stage"]:
        customers = customers.filter(lifecycle_stage=data["stage"])
    if data["plan"]:
        customers = customers.filter(plan=data["plan"])
    if data["tag"]:
        customers = customers.with_tag(data["tag"])
    if run is None and any(data[name] for name in SCORE_FILTERS):
        return customers.none()
    if run is not None:
        if data["health"]:
            customers = customers.filter(health_band=data["health"])
        if data["segment"]:
            customers = customers.filter(rfm_segment=data["segment"])
        if data["nps"]:
            customers = customers.filter(NPS_GROUPS[data["nps"]])
    sort = data["sort"] or ("value_at_risk" if run else "name")
    field = SORTS[sort][0] if run or sort == "name" else "name"
    descending = field.startswith("-")
    order = F(field.lstrip("-"))
    order = order.desc(nulls_last=True) if descending else order.asc(nulls_last=True)
    return customers.order_by(order, "id")
