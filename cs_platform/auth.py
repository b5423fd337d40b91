"""Owner login with a temporary lockout after repeated failures.

Counters live in the cache (Redis in production) per username and per client IP;
after LOGIN_FAILURE_LIMIT failures further attempts are refused for
LOGIN_LOCKOUT_SECONDS, then allowed again. A correct password during the lockout
is refused too, so guessing cannot continue in the background.
"""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cs_platform.ratelimit import client_ip


def _keys(request, username: str) -> list[str]:
    return [f"login-fail:user:{username.strip().lower()}", f"login-fail:ip:{client_ip(request)}"]


def is_locked_out(request, username: str) -> bool:
    counts = cache.get_many(_keys(request, username)).values()
    return any(count >= settings.LOGIN_FAILURE_LIMIT for count in counts)


def record_failure(request, username: str) -> None:
    for key in _keys(request, username):
        # add() starts the window; incr() keeps its expiry.
        if not cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def clear_failures(request, username: str) -> None:
    cache.delete_many(_keys(request, username))


class LockoutAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked_out": _(
            "Too many failed sign-in attempts. Wait %(minutes)d minutes and try again."
        ),
    }

    def clean(self):
        username = self.data.get("username", "")
        if is_locked_out(self.request, username):
            raise ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": max(settings.LOGIN_LOCKOUT_SECONDS // 60, 1)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(self.request, username)
            raise
        clear_failures(self.request, username)
        return cleaned


class OwnerLoginView(LoginView):
    form_class = LockoutAuthenticationForm
    redirect_authenticated_user = True
