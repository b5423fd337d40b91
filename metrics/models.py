import secrets
from email.utils import formataddr
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

from .health import DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS
from .inputs import ScoringConfig


def default_weights():
    return dict(DEFAULT_WEIGHTS)


def default_thresholds():
    return dict(DEFAULT_THRESHOLDS)


CACHE_KEY = "account-settings"


def new_inbound_secret() -> str:
    return secrets.token_urlsafe(24)


class AccountSettings(models.Model):
    """The owner's settings (one row): currency and time zone, scoring knobs, the
    follow-up rules' parameters (only what the owner changed; each rule's defaults live
    with the rule in customers.followups.rules), survey defaults. Edited on /settings/.
    The table keeps its first name."""

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
    followup_rules = models.JSONField(default=dict)  # rule name -> changed parameters
    daily_capacity = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text=_("Follow-ups a day: today's queue shows this many, the rest waits."),
    )
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
    # Who is asking: named in survey e-mails and on the survey page.
    business_name = models.CharField(max_length=100, blank=True)
    sender_name = models.CharField(
        max_length=100, blank=True, help_text=_("The name e-mails come from; blank: the business.")
    )
    sender_email = models.EmailField(
        blank=True, help_text=_("The address e-mails come from; blank: DEFAULT_FROM_EMAIL.")
    )
    reply_to = models.EmailField(blank=True, help_text=_("Where customers' replies go."))
    # Automation: playbooks' e-mails and the owner's morning digest.
    inbound_secret = models.CharField(max_length=64, default=new_inbound_secret, editable=False)
    weekly_email_cap = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("At most this many automated e-mails (playbooks and surveys) a week each."),
    )
    quiet_start = models.PositiveSmallIntegerField(
        default=21,
        validators=[MaxValueValidator(23)],
        help_text=_("Quiet hours begin (the customer's time): no automated e-mail until they end."),
    )
    quiet_end = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], help_text=_("Quiet hours end.")
    )
    digest_to = models.EmailField(
        blank=True, help_text=_("Where the morning digest and alerts go; blank: no e-mail.")
    )
    digest_webhook = models.URLField(
        blank=True, help_text=_("Also post the digest to this Slack-compatible webhook URL.")
    )
    digest_threshold = models.PositiveSmallIntegerField(
        default=10, help_text=_("Digest: show a KPI when it moved by at least this many percent.")
    )
    detractor_alert = models.BooleanField(
        default=True, help_text=_("E-mail me at once when a detractor answers.")
    )
    digest_sent_on = models.DateField(null=True, editable=False)
    language = models.CharField(
        max_length=10,
        blank=True,
        choices=django_settings.LANGUAGES,
        help_text=_("Language of the digest and alerts; blank: LANGUAGE_CODE."),
    )

    class Meta:
        db_table = "metrics_scoringsettings"
        verbose_name = verbose_name_plural = _("account settings")
        constraints = [
            models.CheckConstraint(condition=Q(nightly_hour__lte=23), name="nightly_hour_range"),
            models.CheckConstraint(
                condition=Q(monthly_discount__gte=0) & Q(monthly_discount__lt=1),
                name="monthly_discount_range",
            ),
        ]

    def __str__(self):
        return "Account settings"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(CACHE_KEY)

    @classmethod
    def load(cls) -> "AccountSettings":
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    @classmethod
    def cached(cls) -> "AccountSettings":
        """The row for every page view and survey answer, without a query each time
        (cached for five minutes; saving refreshes it)."""
        return cache.get_or_set(CACHE_KEY, cls.load, timeout=300)

    @classmethod
    def display(cls) -> dict:
        """Time zone and currency for the owner's pages."""
        row = cls.cached()
        return {"time_zone": row.zone.key, "currency": row.currency_code}

    @property
    def from_address(self) -> str:
        """ "Sender Name <address>" for outgoing e-mail."""
        name = self.sender_name or self.business_name
        address = self.sender_email or django_settings.DEFAULT_FROM_EMAIL
        return formataddr((name, address)) if name else address

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or django_settings.TIME_ZONE)

    @property
    def owner_language(self) -> str:
        return self.language or django_settings.LANGUAGE_CODE

    @property
    def currency_code(self) -> str:
        return self.currency or django_settings.ACCOUNT_CURRENCY

    def scoring_config(self) -> ScoringConfig:
        return ScoringConfig(
            health_weights=self.health_weights,
            health_thresholds=self.health_thresholds,
            horizon_days=self.horizon_days,
            inactive_after_days=self.inactive_after_days,
            clv_months=self.clv_months,
            monthly_discount=self.monthly_discount,
            gross_margin=self.gross_margin,
        )


class ScoringRunQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True).first()


# A run's stages in order, with the share of a run's time each takes (measured on the
# demo shop), for the progress shown while it runs.
RUN_STAGES = [
    ("read", _("Reading the data"), 9),
    ("rfm", _("Summarising purchases"), 1),
    ("clv_fit", _("Fitting the CLV models"), 4),
    ("churn", _("Training the churn model"), 44),
    ("segments", _("Finding segments"), 7),
    ("population_metrics", _("Shop-wide metrics"), 2),
    ("score_and_write", _("Scoring every customer"), 28),
    ("switch_over", _("Updating the follow-up queue"), 5),
]
STAGE_LABELS = {stage: label for stage, label, _share in RUN_STAGES}


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
    # Stamped every SCORING_HEARTBEAT_SECONDS by the process doing the work: a running
    # run without one for SCORING_ABANDONED_SECONDS died with its process.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
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

    @property
    def stage(self) -> tuple[str, int]:
        """The stage in progress (its label) and the run's percentage done so far."""
        done = 0.0
        for stage, label, share in RUN_STAGES:
            if stage == "score_and_write":
                part = self.progress / self.customers if self.customers else 0
                if part < 1:
                    return label, round(done + share * part)
            elif stage not in self.timings:
                return label, round(done)
            done += share
        return RUN_STAGES[-1][1], 100

    def stage_timings(self) -> list[tuple[str, float]]:
        """Seconds per stage, named in the owner's language."""
        return [(STAGE_LABELS.get(stage, stage), sec) for stage, sec in self.timings.items()]


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
