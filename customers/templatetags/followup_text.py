"""Follow-up reasons and actions, stored in English, shown in the owner's language."""

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def reason(item) -> str:
    args = item.reason_args or {}
    if "t" not in args:
        return item.reason  # written by hand, or before reasons kept their template
    try:
        return gettext(args["t"]) % args
    except (KeyError, TypeError, ValueError):  # a translation that does not fit its template
        return item.reason


@register.filter
def action(text: str) -> str:
    return gettext(text) if text else ""
