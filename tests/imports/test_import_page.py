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


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(
    owner_client, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_MB = 1
    big = tmp_path / "orders.csv"
    row = "o{n},c1,2026-01-01,10\n"
    big.write_text(
        "external_id,customer_external_id,occurred_at,amount\n"
        + "".join(row.format(n=n) for n in range(80_000))
    )
    assert big.stat().st_size > 1024 * 1024
    with big.open("rb") as handle:
        response = owner_client.post("/import/", {"kind": "orders", "file": handle})
    page = response.content.decode()
    assert response.status_code == 200 and "The file is larger than 1 MB" in page
    assert not ImportJob.objects.exists() and not list(tmp_path.rglob("*.csv"))[1:]


def test_a_file_under_the_limit_is_accepted(owner_client, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_MB = 1
    small = tmp_path / "customers.csv"
    small.write_text("external_id,name\nc1,Ana\n")
    with small.open("rb") as handle:
        response = owner_client.post("/import/", {"kind": "customers", "file": handle})
    assert response.status_code == 302 and ImportJob.objects.count() == 1
