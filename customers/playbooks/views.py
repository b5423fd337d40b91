"""Playbooks: the list with their switches, one playbook with who would enter now and
every enrolment's state and history, the editor; and the public exit question."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cs_platform.ratelimit import rate_limited
from customers.models import (
    TEMPLATE_CHOICES,
    ChurnReason,
    Customer,
    EnrolmentState,
    FollowUpRule,
    Playbook,
    PlaybookExit,
    PlaybookTrigger,
    StepAction,
    StepRun,
)
from feedback.models import SurveyKind
from metrics.models import AccountSettings

from . import actions, links, triggers

PREVIEW = 20


class PlaybookForm(forms.ModelForm):
    exits = forms.MultipleChoiceField(
        label=gettext_lazy("Leaves early when"),
        choices=PlaybookExit.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Playbook
        fields = ["name", "trigger", "trigger_value", "exits", "review", "reenter_days"]

    def clean(self):
        data = super().clean()
        trigger, value = data.get("trigger"), (data.get("trigger_value") or "").strip()
        if trigger == PlaybookTrigger.RULE and value not in FollowUpRule.values:
            self.add_error("trigger_value", _("Name a follow-up rule, e.g. detractor."))
        if trigger in (PlaybookTrigger.SIGNUP, PlaybookTrigger.SEGMENT) and not value.isdigit():
            self.add_error("trigger_value", _("A whole number: the days or the segment's id."))
        data["trigger_value"] = value
        return data


class StepForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Step"), choices=StepAction.choices)
    value = forms.CharField(label=gettext_lazy("Detail"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        action, value = data.get("action"), (data.get("value") or "").strip()
        if action == StepAction.EMAIL and value not in dict(TEMPLATE_CHOICES):
            self.add_error("value", _("Name an e-mail template, e.g. welcome."))
        if action == StepAction.WAIT and not value.isdigit():
            self.add_error("value", _("The number of days to wait."))
        if action == StepAction.SURVEY and value not in SurveyKind.values:
            self.add_error("value", _("nps, csat or ces."))
        if action in (StepAction.FOLLOWUP, StepAction.TAG) and not value:
            self.add_error("value", _("The follow-up's reason or the tag."))
        data["value"] = value
        return data


StepFormSet = forms.formset_factory(StepForm, extra=2, can_delete=True, max_num=20)


@require_GET
@login_required
def playbook_list(request):
    playbooks = Playbook.objects.annotate(
        running=Count("enrolments", filter=Q(enrolments__state=EnrolmentState.ACTIVE)),
        waiting=Count("enrolments", filter=Q(enrolments__state=EnrolmentState.REVIEW)),
        finished=Count("enrolments", filter=Q(enrolments__state=EnrolmentState.FINISHED)),
        exited=Count("enrolments", filter=Q(enrolments__state=EnrolmentState.EXITED)),
    )
    return render(request, "playbooks/list.html", {"playbooks": playbooks})


@require_GET
@login_required
def playbook_detail(request, playbook_id):
    playbook = get_object_or_404(Playbook, pk=playbook_id)
    entering = triggers.entering(playbook)
    enrolments = playbook.enrolments.select_related("customer").prefetch_related(
        Prefetch("history", queryset=StepRun.objects.order_by("step"))
    )
    state = request.GET.get("state", "")
    if state in EnrolmentState.values:
        enrolments = enrolments.filter(state=state)
    context = {
        "playbook": playbook,
        "preview": entering[:PREVIEW],
        "preview_count": entering.count(),
        "page": Paginator(enrolments, 25).get_page(request.GET.get("page")),
        "states": EnrolmentState.choices,
        "state": state,
    }
    return render(request, "playbooks/detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def playbook_edit(request, playbook_id=None):
    playbook = get_object_or_404(Playbook, pk=playbook_id) if playbook_id else Playbook()
    initial_steps = [{"action": s.get("action"), "value": s.get("value")} for s in playbook.steps]
    form = PlaybookForm(request.POST or None, instance=playbook, initial={"exits": playbook.exits})
    steps = StepFormSet(request.POST or None, initial=initial_steps, prefix="steps")
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        saved = form.save(commit=False)
        saved.exits = form.cleaned_data["exits"]
        saved.steps = [
            {"action": f.cleaned_data["action"], "value": f.cleaned_data["value"]}
            for f in steps.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if not saved.steps:
            messages.error(request, _("A playbook needs at least one step."))
        else:
            saved.save()
            messages.success(request, _("Playbook saved: %(name)s") % {"name": saved.name})
            return redirect("playbook", saved.pk)
    context = {
        "playbook": playbook,
        "form": form,
        "steps": steps,
        "templates": TEMPLATE_CHOICES,
        "rules": FollowUpRule.choices,
    }
    return render(request, "playbooks/edit.html", context)


@require_POST
@login_required
def playbook_switch(request, playbook_id):
    """Switch a playbook on or off; switched off, its enrolments wait where they are."""
    playbook = get_object_or_404(Playbook, pk=playbook_id)
    playbook.enabled = request.POST.get("enabled") == "1"
    playbook.save(update_fields=["enabled", "updated_at"])
    if playbook.enabled:
        messages.success(request, _("Switched on: %(name)s") % {"name": _(playbook.name)})
    else:
        messages.info(request, _("Switched off: %(name)s") % {"name": _(playbook.name)})
    if request.POST.get("back") == "list":
        return redirect("playbooks")
    return redirect("playbook", playbook.pk)


class ExitForm(forms.Form):
    reason = forms.ChoiceField(choices=ChurnReason.choices, widget=forms.RadioSelect)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)


@rate_limited("exit-question", limit=30, window_seconds=600)
@require_http_methods(["GET", "POST"])
@csrf_protect
def exit_question(request, token):
    """The win-back e-mail's one question: why did you leave? Reveals nothing but the
    question; the latest answer stands."""
    customer_id = links.customer_of_why_token(token)
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    if customer is None:
        return render(request, "feedback/not_found.html", status=404)
    language = customer.locale or translation.get_language_from_request(request)
    with translation.override(language):
        form = ExitForm(request.POST or None, initial={"reason": customer.churn_reason or None})
        business = AccountSettings.cached().business_name
        if request.method == "POST" and form.is_valid():
            actions.record_exit_answer(
                customer, form.cleaned_data["reason"], form.cleaned_data["comment"]
            )
            return render(request, "playbooks/exit_thanks.html", {"business": business})
        context = {"form": form, "business": business}
        status = 400 if request.method == "POST" else 200
        return render(request, "playbooks/exit_question.html", context, status=status)
