"""No owner page answers 500 to any query parameter: every parameter a page offers
(its GET forms, its own links) and the ones its views read is sent odd values, one at
a time and mixed, with a fixed seed and a bounded number of requests per page."""

import random
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.architecture.test_query_counts import PAGES, Account
from tests.conftest import HTMX

pytestmark = pytest.mark.django_db

ODD_VALUES = [
    "bogus",
    "",
    " ",
    "\x00",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "purple",
    "'; DROP TABLE customers_customer; --",
    "<script>alert(1)</script>",
    "中文 é",
    "2020-13-45",
    "2020-01-01T00:00:00-22:39",
    "a" * 3000,
    "1,2",
    "../../etc/passwd",
    "%",
]
READ_BY_VIEWS = ["page", "sort", "before", "group", "mood", "audience", "segment", "customer"]
PER_PARAMETER = 4
MIXED = 6


class Parameters(HTMLParser):
    """The names a page's GET forms send and the query names of its links."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()
        self._in_get_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_get_form = (attrs.get("method") or "get").lower() == "get"
        elif tag in ("input", "select", "textarea") and self._in_get_form and attrs.get("name"):
            self.names.add(attrs["name"])
        for link in (attrs.get("href"), attrs.get("hx-get")):
            if link and "?" in link:
                self.names.update(name for name, _ in parse_qsl(urlsplit(link).query, True))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_get_form = False


def parameters(page: str) -> list[str]:
    parser = Parameters()
    parser.feed(page)
    return sorted(parser.names - {"csrfmiddlewaretoken"})


@pytest.mark.parametrize("name", sorted(PAGES))
def test_odd_query_parameters_never_give_a_server_error(owner_client, name):
    account = Account()
    account.add(2)
    path = account.path(name)
    base, _, own_query = path.partition("?")
    response = owner_client.get(path)
    page = "" if response.streaming else response.content.decode()
    names = sorted(set(parameters(page)) | set(READ_BY_VIEWS))
    rng = random.Random(f"{name}-13")
    queries = [{n: rng.choice(ODD_VALUES)} for n in names for _ in range(PER_PARAMETER)]
    queries += [{n: rng.choice(ODD_VALUES) for n in rng.sample(names, 3)} for _ in range(MIXED)]
    for query in queries:
        own = dict(parse_qsl(own_query))
        url = f"{base}?{urlencode({**own, **query})}"
        for headers in ({}, HTMX):
            response = owner_client.get(url, headers=headers)
            if response.streaming:
                b"".join(response)
            assert response.status_code < 500, (url, response.status_code)
    assert len(queries) >= PER_PARAMETER * len(READ_BY_VIEWS)


def test_a_filter_that_does_not_fit_is_ignored_and_said(owner_client, scored):
    page = owner_client.get("/customers/?health=purple&nps=bogus&q=Bo").content.decode()
    assert "These filters did not fit and were ignored: Health, Last NPS." in page
    assert "Bo Yellow" in page and "Ana Red" not in page  # the search still applies
    queue = owner_client.get("/followups/?due=someday", headers=HTMX).content.decode()
    assert "This filter did not fit and was ignored: Due." in queue
