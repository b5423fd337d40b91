from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

from .health import DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS

DEFAULT_FOLLOWUP_RULES = {
    "detractor": {"enabled": True, "due_days": 2, "lookback_days": 14},
    "health_drop": {"enabled": True, "points": 20},
    "value_at_risk": {"enabled": True, "top_share": 0.05, "min_value": 50},
    "no_contact": {"enabled": True, "days": 60, "top_share": 0.1},
    "renewal": {"enabled": True, "days": 30},
    "onboarding": {"enabled": True, "days": [7, 30]},
    "ticket_open": {"enabled": True, "days": 3},
    "promoter": {"enabled": True, "lookback_days": 14},
}


def default_weights():
    return dict(DEFAULT_WEIGHTS)


def default_thresholds():
    return dict(DEFAULT_THRESHOLDS)


def default_rules():
    return {rule: dict(params) for rule, params in DEFAULT_FOLLOWUP_RULES.items()}


DISPLAY_CACHE_KEY = "account-display-settings"


class ScoringSettings(models.Model):
    """The owner's settings (one row): scoring knobs, follow-up rules, survey defaults,
    currency and time zone. Edited on /settings/."""

    health_weights = models.JSONField(default=default_weights)
    health_thresholds = models.JSONField(default=default_thresholds)
    horizon_days = models.PositiveIntegerField(
        default=90, help_text=_("Churn horizon and expected-purchases window, days.")
    )
    inactive_after_days = models.PositiveIntegerField(
        default=90, help_text=_("A buyer silent this long counts as churned.")
    )
    clv_months = models.PositiveSmallIntegerField(default=12)
    monthly_discount = models.FloatField(default=0.01)
    gross_margin = models.FloatField(
        null=True, blank=True, help_text=_("Default gross margin 0-1 when orders carry none.")
    )
    nightly_hour = models.PositiveSmallIntegerField(
        default=3, help_text=_("Hour of the day (owner's time zone) for the nightly run.")
    )
    followup_rules = models.JSONField(default=default_rules)
    survey_recontact_days = models.PositiveIntegerField(
        default=90,
        help_text=_("New surveys: do not survey a customer again within this many days."),
    )
    survey_link_days = models.PositiveIntegerField(
        default=30, help_text=_("New surveys: how long a survey link stays open, days.")
    )
    currency = models.CharField(
        max_length=3,
        blank=True,
        help_text=_("Account currency (ISO code); blank: ACCOUNT_CURRENCY."),
    )
    time_zone = models.CharField(
        max_length=64, blank=True, help_text=_("Your time zone; blank: the TIME_ZONE setting.")
    )

    class Meta:
        verbose_name = verbose_name_plural = _("account settings")
        constraints = [
            models.CheckConstraint(condition=Q(nightly_hour__lte=23), name="nightly_hour_range"),
            models.CheckConstraint(
                condition=Q(monthly_discount__gte=0) & Q(monthly_discount__lt=1),
                name="monthly_discount_range",
            ),
        ]

    def __str__(self):
        return "Scoring settings"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(DISPLAY_CACHE_KEY)

    @classmethod
    def load(cls) -> "ScoringSettings":
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    @classmethod
    def display(cls) -> dict:
        """Time zone and currency for the owner's pages (cached; saving refreshes it)."""

        def read():
            row = cls.load()
            return {"time_zone": row.zone.key, "currency": row.currency_code}

        return cache.get_or_set(DISPLAY_CACHE_KEY, read, timeout=300)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or django_settings.TIME_ZONE)

    @property
    def currency_code(self) -> str:
        return self.currency or django_settings.ACCOUNT_CURRENCY

    def rule(self, name: str) -> dict:
        return {**DEFAULT_FOLLOWUP_RULES.get(name, {}), **self.followup_rules.get(name, {})}


class ScoringRunQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True).first()


class ScoringRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    is_current = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    customers = models.PositiveIntegerField(default=0)
    progress = models.PositiveIntegerField(default=0, help_text="customers written so far")
    timings = models.JSONField(default=dict, blank=True)  # stage -> seconds
    model_metrics = models.JSONField(default=dict, blank=True)  # BG/NBD, GG, churn quality
    summary = models.JSONField(default=dict, blank=True)  # population metrics for the dashboard
    error = models.TextField(blank=True)
    fitted_state = models.BinaryField(null=True, blank=True, editable=False)

    objects = ScoringRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # The lock: at most one run in progress, enforced by the database.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="running"), name="one_running_scoring_run"
            ),
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_scoring_run"
            ),
        ]

    def __str__(self):
        return f"Scoring run {self.as_of} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CustomerScore(models.Model):
    """One customer's scores in one run; the current run's rows are what pages show."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="scores")
    as_of = models.DateField()
    # RFM summary (days)
    frequency = models.PositiveIntegerField(default=0)
    recency_days = models.FloatField(null=True)
    tenure_days = models.FloatField(null=True)
    days_since_activity = models.FloatField(null=True)
    monetary = models.FloatField(default=0)
    revenue = models.FloatField(default=0)
    orders = models.PositiveIntegerField(default=0)
    loyalty = models.FloatField(default=0)
    # CLV
    p_alive = models.FloatField(null=True)
    expected_purchases = models.FloatField(null=True, help_text="in the churn horizon")
    expected_spend = models.FloatField(null=True)
    clv = models.FloatField(null=True)
    clv_low = models.FloatField(null=True)
    clv_high = models.FloatField(null=True)
    clv_confident = models.BooleanField(default=False)
    # Churn and health
    churn_probability = models.FloatField(null=True)
    value_at_risk = models.FloatField(default=0)
    health = models.FloatField(null=True)
    health_band = models.CharField(max_length=6, blank=True)
    health_change_7d = models.FloatField(null=True)
    health_change_30d = models.FloatField(null=True)
    components = models.JSONField(default=dict)  # component scores + the facts behind them
    explanation = models.CharField(max_length=300, blank=True)
    # Segments
    rfm_r = models.PositiveSmallIntegerField(null=True)
    rfm_f = models.PositiveSmallIntegerField(null=True)
    rfm_m = models.PositiveSmallIntegerField(null=True)
    rfm_segment = models.CharField(max_length=30, blank=True)
    behaviour = models.CharField(max_length=10, blank=True)
    cluster = models.SmallIntegerField(null=True)
    # Columns (not only in `components`) so the customer list can filter and sort on them.
    last_nps = models.SmallIntegerField(null=True)
    days_since_contact = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "customer"], name="one_score_per_run_and_customer"
            ),
            models.CheckConstraint(
                condition=Q(churn_probability__isnull=True)
                | (Q(churn_probability__gte=0) & Q(churn_probability__lte=1)),
                name="churn_probability_is_a_probability",
            ),
            models.CheckConstraint(
                condition=Q(health__isnull=True) | (Q(health__gte=0) & Q(health__lte=100)),
                name="health_range",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "as_of"], name="score_customer_asof_idx"),
            # Counts for the customer list's score filters (index-only scans).
            models.Index(
                fields=["run", "health_band", "rfm_segment", "last_nps"],
                name="score_run_filters_idx",
            ),
        ]

    def __str__(self):
        return f"{self.customer_id} @ {self.as_of}"
