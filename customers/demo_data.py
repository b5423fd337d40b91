"""Demo data: the real CDNOW transaction log dressed up as a small online shop.

CDNOW_master.txt (23,570 customers who first bought in Q1 1997, all their purchases
to June 1998) ships inside the `lifetimes` wheel. We download that wheel once with
pip and read the file from it; the package itself is never installed or imported.
Everything else (names, plans, interactions, tickets) is generated from a fixed seed.
Pure: functions return DataFrames; the load_demo command writes them.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

LIFETIMES_WHEEL = "lifetimes==0.11.3"
SEED = 20261122


def cache_dir() -> Path:
    return Path(settings.DATA_CACHE_DIR)


def lifetimes_wheel(download: bool = True) -> Path | None:
    """Path of the cached lifetimes wheel, downloading it with pip if allowed."""
    folder = cache_dir() / "wheels"
    found = sorted(folder.glob("[Ll]ifetimes-*.whl"))
    if found or not download:
        return found[-1] if found else None
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "-d",
            str(folder),
            LIFETIMES_WHEEL,
        ],
        check=False,
        capture_output=True,
        timeout=300,
    )
    found = sorted(folder.glob("[Ll]ifetimes-*.whl"))
    return found[-1] if found else None


def read_cdnow(name: str = "CDNOW_master.txt", download: bool = True) -> pd.DataFrame | None:
    """CDNOW transactions: customer_id, date, cds, amount. None if the wheel cannot be had.

    CDNOW_master.txt holds all 23,570 customers; CDNOW_sample.txt the 2,357-customer
    sample of the published BG/NBD and Gamma-Gamma estimates (it has an extra column,
    the customer's number within the sample, which is dropped).
    """
    wheel = lifetimes_wheel(download)
    if wheel is None:
        return None
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(f"lifetimes/datasets/{name}").decode()
    frame = pd.read_csv(io.StringIO(raw), sep=r"\s+", header=None, comment=None, dtype=str)
    if not frame.iloc[0, 0].isdigit():  # a header row
        frame = frame.iloc[1:]
    columns = ["customer_id", "date", "cds", "amount"]
    frame = frame.iloc[:, [0, -3, -2, -1]].set_axis(columns, axis=1)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    frame["cds"] = frame["cds"].astype(int)
    frame["amount"] = frame["amount"].astype(float)
    return frame.reset_index(drop=True)


def synthetic_transactions(customers: int = 23_570, seed: int = SEED) -> pd.DataFrame:
    """Same shape as CDNOW, simulated from BG/NBD + Gamma-Gamma with CDNOW-like parameters."""
    rng = np.random.default_rng(seed)
    weeks = 78
    first = rng.uniform(0, 12, customers)
    rate = rng.gamma(0.243, 1 / 4.414, customers)  # purchases per week while alive
    drop = rng.beta(0.793, 2.426, customers)  # chance of dying after each purchase
    spend = rng.gamma(6.25, 1 / rng.gamma(3.74, 1 / 15.44, customers))  # mean spend per customer
    rows = []
    for i in range(customers):
        t = first[i]
        while t < weeks:
            rows.append((f"{i + 1:05d}", t, spend[i] * rng.gamma(6.25) / 6.25))
            if rng.random() < drop[i] or rate[i] == 0:
                break
            t += rng.exponential(1 / rate[i])
    frame = pd.DataFrame(rows, columns=["customer_id", "week", "amount"])
    frame["date"] = pd.Timestamp("1997-01-01") + pd.to_timedelta(
        (frame["week"] * 7).round(), unit="D"
    )
    frame = frame[frame["date"] <= pd.Timestamp("1998-06-30")].copy()  # CDNOW's last day
    frame["cds"] = np.maximum(1, (frame["amount"] / 15).round()).astype(int)
    frame["amount"] = frame["amount"].round(2)
    return frame[["customer_id", "date", "cds", "amount"]]


EN_FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Daniel",
    "Karen",
    "Matthew",
    "Nancy",
    "Anthony",
    "Lisa",
    "Mark",
    "Betty",
    "Steven",
    "Sandra",
    "Paul",
    "Ashley",
    "Andrew",
    "Emily",
    "Joshua",
    "Olivia",
    "Kevin",
    "Emma",
    "Brian",
    "Grace",
    "Ryan",
    "Chloe",
]
EN_LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Turner",
    "Parker",
    "Collins",
]
ZH_SURNAME = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹")
ZH_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "晓明",
    "志强",
    "海燕",
    "俊杰",
    "雨涵",
    "子轩",
    "欣怡",
    "浩然",
    "梓涵",
    "一诺",
    "思远",
]
ZH_PINYIN = {  # e-mail local parts for Chinese names
    "王": "wang",
    "李": "li",
    "张": "zhang",
    "刘": "liu",
    "陈": "chen",
    "杨": "yang",
    "黄": "huang",
    "赵": "zhao",
    "吴": "wu",
    "周": "zhou",
    "徐": "xu",
    "孙": "sun",
    "马": "ma",
    "朱": "zhu",
    "胡": "hu",
    "郭": "guo",
    "何": "he",
    "高": "gao",
    "林": "lin",
    "罗": "luo",
    "郑": "zheng",
    "梁": "liang",
    "谢": "xie",
    "宋": "song",
    "唐": "tang",
    "许": "xu",
    "韩": "han",
    "冯": "feng",
    "邓": "deng",
    "曹": "cao",
}
COMPANIES = [
    "",
    "",
    "",
    "Northwind Traders",
    "Blue Harbor Studio",
    "Maple Leaf Records",
    "Sunrise Cafe",
    "Pixel & Co",
    "上海乐声文化",
    "杭州云图科技",
    "深圳星河传媒",
    "Brightside Events",
]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]  # reserved: never a real inbox
PLANS = [("", 0.0), ("Club", 9.0), ("Club Plus", 19.0)]


def build_demo(transactions: pd.DataFrame, today: date, seed: int = SEED):
    """Customers, orders and interactions frames (DB column names, customer_external_id refs)."""
    rng = np.random.default_rng(seed)
    tx = transactions.copy()
    shift = pd.Timestamp(today) - pd.Timedelta(days=1) - tx["date"].max()
    tx["date"] = tx["date"] + shift
    tx["external_id"] = "cdnow-" + tx["customer_id"]

    per_customer = tx.groupby("external_id").agg(
        first=("date", "min"), last=("date", "max"), orders=("date", "size")
    )
    n = len(per_customer)
    chinese = rng.random(n) < 0.3
    first_en = rng.choice(EN_FIRST, n)
    last_en = rng.choice(EN_LAST, n)
    surname = rng.choice(ZH_SURNAME, n)
    given = rng.choice(ZH_GIVEN, n)
    number = np.arange(1, n + 1).astype(str)
    name = np.where(
        chinese, np.char.add(surname, given), np.char.add(np.char.add(first_en, " "), last_en)
    )
    local = np.where(
        chinese,
        np.char.add(pd.Series(surname).map(ZH_PINYIN).to_numpy().astype(str), number),
        np.char.add(
            np.char.add(np.char.lower(first_en), "."), np.char.add(np.char.lower(last_en), number)
        ),
    )
    email = np.char.add(np.char.add(local, "@"), rng.choice(EMAIL_DOMAINS, n))
    plan_index = rng.choice(3, n, p=[0.7, 0.22, 0.08])
    end = pd.Timestamp(today)
    has_plan = plan_index > 0
    purchase_days = tx.groupby("external_id")["date"].apply(lambda d: np.sort(d.to_numpy()))
    cancelled = _cancellations(
        per_customer["first"].to_numpy(), purchase_days.to_numpy(), has_plan, end, rng
    )
    payments, plan_index = _subscription_payments(
        per_customer.index.to_numpy(),
        per_customer["first"].to_numpy(),
        cancelled,
        plan_index,
        end,
        rng,
    )
    paying = has_plan & np.isnat(cancelled)
    days_quiet = (end - per_customer["last"]).dt.days.to_numpy()
    stage = np.select(
        [~np.isnat(cancelled), paying, days_quiet > 270, days_quiet > 120],
        ["churned", "active", "churned", "at_risk"],
        "active",
    )
    customers = pd.DataFrame(
        {
            "external_id": per_customer.index,
            "name": name,
            "email": email,
            "company": rng.choice(COMPANIES, n),
            "locale": np.where(chinese, "zh-hans", "en"),
            "plan": [PLANS[i][0] if p else "" for i, p in zip(plan_index, paying, strict=True)],
            "mrr": [
                f"{PLANS[i][1] if p else 0:.2f}" for i, p in zip(plan_index, paying, strict=True)
            ],
            "signup_date": per_customer["first"].dt.normalize().to_numpy(),
            "subscription_ends_on": np.where(
                paying,
                (end + pd.to_timedelta(rng.integers(1, 31, n), unit="D")).normalize(),
                pd.NaT,
            ),
            "lifecycle_stage": stage,
            "churned_at": pd.Series(cancelled).dt.tz_localize("UTC").to_numpy(),
            "survey_opt_out": rng.random(n) < 0.03,
            "tags": [["club"] if p else [] for p in has_plan],
            "custom": [{"source": "CDNOW 1997-98 (dates shifted)"} for _ in range(n)],
        }
    )

    hours = rng.integers(8, 22, len(tx))
    orders = pd.DataFrame(
        {
            "external_id": "cdnow-o-" + pd.Series(np.arange(1, len(tx) + 1)).astype(str).to_numpy(),
            "customer_external_id": tx["external_id"].to_numpy(),
            "occurred_at": (tx["date"] + pd.to_timedelta(hours, unit="h"))
            .dt.tz_localize("UTC")
            .to_numpy(),
            "amount": tx["amount"].map("{:.2f}".format).to_numpy(),
            "currency": settings.ACCOUNT_CURRENCY,
            "kind": "purchase",
            "margin": 0.35,
        }
    )
    refunded = orders[(rng.random(len(orders)) < 0.01) & (tx["amount"].to_numpy() > 5)]
    refunds = refunded.assign(
        external_id=refunded["external_id"] + "-refund",
        occurred_at=refunded["occurred_at"] + pd.Timedelta(days=3),
        amount="-" + refunded["amount"],
        kind="refund",
        margin=np.nan,
    )
    orders = pd.concat([orders, refunds, payments], ignore_index=True)
    orders = orders[orders["occurred_at"] < pd.Timestamp(today, tz="UTC")]
    interactions = pd.concat(
        [
            _interactions(per_customer, rng, end),
            _logins(tx, per_customer, has_plan, cancelled, end, rng),
            _failed_payments(per_customer.index.to_numpy(), has_plan, cancelled, end, seed),
        ],
        ignore_index=True,
    )
    return customers, orders, interactions


MONTHLY_CANCEL = 0.02  # a club member who still buys
MONTHLY_CANCEL_LAPSED = 0.12  # one who has not bought for 90 days
DECLINE_DAYS = 60  # logins fade over the two months before a member cancels


def _cancellations(signup, purchase_days, has_plan, end, rng) -> np.ndarray:
    """When each club member cancels (NaT: still a member), decided month by month
    from that month's state: members who stopped buying cancel far more often. So
    cancellations fall throughout the shop's history, as in a real one."""
    cancelled = np.full(len(signup), np.datetime64("NaT"), "datetime64[ns]")
    month = np.timedelta64(30, "D")
    end64 = end.to_datetime64()
    for i in np.flatnonzero(has_plan):
        day, days = signup[i], purchase_days[i]
        while day + month < end64:
            last = days[np.searchsorted(days, day, side="right") - 1]
            lapsed = day - last > np.timedelta64(90, "D")
            if rng.random() < (MONTHLY_CANCEL_LAPSED if lapsed else MONTHLY_CANCEL):
                cancelled[i] = day + np.timedelta64(int(rng.integers(0, 30 * 86400)), "s")
                break
            day = day + month
    return cancelled


PLAN_CHANGE = 0.15  # of members change plan once: Club -> Club Plus, or back


def _subscription_payments(ids, signup, cancelled, plan_index, end, rng):
    """Each month from signup (same day of the month) a member pays the plan's price,
    until they cancel (or today). Some change plan once, so MRR moves by expansion and
    contraction besides new and churned members. Returns the payments and the plan
    each member ends on."""
    plan_index = plan_index.copy()
    rows = []
    for i in np.flatnonzero(plan_index > 0):
        stop = end if np.isnat(cancelled[i]) else pd.Timestamp(cancelled[i])
        first = pd.Timestamp(signup[i])
        days = [first + pd.DateOffset(months=k) for k in range(24)]
        days = [day for day in days if day < stop]
        change = int(rng.integers(1, len(days))) if len(days) > 1 else len(days)
        switch = rng.random() < PLAN_CHANGE
        for k, day in enumerate(days):
            if switch and k == change:
                plan_index[i] = 3 - plan_index[i]  # 1 <-> 2
            rows.append((f"cdnow-s-{i}-{k}", ids[i], day, PLANS[plan_index[i]][1]))
    frame = pd.DataFrame(rows, columns=["external_id", "customer_external_id", "day", "price"])
    hours = pd.to_timedelta(rng.integers(6, 9, len(frame)), unit="h")
    payments = pd.DataFrame(
        {
            "external_id": frame["external_id"],
            "customer_external_id": frame["customer_external_id"],
            "occurred_at": (pd.to_datetime(frame["day"]) + hours).dt.tz_localize("UTC"),
            "amount": frame["price"].map("{:.2f}".format),
            "currency": settings.ACCOUNT_CURRENCY,
            "kind": "subscription",
            "margin": 0.35,
        }
    )
    return payments, plan_index


FAILED_BEFORE_CANCEL = 0.4  # of cancelling members: a card declined in the last weeks
FAILED_RECENTLY = 0.02  # of paying members: a card declined in the last ten days


def _failed_payments(ids, has_plan, cancelled, end, seed) -> pd.DataFrame:
    """Declined card payments: often in the weeks before a member cancels, and a few
    among today's paying members (the "payment failed" follow-up rule's cases). Its own
    random stream, so the rest of the demo stays as it was."""
    rng = np.random.default_rng(seed + 7)
    leaving = has_plan & ~np.isnat(cancelled) & (rng.random(len(ids)) < FAILED_BEFORE_CANCEL)
    paying = has_plan & np.isnat(cancelled) & (rng.random(len(ids)) < FAILED_RECENTLY)
    days_before = pd.to_timedelta(rng.uniform(3, 25, len(ids)), unit="D").to_numpy()
    days_ago = pd.to_timedelta(rng.uniform(1, 10, len(ids)), unit="D").to_numpy()
    when = np.where(leaving, cancelled - days_before, end.to_datetime64() - days_ago)
    chosen = leaving | paying
    frame = pd.DataFrame(
        {"customer_external_id": ids[chosen], "occurred_at": pd.to_datetime(when[chosen])}
    )
    subjects = rng.choice(["Card declined", "Card expired", "Insufficient funds"], len(frame))
    return _inbound_events(frame, "payment", subjects)


def _inbound_events(frame: pd.DataFrame, kind: str, subject) -> pd.DataFrame:
    """customer_external_id and occurred_at (naive UTC) as inbound interactions of
    `kind`, each with a stable external id so a second load changes nothing."""
    frame = frame.copy()
    frame["occurred_at"] = frame["occurred_at"].dt.floor("s").dt.tz_localize("UTC")
    never = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    frame = frame.assign(
        kind=kind,
        direction="inbound",
        subject=subject,
        body="",
        opened_at=never,
        first_response_at=never,
        resolved_at=never,
    )
    frame["external_id"] = [
        "demo-" + hashlib.sha1(f"{c}|{kind}|{t}".encode()).hexdigest()[:20]
        for c, t in zip(frame["customer_external_id"], frame["occurred_at"], strict=True)
    ]
    return frame.drop_duplicates("external_id")


def _logins(tx, per_customer, has_plan, cancelled, end, rng) -> pd.DataFrame:
    """Sign-ins from each day's state, never from the future: after every purchase a
    few visits that thin out over the following weeks (tracking the order, browsing);
    club members also visit steadily while they are members, fading over the
    `DECLINE_DAYS` before they cancel."""
    visits = rng.poisson(1.2, len(tx))
    after = (
        np.repeat(tx["date"].to_numpy(), visits)
        + pd.to_timedelta(rng.exponential(20 * 86400, visits.sum()), unit="s").to_numpy()
    )
    who = np.repeat(tx["external_id"].to_numpy(), visits)

    members = np.flatnonzero(has_plan)
    ids, signup = per_customer.index.to_numpy(), per_customer["first"].to_numpy()
    stop = np.where(np.isnat(cancelled), end.to_datetime64(), cancelled)[members]
    span = (stop - signup[members]) / np.timedelta64(1, "D")
    rate = rng.gamma(2.0, 0.03, len(members))  # about one visit in two weeks
    counts = rng.poisson(rate * np.maximum(span, 0))
    when = (
        np.repeat(signup[members], counts)
        + pd.to_timedelta(
            rng.uniform(0, 1, counts.sum()) * np.repeat(span, counts), unit="D"
        ).to_numpy()
    )
    left = (np.repeat(stop, counts) - when) / np.timedelta64(1, "D")
    fading = np.repeat(~np.isnat(cancelled[members]), counts) & (left < DECLINE_DAYS)
    keep = ~fading | (rng.random(len(when)) < left / DECLINE_DAYS)
    frame = pd.DataFrame(
        {
            "customer_external_id": np.concatenate([who, np.repeat(ids[members], counts)[keep]]),
            "occurred_at": np.concatenate([after, when[keep]]),
        }
    )
    frame = frame[frame["occurred_at"] < end.to_datetime64()]
    return _inbound_events(frame, "usage", "Signed in")


TICKET_SUBJECTS = [
    ("Order arrived damaged", "The jewel case was cracked when the parcel arrived."),
    ("Wrong CD delivered", "I ordered the live album but got the studio one."),
    ("Where is my order?", "It has been ten days and tracking shows nothing."),
    ("Refund request", "I was charged twice for the same order."),
    ("订单还没到", "已经两周了，物流一直没有更新。"),
    ("发票问题", "请帮我开具公司发票。"),
]
OUTREACH = [
    ("email", "outbound", "Welcome to the club", "Thanks for your first order!"),
    ("call", "outbound", "Check-in call", "Asked about their listening habits; happy so far."),
    ("meeting", "outbound", "Quarterly catch-up", "Reviewed their bulk orders for the studio."),
    ("email", "inbound", "Question about gift cards", "Can I send a gift card to a friend abroad?"),
]


def _interactions(per_customer: pd.DataFrame, rng, end: pd.Timestamp) -> pd.DataFrame:
    rows = []
    ids = per_customer.index.to_numpy()
    first = per_customer["first"].to_numpy()
    for i, external_id in enumerate(ids):
        span = max((end - first[i]).days, 1)
        # Welcome e-mail for everyone (sign-ins: `_logins`).
        rows.append(
            _row(
                external_id,
                "email",
                "outbound",
                first[i],
                "Welcome!",
                "Welcome e-mail and first-order discount.",
            )
        )
        if rng.random() < 0.12:
            kind, direction, subject, body = OUTREACH[rng.integers(len(OUTREACH))]
            when = first[i] + np.timedelta64(int(rng.integers(0, span)), "D")
            rows.append(_row(external_id, kind, direction, when, subject, body))
        for _ in range(rng.binomial(3, 0.06)):
            subject, body = TICKET_SUBJECTS[rng.integers(len(TICKET_SUBJECTS))]
            opened = first[i] + np.timedelta64(
                int(rng.integers(0, span) * 86400 + rng.integers(8, 20) * 3600), "s"
            )
            first_response = opened + np.timedelta64(int(rng.lognormal(np.log(4 * 3600), 0.8)), "s")
            resolved = first_response + np.timedelta64(
                int(rng.lognormal(np.log(26 * 3600), 0.9)), "s"
            )
            row = _row(external_id, "ticket", "inbound", opened, subject, body)
            now = end.to_datetime64()
            row["opened_at"] = opened
            row["first_response_at"] = first_response if first_response < now else None
            row["resolved_at"] = resolved if resolved < now else None
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame = frame[frame["occurred_at"] < end]
    for name in ("occurred_at", "opened_at", "first_response_at", "resolved_at"):
        frame[name] = pd.to_datetime(frame[name]).dt.tz_localize("UTC")
    frame["external_id"] = [
        "demo-" + hashlib.sha1(f"{c}|{k}|{t}|{s}".encode()).hexdigest()[:20]
        for c, k, t, s in zip(
            frame["customer_external_id"],
            frame["kind"],
            frame["occurred_at"],
            frame["subject"],
            strict=True,
        )
    ]
    return frame.drop_duplicates("external_id")


def _row(customer, kind, direction, when, subject, body) -> dict:
    return {
        "customer_external_id": customer,
        "kind": kind,
        "direction": direction,
        "occurred_at": when,
        "subject": subject,
        "body": body,
        "opened_at": None,
        "first_response_at": None,
        "resolved_at": None,
    }


NPS_COMMENTS = {
    "promoter": [
        ("en", "Great selection and fast delivery, thank you!"),
        ("en", "Always find rare records here. Love it."),
        ("en", "Friendly support, they fixed my order in minutes."),
        ("zh-hans", "发货很快，包装也很好，非常满意。"),
        ("zh-hans", "客服态度很好，推荐给朋友了。"),
    ],
    "passive": [
        ("en", "Good shop, but shipping could be cheaper."),
        ("en", "Fine overall. The website search is a bit clumsy."),
        ("zh-hans", "还可以，就是运费有点贵。"),
    ],
    "detractor": [
        ("en", "Support was slow and my refund took weeks."),
        ("en", "The parcel arrived damaged and nobody answered my email."),
        ("en", "Prices went up and the delivery is late again."),
        ("zh-hans", "物流太慢了，客服也不回复。"),
        ("zh-hans", "收到的光盘有划痕，很失望。"),
    ],
}


def survey_answers(customers: pd.DataFrame, orders: pd.DataFrame, today: date, seed: int = SEED):
    """A year of NPS invitations and their answers (about a third answer). Each answer
    comes from the customer's state on the day it was sent, never from what they did
    later: who had bought in the year before is invited, and the longer since their
    last purchase (or the nearer a member is to cancelling, when their visits fade)
    the lower the score. Returns the invitations frame: customer_external_id, sent_at,
    and score/comment/language/responded_at (NaN/None when unanswered)."""
    rng = np.random.default_rng(seed + 1)
    end = pd.Timestamp(today, tz="UTC")
    purchases = orders[orders["kind"].eq("purchase")]
    bought = pd.DataFrame(
        {
            "customer_external_id": purchases["customer_external_id"].to_numpy(),
            "last": pd.to_datetime(purchases["occurred_at"], utc=True).to_numpy(),
        }
    ).sort_values("last")
    people = customers.set_index("external_id")
    candidates = people.index.to_numpy()
    drawn = rng.choice(candidates, int(len(candidates) * 0.45), replace=False)
    sent = end - pd.to_timedelta(rng.integers(1, 330 * 86400, len(drawn)), unit="s")
    invited = pd.DataFrame({"customer_external_id": drawn, "sent_at": sent}).sort_values("sent_at")
    invited = pd.merge_asof(
        invited,
        bought.assign(sent_at=bought["last"]),
        on="sent_at",
        by="customer_external_id",
        direction="backward",
    )
    quiet_days = (invited["sent_at"] - invited["last"]).dt.days
    cancels = pd.to_datetime(invited["customer_external_id"].map(people["churned_at"]), utc=True)
    fading = ((cancels - invited["sent_at"]).dt.days.between(0, DECLINE_DAYS)).to_numpy()
    invited = invited[(quiet_days <= 365).to_numpy()]
    fading = fading[(quiet_days <= 365).to_numpy()]
    quiet = (invited["sent_at"] - invited["last"]).dt.days.to_numpy()
    n = len(invited)
    answered = rng.random(n) < 0.35
    answered_at = invited["sent_at"] + pd.to_timedelta(rng.integers(10, 3 * 86400, n), unit="s")
    p_promoter = np.where(fading, 0.1, np.clip(0.6 - quiet / 900, 0.2, 0.6))
    p_detractor = np.where(fading, 0.6, np.clip(0.1 + quiet / 1200, 0.1, 0.4))
    draw = rng.random(n)
    group = np.where(
        draw < p_promoter, "promoter", np.where(draw > 1 - p_detractor, "detractor", "passive")
    )
    low = {"promoter": 9, "passive": 7, "detractor": 0}
    high = {"promoter": 10, "passive": 8, "detractor": 6}
    score = [int(rng.integers(low[g], high[g] + 1)) for g in group]
    customer_locale = people["locale"]
    comments, languages = [], []
    for external_id, g in zip(invited["customer_external_id"], group, strict=True):
        locale = customer_locale.get(external_id, "en")
        pool = [c for c in NPS_COMMENTS[g] if c[0] == locale] or NPS_COMMENTS[g]
        has_comment = rng.random() < 0.5
        comments.append(pool[int(rng.integers(len(pool)))][1] if has_comment else "")
        languages.append(locale)
    frame = pd.DataFrame(
        {
            "customer_external_id": invited["customer_external_id"].to_numpy(),
            "sent_at": invited["sent_at"].to_numpy(),
            "responded_at": answered_at.clip(upper=end - pd.Timedelta(minutes=1))
            .where(answered)
            .to_numpy(),
            "score": np.where(answered, score, -1),
            "comment": np.where(answered, comments, ""),
            "language": languages,
        }
    )
    return frame.sort_values(["customer_external_id", "sent_at"]).reset_index(drop=True)
