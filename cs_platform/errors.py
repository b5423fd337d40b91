"""Error pages in the visitor's language for every page, public or owner: 404, 500,
and 503 with Retry-After while the database cannot be reached. They render without
the request's context processors (those would query the database that may be down);
API paths get JSON."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 30


def _page(request, status: int, heading: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    html = loader.get_template("error_page.html").render(
        {"status": status, "heading": heading, "message": message}
    )
    return HttpResponse(html, status=status)


def not_found(request, exception=None):
    return _page(
        request,
        404,
        _("Page not found"),
        _("There is nothing at this address. The link may be old or mistyped."),
    )


def server_error(request):
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = _page(
            request,
            503,
            _("Back in a moment"),
            _(
                "The service cannot reach its database right now. "
                "Nothing was lost; please try again in a minute."
            ),
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return _page(
        request,
        500,
        _("Something went wrong"),
        _(
            "The error was logged. Please try again; "
            "if it keeps happening, the owner will look into it."
        ),
    )
