"""No secret in any log: a real gunicorn (the production logger class) serving survey,
unsubscribe, exit-question and inbound links, with the token in the Referer too; then
its access log and the app's log are read back."""

import contextlib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cs_platform.redaction import redact
from tests.conftest import ROOT, free_port

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


def test_gunicorn_and_the_app_write_no_token(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "1",
        "LOG_LEVEL": "INFO",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, capture_output=True
    )
    assert migrate.returncode == 0, migrate.stderr
    port, access_log, app_log = free_port(), tmp_path / "access.log", tmp_path / "app.log"
    with app_log.open("w") as errors:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "cs_platform.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                str(access_log),
                "--logger-class",
                "cs_platform.gunicorn_logging.Logger",
            ],
            cwd=ROOT,
            env=env,
            stderr=errors,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(base)
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
        finally:
            server.terminate()
            server.wait(timeout=20)
    access, app = access_log.read_text(), app_log.read_text()
    assert access.count("[redacted]") >= 6 and "/s/[redacted]/" in access
    assert "Not Found: /s/[redacted]/" in app  # Django's own request warning
    assert TOKEN not in access and TOKEN not in app


def _wait_for(base: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/healthz/", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("gunicorn did not start")


def _get(url: str, headers: dict, data: bytes | None = None) -> None:
    # 404, 401, 400: the answers do not matter here, the logs do
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10)
