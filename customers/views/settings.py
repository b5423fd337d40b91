"""Settings: health weights and bands, follow-up rules, survey defaults, the nightly
hour, currency and time zone; and "run scoring now" with its progress."""

import zoneinfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.dashboard.kpis import COMPONENT_LABELS
from customers.followups import rules
from customers.models import FollowUpRule
from metrics.health import COMPONENTS
from metrics.models import AccountSettings, ScoringRun

PARAM_LABELS = {
    "due_days": gettext_lazy("due in (days)"),
    "lookback_days": gettext_lazy("answers of the last (days)"),
    "points": gettext_lazy("drop of at least (points in a week)"),
    "top_share": gettext_lazy("top share of customers (0–1)"),
    "min_value": gettext_lazy("minimum value at risk"),
    "days": gettext_lazy("days"),
}


AUTOMATION_FIELDS = [
    "weekly_email_cap",
    "quiet_start",
    "quiet_end",
    "digest_to",
    "digest_webhook",
    "digest_threshold",
    "detractor_alert",
    "language",
]


class SettingsForm(forms.ModelForm):
    digest_webhook = forms.URLField(
        label=gettext_lazy("Digest webhook (Slack-compatible)"),
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("Also post the digest to this Slack-compatible webhook URL."),
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        choices=[("", gettext_lazy("Server default"))]
        + [(z, z) for z in sorted(zoneinfo.available_timezones())],
        required=False,
    )

    class Meta:
        model = AccountSettings
        fields = [
            "business_name",
            "sender_name",
            "sender_email",
            "reply_to",
            "daily_capacity",
            "inactive_after_days",
            "horizon_days",
            "clv_months",
            "monthly_discount",
            "gross_margin",
            "nightly_hour",
            "survey_recontact_days",
            "survey_link_days",
            "currency",
            "time_zone",
        ] + AUTOMATION_FIELDS
        labels = {
            "business_name": gettext_lazy("Business name"),
            "sender_name": gettext_lazy("Sender name"),
            "sender_email": gettext_lazy("Sender address"),
            "reply_to": gettext_lazy("Reply-to address"),
            "daily_capacity": gettext_lazy("Follow-ups a day"),
            "inactive_after_days": gettext_lazy("Inactive after (days)"),
            "horizon_days": gettext_lazy("Churn horizon (days)"),
            "clv_months": gettext_lazy("CLV horizon (months)"),
            "monthly_discount": gettext_lazy("Monthly discount rate"),
            "gross_margin": gettext_lazy("Gross margin (0–1)"),
            "nightly_hour": gettext_lazy("Nightly run at (hour, 0–23)"),
            "survey_recontact_days": gettext_lazy("Survey recontact window (days)"),
            "survey_link_days": gettext_lazy("Survey link lifetime (days)"),
            "currency": gettext_lazy("Currency (ISO code)"),
            "weekly_email_cap": gettext_lazy("Automated e-mails a week, at most"),
            "quiet_start": gettext_lazy("Quiet hours from (hour)"),
            "quiet_end": gettext_lazy("Quiet hours until (hour)"),
            "digest_to": gettext_lazy("Digest and alerts to"),
            "digest_webhook": gettext_lazy("Digest webhook (Slack-compatible)"),
            "digest_threshold": gettext_lazy("Digest: KPI moved by (%)"),
            "detractor_alert": gettext_lazy("Alert me when a detractor answers"),
            "language": gettext_lazy("Language of the digest"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        row = self.instance
        weights = row.health_weights
        for part in COMPONENTS:
            self.fields[f"weight_{part}"] = forms.FloatField(
                label=COMPONENT_LABELS.get(part, part),
                min_value=0,
                max_value=10,
                initial=weights.get(part, 0),
            )
        for band in ("green", "yellow"):
            self.fields[f"threshold_{band}"] = forms.IntegerField(
                min_value=1, max_value=99, initial=row.health_thresholds.get(band)
            )
        self.fields["threshold_green"].label = _("Green from (health ≥)")
        self.fields["threshold_yellow"].label = _("Yellow from (health ≥)")
        for rule, defaults in rules.defaults().items():
            current = rules.params(row.followup_rules, rule)
            self.fields[f"rule_{rule}_enabled"] = forms.BooleanField(
                required=False, initial=current["enabled"], label=FollowUpRule(rule).label
            )
            for param, default in defaults.items():
                if param == "enabled":
                    continue
                name = f"rule_{rule}_{param}"
                label = PARAM_LABELS.get(param, param)
                if isinstance(default, list):
                    self.fields[name] = forms.CharField(
                        label=label, initial=", ".join(map(str, current[param]))
                    )
                elif isinstance(default, float):
                    self.fields[name] = forms.FloatField(
                        label=label, min_value=0, initial=current[param]
                    )
                else:
                    self.fields[name] = forms.IntegerField(
                        label=label, min_value=0, initial=current[param]
                    )

    def account_fields(self):
        return [self[name] for name in self.Meta.fields if name not in AUTOMATION_FIELDS]

    def automation_fields(self):
        return [self[name] for name in AUTOMATION_FIELDS]

    def weight_fields(self):
        return [self[f"weight_{part}"] for part in COMPONENTS]

    def rule_groups(self):
        return [
            (
                self[f"rule_{rule}_enabled"],
                [self[f"rule_{rule}_{p}"] for p in defaults if p != "enabled"],
            )
            for rule, defaults in rules.defaults().items()
        ]

    def clean_currency(self):
        code = self.cleaned_data["currency"].strip().upper()
        if code and (len(code) != 3 or not code.isalpha()):
            raise forms.ValidationError(_("Use a three-letter code such as USD, EUR or CNY."))
        return code

    def clean(self):
        data = super().clean()
        if not any(data.get(f"weight_{part}") for part in COMPONENTS):
            raise forms.ValidationError(_("At least one health weight must be above zero."))
        green, yellow = data.get("threshold_green"), data.get("threshold_yellow")
        if green is not None and yellow is not None and yellow >= green:
            self.add_error("threshold_yellow", _("Yellow must start below green."))
        for rule, defaults in rules.defaults().items():
            for param, default in defaults.items():
                name = f"rule_{rule}_{param}"
                if isinstance(default, list) and name in data:
                    try:
                        data[name] = sorted({int(d) for d in data[name].split(",") if d.strip()})
                    except ValueError:
                        self.add_error(name, _("Whole numbers separated by commas."))
        return data

    def save(self, commit=True):
        row, data = self.instance, self.cleaned_data
        row.health_weights = {part: data[f"weight_{part}"] for part in COMPONENTS}
        row.health_thresholds = {band: data[f"threshold_{band}"] for band in ("green", "yellow")}
        row.followup_rules = {
            rule: {
                "enabled": data[f"rule_{rule}_enabled"],
                **{p: data[f"rule_{rule}_{p}"] for p in defaults if p != "enabled"},
            }
            for rule, defaults in rules.defaults().items()
        }
        return super().save(commit)


def _runs():
    return ScoringRun.objects.defer("fitted_state", "summary").order_by("-started_at")


@require_http_methods(["GET", "POST"])
@login_required
def settings_page(request):
    form = SettingsForm(request.POST or None, instance=AccountSettings.load())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Settings saved. The next scoring run uses them."))
        return redirect("settings")
    return render(
        request,
        "settings/settings.html",
        {"form": form, "latest": _runs().first(), "recent": _runs()[:8]},
    )


@require_POST
@login_required
def run_now(request):
    """Start a scoring run in the background (a Celery task, or a thread without a
    broker); the status box then polls its progress."""
    # Imported here: the scoring code (scikit-learn, scipy) stays out of web workers.
    from customers.followups.tasks import QueueUnavailable, start_scoring_now

    try:
        started = start_scoring_now()
    except QueueUnavailable:
        messages.error(
            request,
            _("The task queue (Redis) cannot be reached just now. Try again in a minute."),
        )
    else:
        if started:
            messages.success(request, _("Scoring run started."))
        else:
            messages.error(request, _("A scoring run is already in progress."))
    if request.htmx:
        return render(
            request,
            "settings/partials/_run_status.html",
            {"latest": _runs().first(), "starting": True},
        )
    return redirect("settings")


@require_GET
@login_required
def run_status(request):
    """The run box, polled by HTMX every two seconds while a run is in progress."""
    return render(request, "settings/partials/_run_status.html", {"latest": _runs().first()})
