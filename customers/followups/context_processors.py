from . import today


def navigation(request):
    """The badge in the navigation bar: how many follow-ups today's list shows."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    counted = getattr(request, "followups_today", None)  # the queue's views count it
    return {"nav_followups": today.count()[0] if counted is None else counted}
