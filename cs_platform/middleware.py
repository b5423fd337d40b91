import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.utils import timezone

from metrics.models import AccountSettings

from . import health


def healthz_middleware(get_response):
    """Answer /healthz/ before host checks and HTTPS redirects, so container health
    checks on 127.0.0.1 work in production: each dependency's state, 503 only when the
    database is down (without Redis the pages still work). It reveals nothing about
    the data."""

    def middleware(request):
        if request.path == "/healthz/" and request.method in ("GET", "HEAD"):
            states = health.dependencies()
            status = 200 if states["database"] == health.OK else 503
            return JsonResponse(states, status=status)
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


def content_security_policy_middleware(get_response):
    """The Content-Security-Policy header on every response (settings.CONTENT_SECURITY_POLICY):
    scripts only from our own static files, so an injected <script> or onclick= never runs."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response

    return middleware


LAST_SEEN = "last_seen"
LAST_SEEN_PRECISION = 60  # seconds: the session is written at most once a minute


def idle_logout_middleware(get_response):
    """An owner session ends after SESSION_IDLE_MINUTES without a request (the cookie's
    own age, SESSION_COOKIE_AGE, caps it in any case). HTMX requests are sent to the
    login page whole (HX-Redirect), not swapped into a panel."""

    def middleware(request):
        idle = settings.SESSION_IDLE_MINUTES * 60
        if idle and request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_SEEN)
            if last is not None and now - last > idle:
                logout(request)
                if request.headers.get("HX-Request"):
                    return HttpResponse(headers={"HX-Redirect": resolve_url(settings.LOGIN_URL)})
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= LAST_SEEN_PRECISION:
                request.session[LAST_SEEN] = now
        return get_response(request)

    return middleware
