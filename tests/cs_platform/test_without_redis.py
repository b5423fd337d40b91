"""Redis is optional for serving pages: a real gunicorn with REDIS_URL pointing at a
closed port signs the owner in, serves every owner page and records survey answers;
rate limits and the login lockout count in the process; the outage is logged once;
/healthz/ reports each dependency."""

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import OWNER_PASSWORD, free_port

SETUP = f"""
from django.contrib.auth import get_user_model
from customers.models import Customer
from feedback.models import Survey, SurveyInvitation
get_user_model().objects.create_superuser("owner", "owner@example.com", "{OWNER_PASSWORD}")
survey = Survey.objects.create(name="NPS", kind="nps", question_en="How likely?")
for n in range(2):
    customer = Customer.objects.create(external_id=f"c{{n}}", email=f"c{{n}}@example.com")
    print("TOKEN", SurveyInvitation.create_for(survey, customer)[1])
"""
OWNER_PAGES = ["/", "/followups/", "/customers/", "/segments/", "/revenue/", "/settings/"]


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, form: dict) -> tuple[int, str]:
        status, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        data = {**form, "csrfmiddlewaretoken": token.group(1) if token else ""}
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base + path},
        )
        return self._open(request)

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.mark.django_db
@pytest.mark.own_sqlite  # gunicorn on a SQLite file (the `served` fixture)
def test_pages_and_answers_work_while_redis_is_down(served):
    app = served(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", LOGIN_FAILURE_LIMIT="3")
    output = app.manage("shell", "-c", SETUP).split()
    first, second = [output[i + 1] for i, word in enumerate(output) if word == "TOKEN"]
    app.start()

    health = json.loads(urllib.request.urlopen(f"{app.base}/healthz/", timeout=10).read())
    assert health == {"database": "ok", "cache": "down", "broker": "down"}

    customer = Browser(app.base)
    assert customer.get(f"/s/{first}/")[0] == 200
    status, thanks = customer.post(f"/s/{first}/", {"score": "2", "comment": "Too slow"})
    assert status == 200 and "Your answer has been recorded." in thanks
    assert customer.post(f"/s/{second}/", {"score": "10"})[0] == 200

    owner = Browser(app.base)
    status, page = owner.post("/accounts/login/", {"username": "owner", "password": OWNER_PASSWORD})
    assert status == 200 and "How your customers are doing" in page
    for path in OWNER_PAGES:
        assert owner.get(path)[0] == 200, path
    assert "Too slow" in owner.get("/followups/")[1]  # the detractor's item, at once

    # The lockout still holds, counted in this process: 3 failures, then refused.
    intruder = Browser(app.base)
    for _ in range(3):
        intruder.post("/accounts/login/", {"username": "owner", "password": "guess"})
    status, page = intruder.post(
        "/accounts/login/", {"username": "owner", "password": OWNER_PASSWORD}
    )
    assert "Too many failed sign-in attempts" in page

    # And so does the survey page's rate limit (60 a window per address).
    statuses = [customer.get(f"/s/{first}/")[0] for _ in range(65)]
    assert 429 in statuses

    app.stop()
    log = app.app_log.read_text()
    assert log.count("Redis (cache) unreachable") == 1, log
    assert log.count("Redis (task queue) unreachable") == 1, log
    assert "Traceback" not in log and "Internal Server Error" not in log
