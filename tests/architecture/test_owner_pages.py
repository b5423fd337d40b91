"""Every owner page renders, and pages that also serve fragments say so to caches."""

import pytest

from feedback.models import Survey

pytestmark = pytest.mark.django_db


def test_every_owner_page_renders_for_the_owner(owner_client, scored):
    _, (ana, *_rest) = scored
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    for url in [
        "/",
        "/followups/",
        "/customers/",
        f"/customers/{ana.pk}/",
        f"/customers/{ana.pk}/edit/",
        f"/customers/{ana.pk}/delete/",
        "/segments/",
        "/surveys/",
        "/surveys/new/",
        f"/surveys/{survey.pk}/",
        f"/surveys/{survey.pk}/send/",
        "/import/",
        "/settings/",
        f"/runs/{scored[0].pk}/",
    ]:
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert b"<html" in response.content and b"Traceback" not in response.content


def test_pages_that_also_serve_fragments_vary_on_the_htmx_header(owner_client, scored):
    for url in ("/customers/", "/followups/"):
        assert "HX-Request" in owner_client.get(url)["Vary"]
