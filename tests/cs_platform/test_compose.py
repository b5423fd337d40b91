"""The compose deployment cannot be spoofed: Caddy is the only published port, gunicorn
is reachable on the compose network only, NUM_PROXIES counts exactly Caddy, and the
commands that serve use the redacting logger. (`docker compose config` needs the
compose plugin; this reads the same file.)"""

from pathlib import Path

import yaml

from tests.conftest import ROOT


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_only_caddy_is_published():
    services = compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"caddy"}
    assert services["web"]["expose"] == ["8000"]
    assert {"80:80", "443:443"} <= set(services["caddy"]["ports"])


def test_the_app_trusts_exactly_one_proxy_and_logs_no_secret():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["NUM_PROXIES"] == "1"
    assert "--logger-class cs_platform.gunicorn_logging.Logger" in services["web"]["command"]
    assert "cs_platform.gunicorn_logging.Logger" in (ROOT / "Dockerfile").read_text()


def test_caddy_proxies_to_the_app_with_the_upload_limit_and_backups_have_a_volume():
    caddyfile = Path(ROOT / "Caddyfile").read_text()
    assert (
        "reverse_proxy {$UPSTREAM:web:8000}" in caddyfile
        and "{$SITE_ADDRESS:localhost}" in caddyfile
    )
    assert "max_size 60MB" in caddyfile
    spec = compose()
    assert "backups:/app/backups" in spec["services"]["worker"]["volumes"]
    assert {"backups", "caddy_data", "media", "pgdata"} <= set(spec["volumes"])
