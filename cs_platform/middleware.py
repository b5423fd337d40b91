from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.utils import timezone

from metrics.models import AccountSettings


def healthz_middleware(get_response):
    """Answer /healthz/ before host checks and HTTPS redirects, so container health
    checks on 127.0.0.1 work in production. It reveals nothing about the data."""

    def middleware(request):
        if request.path == "/healthz/" and request.method in ("GET", "HEAD"):
            return HttpResponse("ok", content_type="text/plain")
        return get_response(request)

    return middleware


def account_display_middleware(get_response):
    """Owner pages show times in the account's time zone and money in its currency
    (Settings): `request.account` holds both."""

    def middleware(request):
        if not request.user.is_authenticated:
            return get_response(request)
        request.account = AccountSettings.display()
        timezone.activate(ZoneInfo(request.account["time_zone"]))
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware
