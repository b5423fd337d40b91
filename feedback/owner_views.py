"""Owner-side survey pages (login required). The full results page comes with the web app."""

import pandas as pd
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from cs_platform.csv_export import streaming_csv
from metrics.io import local_naive

from .models import Survey, SurveyResponse
from .results import filter_comments, summarise

COLUMNS = [
    "customer__name",
    "customer__email",
    "score",
    "comment",
    "sentiment",
    "language",
    "responded_at",
]


def _responses(survey: Survey) -> pd.DataFrame:
    rows = SurveyResponse.objects.filter(invitation__survey=survey).values(*COLUMNS)
    frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
    if len(frame):
        frame["responded_at"] = local_naive(frame["responded_at"])  # months in the owner's zone
    return frame


@require_GET
@login_required
def results_data(request, survey_id):
    """JSON of the results (scores with margins, trend, distribution, response rate, themes)."""
    survey = get_object_or_404(Survey, pk=survey_id)
    invited = survey.invitations.filter(sent_at__isnull=False).count()
    return JsonResponse(summarise(survey.kind, _responses(survey), invited))


@require_GET
@login_required
def export_responses(request, survey_id):
    """Answers as CSV (formula-safe); ?group=detractor&mood=negative filter comments."""
    survey = get_object_or_404(Survey, pk=survey_id)
    responses = _responses(survey)
    group, mood = request.GET.get("group", ""), request.GET.get("mood", "")
    if group or mood:
        responses = (
            filter_comments(responses, survey.kind, group, mood) if len(responses) else responses
        )
    header = [column.removeprefix("customer__") for column in COLUMNS]
    rows = responses[COLUMNS].itertuples(index=False, name=None)
    return streaming_csv(f"survey-{survey.pk}-responses.csv", header, rows)
