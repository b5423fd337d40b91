import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Do at start-up what the first requests would otherwise wait for: importing every
    view (the URLconf) and loading the comment analysis's word lists — about two
    seconds in all, which the first customer to answer a survey would sit through."""
    from django.urls import get_resolver

    from feedback.sentiment import load_lexicons

    get_resolver().url_patterns  # noqa: B018 (the property imports the views)
    load_lexicons()


warm_up()
