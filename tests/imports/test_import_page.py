"""The import page: preview and row errors."""

import pytest

from customers.models import Customer, ImportJob

pytestmark = pytest.mark.django_db


def test_the_import_page_previews_the_file_and_lists_row_errors(
    owner_client, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("external_id,name,email\nc1,Ana,ana@example.com\nc2,Bo,not-an-email\n")
    with csv_file.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/import/", {"kind": "customers", "file": handle})
    job = ImportJob.objects.get()
    page = owner_client.get(response.url).content.decode()
    assert 'id="import-preview"' in page and "not-an-email" in page
    assert job.status == "failed" and '<td class="num">3</td>' in page  # the bad row's number
    assert not Customer.objects.filter(external_id__in=["c1", "c2"]).exists()
