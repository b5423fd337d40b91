"""No secret in any log: a real gunicorn (the production logger class) serving survey,
unsubscribe, exit-question and inbound links, with the token in the Referer too; then
its access log and the app's log are read back."""

import contextlib
import urllib.error
import urllib.request

import pytest

from cs_platform.redaction import redact

TOKEN = "Zq7xTokenThatMustNotLeak9Kp2"


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /s/{TOKEN}/ HTTP/1.1" 404',
        f"GET /s/{TOKEN}/opened/",
        f"https://shop.example/s/email/{TOKEN}/unsubscribe/",
        f"POST /inbound/email/{TOKEN}/ HTTP/1.1",
        f"/why/{TOKEN}/?reason=price",
        f"Authorization: Token {TOKEN}",
        f"Bearer {TOKEN}",
        f"?secret={TOKEN}&x=1",
        f"webhook_secret={TOKEN}",
        f"{{'X-Inbound-Secret': '{TOKEN}'}}",
        f"/accounts/login/?next=/customers/%3Fsecret%3D{TOKEN}",
        f"?next=%2Fwhy%2F{TOKEN}%2F",
    ],
)
def test_every_kind_of_secret_is_redacted(line):
    assert TOKEN not in redact(line) and "[redacted]" in redact(line)


def test_paths_without_secrets_stay_readable():
    for line in ("GET /surveys/3/ HTTP/1.1", "/customers/?page=2", "/static/js/app.js"):
        assert redact(line) == line


@pytest.mark.own_sqlite  # gunicorn on a SQLite file (the `served` fixture)
def test_gunicorn_and_the_app_write_no_token(served):
    app = served()
    app.start()
    base = app.base
    referer = {"Referer": f"{base}/s/{TOKEN}/"}
    for path in (
        f"/s/{TOKEN}/",
        f"/s/{TOKEN}/unsubscribe/",
        f"/s/email/{TOKEN}/unsubscribe/",
        f"/why/{TOKEN}/",
        f"/customers/?secret={TOKEN}",
    ):
        _get(base + path, referer)
    _get(f"{base}/inbound/email/{TOKEN}/", referer, data=b"not an e-mail")
    _get(f"{base}/api/customers/", {"Authorization": f"Token {TOKEN}"})
    app.stop()
    access, log = app.access_log.read_text(), app.app_log.read_text()
    assert access.count("[redacted]") >= 6 and "/s/[redacted]/" in access
    assert "Not Found: /s/[redacted]/" in log  # Django's own request warning
    assert TOKEN not in access and TOKEN not in log


def _get(url: str, headers: dict, data: bytes | None = None) -> None:
    # 404, 401, 400: the answers do not matter here, the logs do
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10)
