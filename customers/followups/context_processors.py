from customers.models import FollowUp


def navigation(request):
    """The follow-up count in the navigation bar (owner pages only: one indexed count)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"nav_followups": FollowUp.objects.open_for_today().count()}
