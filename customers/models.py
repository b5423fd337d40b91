from enum import IntEnum

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LifecycleStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")


class ChurnReason(models.TextChoices):
    PRICE = "price", _("Too expensive")
    FEATURES = "features", _("Missing features")
    COMPETITOR = "competitor", _("Switched to another product")
    NO_NEED = "no_need", _("No longer needed")
    QUALITY = "quality", _("Quality or bugs")
    SERVICE = "service", _("Support or service")
    OTHER = "other", _("Something else")


class CustomerQuerySet(models.QuerySet):
    def with_tag(self, tag: str):
        # JSON containment is not available on SQLite; the quoted text match is exact
        # there because tags are stored as a JSON list of strings.
        if connection.vendor == "postgresql":
            return self.filter(tags__contains=[tag])
        return self.filter(tags__icontains=f'"{tag}"')

    def search(self, text: str):
        return self.filter(
            Q(name__icontains=text) | Q(email__icontains=text) | Q(company__icontains=text)
        )


class Customer(models.Model):
    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    locale = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Language for surveys and emails; empty means the browser decides."),
    )
    plan = models.CharField(_("plan"), max_length=100, blank=True, db_index=True)
    mrr = models.DecimalField(_("MRR"), max_digits=12, decimal_places=2, default=0)
    signup_date = models.DateField(_("signup date"), null=True, blank=True, db_index=True)
    subscription_ends_on = models.DateField(_("subscription ends on"), null=True, blank=True)
    churned_at = models.DateTimeField(_("churned at"), null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=10,
        choices=LifecycleStage.choices,
        default=LifecycleStage.ACTIVE,
        db_index=True,
    )
    survey_opt_out = models.BooleanField(_("opted out of surveys"), default=False)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        db_default="",
        help_text=_("For quiet hours of automated e-mails; empty means your time zone."),
    )
    # Their answer to the win-back e-mail's exit question.
    churn_reason = models.CharField(
        _("reason for leaving"),
        max_length=12,
        choices=ChurnReason.choices,
        blank=True,
        db_default="",
    )
    churn_comment = models.TextField(
        _("in their words"), blank=True, max_length=2000, db_default=""
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["name"], name="customer_name_idx"),
            models.Index(fields=["company"], name="customer_company_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(mrr__gte=0), name="customer_mrr_not_negative"),
            models.CheckConstraint(condition=~Q(external_id=""), name="customer_external_id_set"),
        ]

    def __str__(self):
        return self.name or self.email or self.external_id


class OrderKind(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    SUBSCRIPTION = "subscription", _("Subscription payment")
    REFUND = "refund", _("Refund")


class Order(models.Model):
    """A payment. Refunds are stored with a negative amount, everything else non-negative."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    kind = models.CharField(
        _("kind"), max_length=12, choices=OrderKind.choices, default=OrderKind.PURCHASE
    )
    margin = models.DecimalField(
        _("gross margin"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Share of the amount that is gross profit, 0 to 1."),
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="order_customer_time_idx"),
            models.Index(fields=["occurred_at"], name="order_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=OrderKind.REFUND) & Q(amount__lte=0))
                | (~Q(kind=OrderKind.REFUND) & Q(amount__gte=0)),
                name="order_amount_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(margin__isnull=True) | (Q(margin__gte=0) & Q(margin__lte=1)),
                name="order_margin_is_a_share",
            ),
            models.CheckConstraint(condition=~Q(external_id=""), name="order_external_id_set"),
        ]

    def __str__(self):
        return f"{self.external_id} {self.amount} {self.currency}"


class InteractionKind(models.TextChoices):
    EMAIL = "email", _("Email")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")
    TICKET = "ticket", _("Support ticket")
    USAGE = "usage", _("Product usage / login")
    PAYMENT_FAILED = "payment", _("Failed payment")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    INTERNAL = "internal", _("Internal")


class Interaction(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    external_id = models.CharField(
        _("external id"), max_length=100, unique=True, null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=10, choices=InteractionKind.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    # E-mails sent from the app: their Message-ID, so a reply can be matched to them.
    message_id = models.CharField(
        max_length=255, blank=True, default="", db_default="", db_index=True, editable=False
    )
    # Support tickets only.
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="interaction_customer_time_idx"),
            models.Index(fields=["kind", "occurred_at"], name="interaction_kind_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True)
                | Q(opened_at__isnull=True)
                | Q(first_response_at__gte=models.F("opened_at")),
                name="ticket_first_response_after_open",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True)
                | Q(opened_at__isnull=True)
                | Q(resolved_at__gte=models.F("opened_at")),
                name="ticket_resolved_after_open",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"


class FollowUpRule(models.TextChoices):
    MANUAL = "manual", _("Manual")
    DETRACTOR = "detractor", _("Detractor answered")
    HEALTH_DROP = "health_drop", _("Health turned red or dropped")
    VALUE_AT_RISK = "value_at_risk", _("High value at risk")
    NO_CONTACT = "no_contact", _("Top customer not contacted")
    RENEWAL = "renewal", _("Renewal coming up")
    ONBOARDING = "onboarding", _("New customer check-in")
    TICKET_OPEN = "ticket_open", _("Support ticket open too long")
    PROMOTER = "promoter", _("Promoter: ask for a review or referral")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")


class Urgency(IntEnum):
    """How soon an item needs the owner; the queue is ordered by it, then by value.
    (A plain IntEnum, so the pure rule module can use it with its types.)"""

    NOW = 1  # an unhappy answer of the last days: someone waits for a reply
    SOON = 2  # a failed payment, health turned red, a ticket past its limit, own tasks
    AT_RISK = 3  # much value at risk
    ROUTINE = 4  # check-ins, renewals, thanks


URGENCY_CHOICES = [
    (Urgency.NOW.value, _("Unhappy now")),
    (Urgency.SOON.value, _("Needs attention")),
    (Urgency.AT_RISK.value, _("At risk")),
    (Urgency.ROUTINE.value, _("Routine")),
]


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SNOOZED = "snoozed", _("Snoozed")
    DONE = "done", _("Done")


def open_on(today) -> Q:
    """An item in the queue on `today`: open, or snoozed until then; the owner's own
    tasks wait for their day."""
    return (
        Q(status=FollowUpStatus.OPEN) | Q(status=FollowUpStatus.SNOOZED, snoozed_until__lte=today)
    ) & ~Q(rule=FollowUpRule.MANUAL, due__gt=today)


class FollowUpQuerySet(models.QuerySet):
    def not_done(self):
        return self.exclude(status=FollowUpStatus.DONE)

    def open_for_today(self, today=None):
        """The queue: most urgent first, and within one urgency most at stake first."""
        today = today or timezone.localdate()
        return self.filter(open_on(today)).order_by("priority", "-value_at_stake", "due", "id")


class FollowUp(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="followups")
    rule = models.CharField(
        _("rule"), max_length=20, choices=FollowUpRule.choices, default=FollowUpRule.MANUAL
    )
    reason = models.TextField(_("why"))
    # The reason's English template and its arguments, to show it in the owner's language.
    reason_args = models.JSONField(default=dict, blank=True, editable=False)
    suggested_action = models.CharField(_("suggested action"), max_length=300, blank=True)
    value_at_stake = models.DecimalField(
        _("value at stake"), max_digits=14, decimal_places=2, default=0
    )
    priority = models.PositiveSmallIntegerField(
        _("urgency"), choices=URGENCY_CHOICES, default=Urgency.SOON.value
    )
    due = models.DateField(_("due"), default=timezone.localdate)
    status = models.CharField(
        _("status"), max_length=8, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "-value_at_stake", "due", "id"]
        indexes = [
            models.Index(fields=["status", "due"], name="followup_status_due_idx"),
            models.Index(
                fields=["status", "priority", "-value_at_stake"], name="followup_queue_order_idx"
            ),
        ]
        constraints = [
            # One open (or snoozed) item per customer and automatic rule.
            models.UniqueConstraint(
                fields=["customer", "rule"],
                condition=~Q(status=FollowUpStatus.DONE) & ~Q(rule=FollowUpRule.MANUAL),
                name="one_open_followup_per_rule",
            ),
            models.CheckConstraint(
                condition=Q(value_at_stake__gte=0), name="followup_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=4), name="followup_urgency_range"
            ),
        ]

    def __str__(self):
        return f"{self.customer}: {self.get_rule_display()}"


# E-mail templates: one per follow-up rule, and those the shipped playbooks send.
TEMPLATE_CHOICES = [
    *FollowUpRule.choices,
    ("welcome", _("Welcome (onboarding, day 0)")),
    ("tips", _("Getting started tips (onboarding, day 3)")),
    ("rescue", _("Rescue: health turned red")),
    ("winback", _("Win-back with the exit question")),
]


class EmailTemplate(models.Model):
    """The owner's wording of a template's e-mail, per language. A template without a
    row (or a blank field) uses the default of customers.followups.email."""

    rule = models.CharField(_("template"), max_length=20, choices=TEMPLATE_CHOICES, unique=True)
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200, blank=True)
    body_zh = models.TextField(_("body (Chinese)"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.get_rule_display()


def import_upload_path(instance, filename):
    return f"imports/{timezone.now():%Y/%m}/{filename}"


class ImportJob(models.Model):
    """One uploaded CSV file and what became of it; the import itself runs as a Celery task."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Rejected")

    kind = models.CharField(_("what"), max_length=20)
    file = models.FileField(upload_to=import_upload_path)
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    report = models.JSONField(default=dict, blank=True)  # ImportReport.counts()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} import {self.original_name} ({self.status})"


class InboundEmail(models.Model):
    """A customer's e-mail as the inbound endpoint received it. Matched to a customer (a
    reply to one of our e-mails, or a known sender) it is on their timeline as an inbound
    e-mail; unmatched it waits in the inbox for the owner to assign."""

    class Match(models.TextChoices):
        THREAD = "thread", _("reply to our e-mail")
        ADDRESS = "address", _("sender's address")
        OWNER = "owner", _("assigned by you")
        NONE = "", _("not matched")

    # The message's own Message-ID: a forwarder that posts it twice stores it once.
    message_id = models.CharField(max_length=255, unique=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="inbound_emails"
    )
    interaction = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    matched_by = models.CharField(max_length=8, choices=Match.choices, blank=True)
    dismissed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.from_address}: {self.subject}"


class PlaybookTrigger(models.TextChoices):
    RULE = "rule", _("A follow-up rule fires")
    SEGMENT = "segment", _("A customer enters a saved segment")
    SIGNUP = "signup", _("Days after signup")
    TICKET_RESOLVED = "ticket", _("A support ticket is resolved")
    CANCELLED = "cancelled", _("A subscription is cancelled")
    HEALTH_RED = "red", _("Health turns red")
    ACTIVE = "active", _("An active customer")


class PlaybookExit(models.TextChoices):
    REPLIED = "replied", _("replied")
    HEALTHY = "healthy", _("health back to green")
    UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
    CHURNED = "churned", _("churned")


class StepAction(models.TextChoices):
    EMAIL = "email", _("Send a template e-mail")
    WAIT = "wait", _("Wait")
    SURVEY = "survey", _("Send a survey")
    FOLLOWUP = "followup", _("Create a follow-up")
    TAG = "tag", _("Add a tag")


class Playbook(models.Model):
    """A trigger, steps and exit conditions (customers.playbooks). `steps` is a list of
    {"action": StepAction, "value": template key, days, survey kind, reason or tag}."""

    key = models.CharField(max_length=30, blank=True, help_text="a shipped playbook's name")
    name = models.CharField(_("name"), max_length=100)
    trigger = models.CharField(_("trigger"), max_length=10, choices=PlaybookTrigger.choices)
    trigger_value = models.CharField(
        _("trigger detail"),
        max_length=100,
        blank=True,
        help_text=_("The rule, the saved segment's id or the number of days."),
    )
    steps = models.JSONField(_("steps"), default=list)
    exits = models.JSONField(_("exit conditions"), default=list)
    enabled = models.BooleanField(_("switched on"), default=False)
    review = models.BooleanField(
        _("review before sending"),
        default=False,
        help_text=_("Each e-mail waits in the queue as a draft for you to approve."),
    )
    reenter_days = models.PositiveIntegerField(
        _("may enter again after (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: a customer goes through this playbook once."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class EnrolmentState(models.TextChoices):
    ACTIVE = "active", _("In progress")
    REVIEW = "review", _("Waiting for your approval")
    FINISHED = "finished", _("Finished")
    EXITED = "exited", _("Left early")


class Enrolment(models.Model):
    """One customer going through one playbook: the next step and when it is due. A
    runner claims a due step by stamping `claimed_at` in one UPDATE before it acts."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="enrolments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="enrolments")
    state = models.CharField(
        max_length=8, choices=EnrolmentState.choices, default=EnrolmentState.ACTIVE
    )
    step = models.PositiveSmallIntegerField(default=0)  # the next step's index
    next_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=32, blank=True)
    entered_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=12, choices=PlaybookExit.choices, blank=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        indexes = [models.Index(fields=["state", "next_at"], name="enrolment_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "customer"],
                condition=Q(state__in=["active", "review"]),
                name="one_running_enrolment",
            )
        ]

    def __str__(self):
        return f"{self.customer} in {self.playbook}"


class StepStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    DONE = "done", _("Done")
    DRAFT = "draft", _("Draft to approve")
    SKIPPED = "skipped", _("Skipped")


class StepRun(models.Model):
    """What one step did for one enrolment: the enrolment's history. One row per step
    (unique), so a step can never be done twice."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="history")
    step = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=8, choices=StepAction.choices)
    status = models.CharField(max_length=8, choices=StepStatus.choices)
    detail = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    followup = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["enrolment", "step"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "step"], name="one_run_per_step")
        ]

    def __str__(self):
        return f"{self.enrolment} step {self.step}: {self.status}"
