"""Which customers the list shows: the filter form and the query behind it, shared by
the customer list and saved segments (a segment is a saved set of these filters)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.db.models import F, FilteredRelation, Q
from django.utils.translation import gettext, gettext_lazy

from cs_platform.filters import LenientFilterForm
from feedback import scales
from metrics.models import CustomerScore, ScoringRun
from segmentation.models import SavedSegment

from .imports.formats import EXPORTED_SCORES
from .models import Customer, LifecycleStage

PAGE_SIZE = 50
SEARCH_COUNT_CAP = 1000  # a search counts its matches only this far ("1,000+")
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
    "promoter": Q(last_nps__gte=scales.PROMOTER_MIN),
    "passive": Q(last_nps__gte=scales.PASSIVE_MIN, last_nps__lt=scales.PROMOTER_MIN),
    "detractor": Q(last_nps__lte=scales.DETRACTOR_MAX),
    "none": Q(last_nps__isnull=True),
}


class CustomerFilter(LenientFilterForm):
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


SCORE_COLUMNS = [*EXPORTED_SCORES, "days_since_contact"]


def filtered_customers(filters: CustomerFilter, run, scored_only: bool = False):
    """Customers with their scores from `run`, filtered and sorted. A LEFT JOIN, so
    customers imported since the last run are included; with `scored_only` an INNER
    JOIN, which lets Postgres walk a score index in sort order. Score filters match
    nobody before the first run."""
    customers = Customer.objects.all()
    if run is not None and scored_only:
        # annotate() after filter() on the same relation reuses its (inner) join.
        customers = customers.filter(scores__run_id=run.pk).annotate(
            **{name: F(f"scores__{name}") for name in SCORE_COLUMNS}
        )
    elif run is not None:
        customers = customers.annotate(
            score=FilteredRelation("scores", condition=Q(scores__run_id=run.pk))
        ).annotate(**{name: F(f"score__{name}") for name in SCORE_COLUMNS})
    if not filters.is_valid():
        return customers.order_by("name", "id")
    data = filters.cleaned_data
    customers = _customer_filters(customers, data)
    if run is None and any(data[name] for name in SCORE_FILTERS):
        return customers.none()
    if run is not None and scored_only:
        customers = _score_filters(customers, data)
    elif run is not None and any(data[name] for name in SCORE_FILTERS):
        # A semi-join on the filtered scores: the planner then starts from the scores
        # instead of probing them once per customer.
        scored = _score_filters(run.scores.all(), data).values("customer_id")
        customers = customers.filter(id__in=scored)
    field = SORTS[effective_sort(data, run)][0]
    descending = field.startswith("-")
    order = F(field.lstrip("-"))
    order = order.desc(nulls_last=True) if descending else order.asc(nulls_last=True)
    return customers.order_by(order, "id")


def _customer_filters(customers, data: dict):
    if data["q"]:
        customers = customers.search(data["q"])
    if data["stage"]:
        customers = customers.filter(lifecycle_stage=data["stage"])
    if data["plan"]:
        customers = customers.filter(plan=data["plan"])
    if data["tag"]:
        customers = customers.with_tag(data["tag"])
    return customers


def _score_filters(rows, data: dict):
    """On customers annotated with their scores, or on CustomerScore rows themselves
    (the annotations carry the score fields' names)."""
    if data["health"]:
        rows = rows.filter(health_band=data["health"])
    if data["segment"]:
        rows = rows.filter(rfm_segment=data["segment"])
    if data["nps"]:
        rows = rows.filter(NPS_GROUPS[data["nps"]])
    return rows


def effective_sort(data: dict, run) -> str:
    """The chosen sort, else: by name when searching or before the first run, else by
    value at risk (the queue's order)."""
    if run is None:
        return "name"
    return data.get("sort") or ("name" if data.get("q") else "value_at_risk")


def listed_customers(filters: CustomerFilter, run):
    """What the list page shows: when sorted by a score, only the customers scored by
    `run`, walked in index order (fast at a million customers). Returns (customers,
    whether unscored customers were left out, the count if it is cheaper to know it
    without the join)."""
    data = filters.cleaned_data if filters.is_valid() else {}
    by_score = run is not None and effective_sort(data, run) != "name"
    customers = filtered_customers(filters, run, scored_only=by_score)
    return customers, by_score, _cheap_count(data, run, by_score, customers)


def _cheap_count(data: dict, run, by_score: bool, customers) -> int | None:
    """How many customers the list holds, without joining 1M customers to 1M scores when
    one table alone can say (None: let the paginator count the query itself)."""
    if data.get("q"):
        return customers.order_by()[: SEARCH_COUNT_CAP + 1].count()
    if not by_score:
        return None
    by_customer = any(data.get(k) for k in ("stage", "plan", "tag"))
    by_scores = any(data.get(k) for k in SCORE_FILTERS)
    if by_customer and by_scores:
        return None
    if by_scores or not by_customer:
        return _score_filters(run.scores.all(), data).count()
    matching = _customer_filters(Customer.objects.all(), data)
    unscored = matching.filter(created_at__gte=run.started_at).exclude(scores__run=run)
    return matching.count() - unscored.count()


def describe_filters(filters: dict) -> list[tuple[str, str]]:
    """A saved set of list filters in the owner's words: (label, value) pairs."""
    fields = CustomerFilter.base_fields
    described = []
    for name, value in filters.items():
        field = fields.get(name)
        if field is None:
            described.append((name, str(value)))
            continue
        choices = dict(getattr(field, "choices", None) or [])
        shown = choices.get(value, value)
        if name == "segment":
            shown = gettext(str(value))
        described.append((str(field.label), str(shown)))
    return described


def churned_customers() -> Q:
    """Who counts as churned (docs/metrics.md#active-inactive-churned): marked churned,
    or churned by the current run's behaviour."""
    by_behaviour = CustomerScore.objects.filter(run__is_current=True, behaviour="churned")
    return (
        Q(churned_at__isnull=False)
        | Q(lifecycle_stage=LifecycleStage.CHURNED)
        | Q(pk__in=by_behaviour.values("customer_id"))
    )


def segment_customers(segment: SavedSegment):
    """A saved segment's customers: its stored filters applied to the current run."""
    return filtered_customers(CustomerFilter(segment.filters), ScoringRun.objects.current())


def find_customer(text: str) -> Customer:
    """The one customer a person names by id, external id, e-mail or name (forms)."""
    text = text.strip()
    if text.isdigit() and (by_pk := Customer.objects.filter(pk=int(text)).first()):
        return by_pk
    matches = Customer.objects.filter(
        Q(external_id=text) | Q(email__iexact=text) | Q(name__iexact=text)
    )[:2]
    if not matches:
        raise forms.ValidationError(gettext("No customer has this e-mail, id or name."))
    if len(matches) > 1:
        raise forms.ValidationError(gettext("Several customers match: use the e-mail or id."))
    return matches[0]
