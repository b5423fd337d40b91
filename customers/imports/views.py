"""The import pages: upload a CSV, then watch it validate and load (HTMX polling)."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from cs_platform.broker import enqueue_or_run_here
from customers.models import ImportJob

from .load import preview
from .tasks import run_import


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[
            ("customers", _("Customers")),
            ("orders", _("Orders (our template or a Stripe payments export)")),
            ("interactions", _("Interactions (emails, calls, tickets, logins)")),
        ],
    )
    file = forms.FileField(label=_("CSV file (UTF-8)"))

    def __init__(self, *args, too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None:
            return upload
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(_("Upload a .csv file."))
        return upload

    def clean(self):
        if self.too_large:  # the upload handler stopped keeping the file
            self.errors.pop("file", None)
            self.add_error("file", too_large_message())
        return super().clean()


def too_large_message() -> str:
    return _(
        "The file is larger than %(limit)s MB. Split it into smaller files (for example "
        "one per year) and import them one after another."
    ) % {"limit": settings.IMPORT_MAX_MB}


@require_http_methods(["GET", "POST"])
@login_required
def import_upload(request):
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        too_large=getattr(request, "upload_too_large", False),
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob.objects.create(
            kind=form.cleaned_data["kind"],
            file=upload,
            original_name=upload.name[:255],
            created_by=request.user,
        )
        transaction.on_commit(lambda: enqueue_or_run_here(run_import, job.pk))
        return redirect("import-status", job_id=job.pk)
    return render(
        request, "imports/upload.html", {"form": form, "jobs": ImportJob.objects.all()[:10]}
    )


@require_GET
@login_required
@vary_on_headers("HX-Request")  # one URL, page or fragment: caches must tell them apart
def import_status(request, job_id):
    job = get_object_or_404(ImportJob, pk=job_id)
    if request.htmx:
        return render(request, "imports/partials/_status.html", {"job": job})
    header, rows = [], []
    if job.file and job.file.storage.exists(job.file.name):
        with job.file.open("rb") as binary:
            header, rows = preview(binary)
    return render(
        request,
        "imports/status.html",
        {"job": job, "preview_header": header, "preview_rows": rows},
    )
