import base64
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from cs_platform.prepared import Prepared
from customers.models import Customer

from .scales import SCALES


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (0-10)")
    CSAT = "csat", _("CSAT (1-5)")
    CES = "ces", _("CES (1-7)")


class Survey(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=4, choices=SurveyKind.choices)
    question_en = models.CharField(_("question (English)"), max_length=300)
    question_zh = models.CharField(_("question (Chinese)"), max_length=300, blank=True)
    followup_en = models.CharField(_("follow-up question (English)"), max_length=300, blank=True)
    followup_zh = models.CharField(_("follow-up question (Chinese)"), max_length=300, blank=True)
    recontact_days = models.PositiveIntegerField(
        _("recontact days"),
        default=90,
        help_text=_("Do not survey a customer again within this many days."),
    )
    link_days = models.PositiveIntegerField(_("link lifetime, days"), default=30)
    reminder_days = models.PositiveIntegerField(
        _("reminder after days"),
        default=3,
        help_text=_(
            "Send one reminder to those who have not answered after this many days "
            "(0: no reminder)."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def scale(self) -> tuple[int, int]:
        return SCALES[self.kind]

    @property
    def has_chinese(self) -> bool:
        """Every text the survey has is also in Chinese."""
        return bool(self.question_zh) and (bool(self.followup_zh) or not self.followup_en)

    def language_for(self, wanted: str) -> str:
        """The language to ask in: the customer's if the survey speaks it completely,
        else English (a whole page and e-mail in one language, never mixed)."""
        return "zh-hans" if wanted.startswith("zh") and self.has_chinese else "en"

    def question(self, language: str) -> str:
        return self.question_zh if language.startswith("zh") else self.question_en

    def followup(self, language: str) -> str:
        return self.followup_zh if language.startswith("zh") else self.followup_en


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_token(seed: str, secret: str | None = None) -> str:
    """An invitation's link token, derived from its random seed with the secret key, so
    that a reminder can carry the same links while only the token's hash is stored: the
    database alone gives no usable link. 192 bits, URL-safe."""
    digest = salted_hmac("survey-link", seed, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


# What the public pages need of an invitation's survey (the rest loads if touched).
SURVEY_TEXTS = ["kind", "question_en", "question_zh", "followup_en", "followup_zh"]
BY_TOKEN = Prepared(
    "survey_invitation_by_token",
    f"""SELECT i.*, c.locale AS customer_locale,
        {", ".join(f"s.{field} AS survey_{field}" for field in SURVEY_TEXTS)}
    FROM feedback_surveyinvitation i
    JOIN feedback_survey s ON s.id = i.survey_id
    JOIN customers_customer c ON c.id = i.customer_id
    WHERE i.token_hash = %(token_hash)s""",
)


class SurveyInvitationQuerySet(models.QuerySet):
    def by_token(self, token: str):
        """The invitation for a raw token, or None, with its survey's texts and the
        customer's language (`customer_locale`). Only the token's SHA-256 is stored, so
        the lookup reveals nothing and a database leak exposes no usable links.

        Every public survey request starts here, so the join is written in SQL and
        prepared: the ORM spent three times longer building it than the database spent
        running it, and planning it took the database three times longer than running
        it."""
        if not token or len(token) > 100:
            return None
        sql, params = BY_TOKEN.as_sql({"token_hash": hash_token(token)}, connections[self.db])
        invitation = next(iter(self.raw(sql, params)), None)
        if invitation is not None:
            texts = [getattr(invitation, f"survey_{field}") for field in SURVEY_TEXTS]
            invitation.survey = Survey.from_db(
                self.db, ["id", *SURVEY_TEXTS], [invitation.survey_id, *texts]
            )
        return invitation


class SurveySendQuerySet(models.QuerySet):
    def with_outcomes(self):
        """Each sending with how many of its invitations were reminded, opened and
        answered."""
        return self.annotate(
            reminded=models.Count("invitations", filter=Q(invitations__reminded_at__isnull=False)),
            opened=models.Count("invitations", filter=Q(invitations__opened_at__isnull=False)),
            answered=models.Count("invitations", filter=Q(invitations__responded_at__isnull=False)),
        )


class SurveySend(models.Model):
    """One sending of a survey to an audience, with what became of it."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="sends")
    audience = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)  # reason -> count

    objects = SurveySendQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.survey} to {self.audience}"


class SurveyInvitation(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        LINK = "link", _("Link")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    send = models.ForeignKey(
        SurveySend, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # 128 random bits; with the secret key they give the link token (link_token).
    token_seed = models.CharField(max_length=32, blank=True, editable=False)
    channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.EMAIL)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    objects = SurveyInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer", "sent_at"], name="invitation_customer_sent_idx")
        ]

    def __str__(self):
        return f"{self.survey} → {self.customer}"

    @classmethod
    def create_for(cls, survey: Survey, customer: Customer, channel="email", send=None):
        """A new invitation and its link token (never stored; see link_token)."""
        seed = secrets.token_hex(16)
        token = link_token(seed)
        invitation = cls.objects.create(
            survey=survey,
            customer=customer,
            token_hash=hash_token(token),
            token_seed=seed,
            channel=channel,
            send=send,
            expires_at=timezone.now() + timedelta(days=survey.link_days),
        )
        return invitation, token

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    def recover_token(self) -> str | None:
        """The link token again, for a reminder: derived with the secret key or, after a
        key change, one of SECRET_KEY_FALLBACKS. None if no key gives the stored hash
        (older invitations have no seed)."""
        if not self.token_seed:
            return None
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
            token = link_token(self.token_seed, secret)
            if hash_token(token) == self.token_hash:
                return token
        return None


class SurveyResponse(models.Model):
    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, related_name="response"
    )
    # Denormalised for fast scoring queries. No index of its own: the (customer,
    # responded_at) index serves lookups by customer, and every answer writes one less.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="survey_responses", db_index=False
    )
    kind = models.CharField(max_length=4, choices=SurveyKind.choices)
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True, max_length=2000)
    language = models.CharField(max_length=10, blank=True)
    sentiment = models.FloatField(null=True, blank=True, help_text="-1 (negative) to 1 (positive)")
    responded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    alerted_at = models.DateTimeField(null=True, blank=True, editable=False)  # owner told

    class Meta:
        ordering = ["-responded_at"]
        indexes = [
            models.Index(fields=["kind", "responded_at"], name="response_kind_time_idx"),
            models.Index(fields=["customer", "responded_at"], name="response_customer_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="nps") & Q(score__gte=0) & Q(score__lte=10))
                | (Q(kind="csat") & Q(score__gte=1) & Q(score__lte=5))
                | (Q(kind="ces") & Q(score__gte=1) & Q(score__lte=7)),
                name="response_score_in_scale",
            ),
            models.CheckConstraint(
                condition=Q(sentiment__isnull=True) | (Q(sentiment__gte=-1) & Q(sentiment__lte=1)),
                name="response_sentiment_range",
            ),
        ]

    def __str__(self):
        return f"{self.kind.upper()} {self.score} from {self.customer_id}"

    @property
    def is_final(self) -> bool:
        """Past the grace period the answer can no longer be changed."""
        return timezone.now() - self.responded_at > GRACE_PERIOD


class Unsubscribe(models.Model):
    """An address that asked for no more surveys; honoured forever, even if an import
    later says otherwise."""

    email = models.EmailField(unique=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.email


GRACE_PERIOD = timedelta(minutes=getattr(settings, "SURVEY_EDIT_MINUTES", 30))
