"""Public survey pages: no login, reveal nothing, record only on POST."""

import logging

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from cs_platform.broker import enqueue_or_run_here
from cs_platform.ratelimit import rate_limited
from customers.dashboard.tasks import detractor_alert
from customers.followups.answers import follow_up_safely
from customers.models import Customer
from metrics.models import AccountSettings

from . import scales
from .actions import AlreadyAnswered, record_response, unsubscribe, unsubscribe_customer
from .models import SurveyInvitation
from .sending import customer_of_unsubscribe_token

log = logging.getLogger(__name__)


class AnswerForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000, strip=True)

    def __init__(self, *args, scale, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = scale
        self.fields["score"] = forms.IntegerField(min_value=low, max_value=high)


def _language(request, invitation) -> str:
    return invitation.customer_locale or translation.get_language_from_request(request)


def after_answer(response) -> None:
    """Once the answer is committed: its follow-up, then the owner's instant alert."""
    follow_up_safely(response)
    if not scales.is_unhappy(response.kind, response.score):
        return
    try:
        enqueue_or_run_here(detractor_alert, response.pk)
    except Exception:  # the answer stands; the digest lists it tomorrow
        log.exception("could not send the detractor alert")


def _not_found(request):
    return render(request, "feedback/not_found.html", status=404)


@rate_limited("survey", limit=60, window_seconds=600)
@require_http_methods(["GET", "POST"])
@csrf_protect
def survey_page(request, token):
    invitation = SurveyInvitation.objects.by_token(token)
    if invitation is None:
        return _not_found(request)
    survey = invitation.survey
    language = survey.language_for(_language(request, invitation))
    with translation.override(language):
        low, high = survey.scale
        context = {
            "business": AccountSettings.cached().business_name,
            "survey": survey,
            "question": survey.question(language),
            "followup": survey.followup(language),
            "scores": range(low, high + 1),
            "low": low,
            "high": high,
            "token": token,
            "language": language,
        }
        if invitation.is_expired:
            return render(request, "feedback/closed.html", context, status=410)
        if request.method == "GET":
            preselected = request.GET.get("score", "")
            in_scale = preselected.isdigit() and low <= int(preselected) <= high
            context["selected"] = int(preselected) if in_scale else None
            if invitation.responded_at:
                answer = invitation.response
                if answer.is_final:
                    return render(request, "feedback/thanks.html", {**context, "final": True})
                context["answered"] = True
                if context["selected"] is None:
                    context["selected"] = answer.score
                context["comment"] = answer.comment
            return render(request, "feedback/survey.html", context)
        form = AnswerForm(request.POST, scale=survey.scale)
        if not form.is_valid():
            context["form"] = form
            context["selected"] = None
            return render(request, "feedback/survey.html", context, status=400)
        try:
            response, outcome = record_response(
                invitation,
                form.cleaned_data["score"],
                form.cleaned_data["comment"],
                language,
                after_commit=after_answer,
            )
        except AlreadyAnswered:
            return render(request, "feedback/thanks.html", {**context, "final": True})
        return render(
            request, "feedback/thanks.html", {**context, "response": response, "outcome": outcome}
        )


@rate_limited("unsubscribe", limit=30, window_seconds=600)
@require_http_methods(["GET", "POST"])
@csrf_exempt  # RFC 8058 one-click: mail providers POST without a session or cookie
def unsubscribe_page(request, token):
    """GET shows one confirm button (scanners follow links); POST unsubscribes."""
    invitation = SurveyInvitation.objects.by_token(token)
    if invitation is None:
        return _not_found(request)
    with translation.override(_language(request, invitation)):
        if request.method == "POST":
            unsubscribe(invitation)
            return render(request, "feedback/unsubscribed.html")
        action_url = reverse("survey-unsubscribe", args=[token])
        return render(request, "feedback/unsubscribe.html", {"action_url": action_url})


@rate_limited("unsubscribe", limit=30, window_seconds=600)
@require_http_methods(["GET", "POST"])
@csrf_exempt  # RFC 8058 one-click, as above
def stop_emails(request, token):
    """The unsubscribe link of an automated (playbook) e-mail."""
    customer_id = customer_of_unsubscribe_token(token)
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    if customer is None:
        return _not_found(request)
    language = customer.locale or translation.get_language_from_request(request)
    with translation.override(language):
        if request.method == "POST":
            unsubscribe_customer(customer)
            return render(request, "feedback/unsubscribed.html")
        action_url = reverse("email-unsubscribe", args=[token])
        return render(request, "feedback/unsubscribe.html", {"action_url": action_url})


@rate_limited("survey-opened", limit=60, window_seconds=600)
@require_http_methods(["POST"])
@csrf_protect
def mark_opened(request, token):
    """The page's script reports that a browser showed it; only the first time counts."""
    invitation = SurveyInvitation.objects.by_token(token)
    if invitation is None:
        return _not_found(request)
    if not invitation.is_expired:
        SurveyInvitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )
    return HttpResponse(status=204)
