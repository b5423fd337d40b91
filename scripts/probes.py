"""The live probes of issue 15, re-runnable, each printing its figure.

    .venv/bin/python scripts/probes.py      (make probes runs it after the test probes)

A production-configured stack on this machine: gunicorn (4 workers, DEBUG off) on a
fresh Postgres database and Redis, with Debian's caddy in front using the project's
Caddyfile (NUM_PROXIES=1, as in docker-compose.yml). The shop is the synthetic demo
plus script payloads stored in every owner-editable and customer-written text. Probes:

- 50 simultaneous submits of one survey link; 500 links submitted twice at once;
- every GET an owner can click (crawled from the start page) and every public link:
  rows the GETs inserted, updated or deleted (Postgres's own table statistics);
- open redirects: login and language switch asked to send the browser elsewhere;
- stored script payloads: left unescaped in the HTML, and run in headless Chromium;
- 1,000 POSTs with forged X-Forwarded-For through caddy: how many the limit let in;
- an upload over the limit, and `check --deploy` with the production settings.
"""

import concurrent.futures
import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import psycopg2
import redis
import requests
import urllib3
from playwright.sync_api import sync_playwright

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
ROOT = Path(__file__).resolve().parent.parent
DATABASE = f"cs_probes_{os.getpid()}"
SERVER = "postgres://postgres@127.0.0.1:5432"
PAYLOADS = [
    "<script>window.__xss=(window.__xss||0)+1</script>",
    '<img src=x onerror="window.__xss=(window.__xss||0)+1">',
    '"><svg onload="window.__xss=(window.__xss||0)+1">',
    "javascript:window.__xss=(window.__xss||0)+1",
]
UNESCAPED = re.compile(r"<script>window\.__xss|<img src=x onerror|<svg onload")
ESCAPED = re.compile(r"&lt;script&gt;window\.__xss|&lt;img src=x onerror|&lt;svg onload")
LOGS = ("gunicorn.log", "caddy.log")
OWNER, PASSWORD = "probe-owner", secrets.token_urlsafe(12)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


GUNICORN, CADDY = free_port(), free_port()
DIRECT, PROXIED = f"http://127.0.0.1:{GUNICORN}", f"https://127.0.0.1:{CADDY}"  # caddy's own CA
ENV = {
    "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
    "DATABASE_URL": f"{SERVER}/{DATABASE}",
    "REDIS_URL": "redis://127.0.0.1:6379/5",  # a database of the probes' own: flushed first
    "CELERY_QUEUE": f"cs_probes_{os.getpid()}",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CSRF_TRUSTED_ORIGINS": f"{DIRECT},{PROXIED}",
    "NUM_PROXIES": "1",
    "IMPORT_MAX_MB": "50",
}


def browser_session() -> requests.Session:
    """A client for caddy's certificate from its own local CA (not verified: loopback)."""
    client = requests.Session()
    client.trust_env = False  # no proxy, and no CA bundle from the environment over verify
    client.verify = False
    return client


def manage(*args: str, **extra) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**ENV, **extra},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def server_sql(statement: str) -> None:
    connection = psycopg2.connect(f"{SERVER}/postgres")
    connection.autocommit = True
    connection.cursor().execute(statement)
    connection.close()


SEED = f"""
from django.contrib.auth.models import User
from customers.models import Customer, EmailTemplate, InboundEmail, Interaction, Playbook
from feedback.models import Survey, SurveyInvitation
from segmentation.models import SavedSegment
P = {PAYLOADS!r}
User.objects.create_superuser({OWNER!r}, "owner@probe.example", {PASSWORD!r})
marked = list(Customer.objects.order_by("id")[:4])
for n, c in enumerate(marked):
    c.name, c.company, c.plan, c.churn_comment = P[n], P[n - 1], P[n - 2][:100], P[n]
    c.tags, c.custom = [P[n][:40]], {{"note": P[n], P[n - 1][:30]: "x"}}
    c.save()
    Interaction.objects.create(customer=c, kind="note", direction="internal",
                               subject=P[n], body=P[n - 1])
    InboundEmail.objects.create(message_id=f"<probe{{n}}@x>", from_address="a@b.example",
                                from_name=P[n][:200], subject=P[n], body=P[n - 2])
survey = Survey.objects.create(name=P[0][:100], kind="nps", question_en=P[1],
                               followup_en=P[2])
SavedSegment.objects.create(name=P[1][:100], filters={{}})
playbook = Playbook.objects.create(name=P[2][:100], trigger="segment", trigger_value="x", steps=[])
EmailTemplate.objects.update_or_create(
    rule="detractor", defaults={{"subject_en": P[3], "body_en": P[0]}}
)
tokens = [SurveyInvitation.create_for(survey, c)[1] for c in Customer.objects.order_by("id")[:502]]
print("TOKENS", " ".join(tokens))
from django.urls import reverse
shown = [reverse(name, args=[c.id]) for c in marked for name in ("customer", "customer-edit")]
shown += [reverse(name, args=[survey.id]) for name in ("survey-detail", "survey-edit")]
shown += [reverse(name, args=[playbook.id]) for name in ("playbook", "playbook-edit")]
shown += [f"/s/{{tokens[501]}}/", "/inbox/", "/segments/", "/followups/templates/"]
print("PAGES", " ".join(shown))
"""


def set_up() -> tuple[list[str], list[str]]:
    """(survey links, the pages that show the stored payloads)."""
    redis.Redis.from_url(ENV["REDIS_URL"]).flushdb()  # no rate-limit count from a last run
    server_sql(f'CREATE DATABASE "{DATABASE}"')
    manage("migrate", "-v0")
    manage("collectstatic", "--noinput", "-v0")  # DEBUG off: the hashed manifest, as deployed
    manage("load_demo", "--synthetic", "--customers", "600")
    manage("score")
    seeded = dict(line.split(" ", 1) for line in manage("shell", "-c", SEED).splitlines()[-2:])
    return seeded["TOKENS"].split(), seeded["PAGES"].split()


class Stack:
    """gunicorn on loopback and caddy in front of it, with the project's Caddyfile."""

    def __init__(self, directory: Path, **env):
        self.directory, self.env = directory, {**ENV, **env}
        self.processes: list[subprocess.Popen] = []

    def __enter__(self):
        self.processes.append(
            subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "cs_platform.wsgi"]
                + ["--bind", f"127.0.0.1:{GUNICORN}", "--workers", "4", "--threads", "2"]
                + ["--logger-class", "cs_platform.gunicorn_logging.Logger"],
                cwd=ROOT,
                env=self.env,
                stderr=(self.directory / "gunicorn.log").open("a"),
            )
        )
        caddy_env = {
            **self.env,
            "SITE_ADDRESS": PROXIED,
            "UPSTREAM": f"127.0.0.1:{GUNICORN}",
            "XDG_DATA_HOME": str(self.directory),
            "XDG_CONFIG_HOME": str(self.directory),
        }
        self.processes.append(
            subprocess.Popen(
                ["caddy", "run", "--config", str(ROOT / "Caddyfile"), "--adapter", "caddyfile"],
                env=caddy_env,
                stdout=subprocess.DEVNULL,
                stderr=(self.directory / "caddy.log").open("a"),
            )
        )
        for base in (DIRECT, PROXIED):
            if not answers_at(base):
                logs = [(self.directory / name).read_text()[-3000:] for name in LOGS]
                self.__exit__()
                sys.exit(f"{base} did not come up:\n" + "\n".join(logs))
        return self

    def __exit__(self, *_):
        for process in self.processes:
            process.terminate()
            process.wait(timeout=30)


def answers_at(base: str) -> bool:
    for _ in range(120):  # each worker trains the sentiment models as it starts
        with contextlib.suppress(requests.RequestException):
            browser_session().get(f"{base}/healthz/", timeout=10, allow_redirects=False)
            return True
        time.sleep(0.5)
    return False


def submit(base: str, token: str, score: int, comment: str = "probe") -> int:
    with browser_session() as browser:
        page = browser.get(f"{base}/s/{token}/", timeout=30)
        csrf = browser.cookies.get("csrftoken", "")
        answered = browser.post(
            f"{base}/s/{token}/",
            data={"score": score, "comment": comment, "csrfmiddlewaretoken": csrf},
            headers={"Referer": page.url},
            timeout=30,
        )
        return answered.status_code


def answers(first: int, last: int) -> tuple[int, int]:
    """(answers stored for the probe survey's links first..last, in the order made,
    links with more than one answer). The probe survey is the newest one."""
    counts = query(
        "SELECT COUNT(r.id) FROM feedback_surveyinvitation i "
        "LEFT JOIN feedback_surveyresponse r ON r.invitation_id = i.id "
        "WHERE i.survey_id = (SELECT MAX(id) FROM feedback_survey) "
        "GROUP BY i.id ORDER BY i.id OFFSET %s LIMIT %s",
        [first, last - first + 1],
    )
    return sum(n for (n,) in counts), sum(1 for (n,) in counts if n > 1)


def query(sql: str, params=()) -> list[tuple]:
    connection = psycopg2.connect(ENV["DATABASE_URL"])
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def probe_concurrent_submits(tokens: list[str]) -> None:
    one, rest = tokens[0], tokens[1:501]
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(lambda n: submit(PROXIED, one, n % 11), range(50)))
    stored, _ = answers(0, 0)
    print(f"50 simultaneous submits of one link: {stored} answer stored ({dict(Counter(codes))})")
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        twice = [(t, n % 11, PAYLOADS[n % 4]) for n, t in enumerate(rest)] * 2
        list(pool.map(lambda answer: submit(PROXIED, *answer), twice))
    stored, doubled = answers(1, 500)
    print(f"500 links submitted twice at once: {stored} answers stored, {doubled} links with two")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "hx-get") and value:
                self.found.add(value)


def logged_in(base: str) -> requests.Session:
    browser = browser_session()
    browser.get(f"{base}/accounts/login/", timeout=30)
    browser.post(
        f"{base}/accounts/login/",
        data={
            "username": OWNER,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
    )
    return browser


def crawl(browser: requests.Session, base: str, per_kind: int = 3) -> list[str]:
    """Every same-site link an owner can click, breadth first from the start page; of
    links that differ only in ids and query values ("/customers/12/"), the first few."""
    seen, queue, kinds = [], ["/"], Counter()
    while queue:
        path = queue.pop(0)
        kind = (
            re.sub(r"\d+", "N", urlsplit(path).path),
            tuple(sorted(parse_qs(urlsplit(path).query))),
        )
        if path in seen or kinds[kind] >= per_kind:
            continue
        seen.append(path)
        kinds[kind] += 1
        answer = browser.get(base + path, timeout=60)
        if "html" not in answer.headers.get("Content-Type", ""):
            continue
        links = Links()
        links.feed(answer.text)
        for link in sorted(links.found):
            parts = urlsplit(urljoin(base + path, link))
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            skip = ("/accounts/logout", "/admin/", "/static/", "/i18n/")
            if parts.netloc == urlsplit(base).netloc and not target.startswith(skip):
                queue.append(target)
    return seen


def table_writes() -> dict[str, int]:
    rows = query("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables")
    return dict(rows)


def probe_gets_that_write(tokens: list[str], marked_pages: list[str]) -> list[str]:
    with Stack(WORK) as _:
        owner = logged_in(PROXIED)
        pages = crawl(owner, PROXIED)
    pages += [path for path in marked_pages if path not in pages]
    time.sleep(1.5)  # server processes gone: their statistics are flushed
    before = table_writes()
    with Stack(WORK) as _:
        owner = logged_in(PROXIED)
        for path in pages:
            owner.get(PROXIED + path, timeout=60)
        public = [f"/s/{tokens[501]}/", f"/s/{tokens[501]}/unsubscribe/", "/healthz/"]
        for path in public:
            browser_session().get(PROXIED + path, timeout=30)
    time.sleep(1.5)
    after = table_writes()
    changed = {t: after.get(t, 0) - n for t, n in before.items() if after.get(t, 0) != n}
    session = changed.pop("django_session", 0)
    login = sum(changed.pop(t, 0) for t in ("auth_user",))  # last_login of the sign-in
    print(f"{len(pages)} owner pages (each kind of link from the start page, 3 of a kind)")
    print(f"  and {len(public)} public links, by GET: {sum(changed.values())} rows written")
    print(f"  {dict(changed) or ''}(besides the sign-in: {login} user row, {session} session rows)")
    return pages


def probe_open_redirects() -> None:
    elsewhere = [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "http:evil.example",
    ]
    off_site = tried = 0
    for target in elsewhere:
        browser = browser_session()
        browser.get(f"{PROXIED}/accounts/login/", timeout=30)
        csrf = browser.cookies["csrftoken"]
        replies = [
            browser.post(
                f"{PROXIED}/accounts/login/?next={target}",
                data={"username": OWNER, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
                headers={"Referer": f"{PROXIED}/accounts/login/"},
                allow_redirects=False,
                timeout=30,
            ),
            browser.post(
                f"{PROXIED}/i18n/setlang/",
                data={"language": "zh-hans", "next": target, "csrfmiddlewaretoken": csrf},
                headers={"Referer": f"{PROXIED}/accounts/login/"},
                allow_redirects=False,
                timeout=30,
            ),
            browser.get(f"{PROXIED}/accounts/login/?next={target}", allow_redirects=False),
        ]
        for answer in replies:
            tried += 1
            location = urljoin(PROXIED + "/", answer.headers.get("Location", "/"))
            off_site += urlsplit(location).netloc != urlsplit(PROXIED).netloc
    print(f"open redirects: {off_site} of {tried} requests asking to leave the site did")


def probe_scripts(pages: list[str]) -> None:
    owner = logged_in(PROXIED)
    html = {}
    for path in pages:
        answer = owner.get(PROXIED + path, timeout=60)
        if "html" in answer.headers.get("Content-Type", ""):
            html[path] = answer.text
    unescaped = [path for path, text in html.items() if UNESCAPED.search(text)]
    shown = [path for path, text in html.items() if ESCAPED.search(text)]
    ran = violations = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        context = browser.new_context(ignore_https_errors=True)
        context.add_cookies(
            [{"name": c.name, "value": c.value, "url": PROXIED} for c in owner.cookies]
        )
        page = context.new_page()

        def count_violation(message):
            nonlocal violations
            violations += "Content Security Policy" in message.text

        page.on("console", count_violation)
        for path in html:
            page.goto(PROXIED + path)
            for link in page.query_selector_all("a[href^='javascript:']"):
                with contextlib.suppress(Exception):
                    link.click(timeout=500)
            ran += page.evaluate("window.__xss || 0")
        browser.close()
    print(f"stored script payloads: {len(PAYLOADS)} payloads in 20 fields (customer name,")
    print("  company, plan, tags, custom field and value, churn comment, note subject and body,")
    print("  inbound sender, subject and body, survey name, question and follow-up, answers'")
    print("  comments, segment, playbook, template subject and body), on the pages showing them;")
    print(f"  {len(shown)} of {len(html)} HTML pages show one as text, {len(unescaped)} as markup;")
    print(f"  {ran} scripts ran in Chromium ({violations} reports of a blocked inline script)")


def probe_forged_forwarding(tokens: list[str]) -> None:
    def forged(base: str, n: int) -> int:
        address = f"203.0.{n // 250}.{n % 250 + 1}"
        return (
            browser_session()
            .post(
                f"{base}/s/{tokens[501]}/unsubscribe/",
                data={"List-Unsubscribe": "One-Click"},
                # what caddy adds; sent by hand to the exposed gunicorn
                headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"},
                allow_redirects=False,
                timeout=30,
            )
            .status_code
        )

    with Stack(WORK) as _:
        through_caddy = [forged(PROXIED, n) for n in range(1000)]
        direct = [forged(DIRECT, n) for n in range(1000, 2000)]
    print("1,000 POSTs from one client, each with a forged X-Forwarded-For, through caddy:")
    let_in = len(through_caddy) - through_caddy.count(429)
    print(f"  {let_in} let through (limit: 30 per address), {through_caddy.count(429)} refused")
    print("  straight to gunicorn, as an exposed port would allow (compose publishes only")
    print(f"  caddy): {len(direct) - direct.count(429)} let through, {direct.count(429)} refused")


def probe_upload_and_deploy_check() -> None:
    with Stack(WORK) as _:
        owner = logged_in(PROXIED)
        owner.get(f"{PROXIED}/import/", timeout=30)
        big = b"external_id,customer_external_id,occurred_at,amount\n" + b"x" * (51 << 20)
        answer = owner.post(
            f"{PROXIED}/import/",
            data={"kind": "orders", "csrfmiddlewaretoken": owner.cookies["csrftoken"]},
            files={"file": ("orders.csv", big, "text/csv")},
            headers={"Referer": f"{PROXIED}/import/"},
            timeout=120,
        )
    said = "larger than 50 MB" in answer.text and "the page says it is larger than 50 MB"
    print(f"a 51 MB upload (limit 50 MB): HTTP {answer.status_code}, {said or 'no message'}")
    checked = manage("check", "--deploy", "--fail-level", "WARNING")
    print(f"check --deploy with the production settings: {checked.strip().splitlines()[-1]}")


if __name__ == "__main__":
    if not shutil.which("caddy"):
        sys.exit("caddy is missing: `make probes` installs Debian's caddy")
    WORK = Path(tempfile.mkdtemp(prefix="cs-probes-"))
    try:
        tokens, marked_pages = set_up()
        with Stack(WORK, RATE_LIMIT_FACTOR="1000") as _:
            probe_concurrent_submits(tokens)
        pages = probe_gets_that_write(tokens, marked_pages)
        with Stack(WORK) as _:
            probe_open_redirects()
            probe_scripts(pages)
        probe_forged_forwarding(tokens)
        probe_upload_and_deploy_check()
    finally:
        server_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        shutil.rmtree(WORK, ignore_errors=True)
