"""CSV import: every row validated, all or nothing, idempotent, friendly to real files."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.imports import load
from customers.models import Customer, Interaction, Order
from metrics.models import AccountSettings
from tests.conftest import HTMX, make_customer

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str, name="file.csv", bom=False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def run(kind, path):
    call_command("import_csv", kind, str(path), "--no-progress")


CUSTOMERS = """external_id,name,email,company,locale,plan,mrr,signup_date,tags,lifecycle_stage,survey_opt_out,referrer
c1,Alice Smith,Alice@Example.com,Acme,en-US,Pro,"1.049,50",2024-01-15,vip; beta,active,no,newsletter
c2,王小明,xiaoming@example.cn,上海乐声,zh_CN,Basic,"19,00",15/03/2024,早期用户,trial,yes,
"""


def test_customers_import_with_bom_chinese_names_and_decimal_commas(tmp_path):
    run("customers", write(tmp_path, CUSTOMERS, bom=True))
    alice = Customer.objects.get(external_id="c1")
    assert alice.email == "alice@example.com"
    assert alice.mrr == Decimal("1049.50")
    assert alice.locale == "en"
    assert alice.tags == ["vip", "beta"]
    assert alice.custom == {"referrer": "newsletter"}
    xiaoming = Customer.objects.get(external_id="c2")
    assert xiaoming.name == "王小明" and xiaoming.company == "上海乐声"
    assert xiaoming.locale == "zh-hans"
    assert str(xiaoming.signup_date) == "2024-03-15"
    assert xiaoming.survey_opt_out is True and xiaoming.lifecycle_stage == "trial"
    assert Customer.objects.with_tag("早期用户").get() == xiaoming


def test_reimporting_the_same_file_changes_nothing(tmp_path, capsys):
    path = write(tmp_path, CUSTOMERS)
    run("customers", path)
    before = list(Customer.objects.order_by("id").values())
    run("customers", path)
    assert "0 new, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert list(Customer.objects.order_by("id").values()) == before


def test_a_changed_row_updates_only_the_columns_in_the_file(tmp_path, capsys):
    run("customers", write(tmp_path, CUSTOMERS))
    run("customers", write(tmp_path, "external_id,plan\nc1,Enterprise\n", "plan.csv"))
    assert "0 new, 1 updated, 0 unchanged" in capsys.readouterr().out
    alice = Customer.objects.get(external_id="c1")
    assert (
        alice.plan == "Enterprise" and alice.name == "Alice Smith" and alice.tags == ["vip", "beta"]
    )


def test_one_bad_row_rejects_the_whole_file_and_names_row_column_and_reason(tmp_path, capsys):
    text = (
        CUSTOMERS
        + "c3,Bad Email,not-an-email,,,,,,,,,\nc4,Bad Date,d@example.com,,,,,2024-13-45,,,,\n"
    )
    with pytest.raises(CommandError, match="Nothing was imported: 2 problem"):
        run("customers", write(tmp_path, text))
    err = capsys.readouterr().err
    assert "row 4 [email] 'not-an-email': is not an email address" in err
    assert "row 5 [signup_date] '2024-13-45': is not a date we can read" in err
    assert Customer.objects.count() == 0


def test_a_nul_character_in_a_cell_is_a_row_error(tmp_path, capsys):
    with pytest.raises(CommandError, match="Nothing was imported: 1 problem"):
        run("customers", write(tmp_path, CUSTOMERS + "c3,Nul\x00Name,n@example.com,,,,,,,,,\n"))
    assert "row 4 [name] 'Nul\\\\0Name': contains a NUL character" in capsys.readouterr().err
    assert Customer.objects.count() == 0


def test_a_corrected_file_then_imports_cleanly(tmp_path):
    bad = CUSTOMERS + "c3,Bad Email,not-an-email,,,,,,,,,\n"
    with pytest.raises(CommandError):
        run("customers", write(tmp_path, bad))
    run("customers", write(tmp_path, bad.replace("not-an-email", "c3@example.com")))
    assert Customer.objects.count() == 3


ORDERS = """external_id,customer_external_id,occurred_at,amount,currency,kind,margin
o1,c1,2024-02-01 10:00,"1.234,56",eur,,40%
o2,c1,02/03/2024,12.00,,purchase,
o3,c1,2024-03-01T10:00:00+02:00,-20,EUR,,
o4,c1,"Mar 5, 2024",15,EUR,refund,
"""


def test_orders_import_reads_common_dates_amounts_and_refunds(tmp_path, settings):
    settings.TIME_ZONE = "UTC"
    AccountSettings.objects.create(currency="EUR")
    make_customer(external_id="c1")
    run("orders", write(tmp_path, ORDERS))
    o1, o2, o3, o4 = (Order.objects.get(external_id=f"o{i}") for i in range(1, 5))
    assert (o1.amount, o1.currency, o1.kind, o1.margin) == (
        Decimal("1234.56"),
        "EUR",
        "purchase",
        Decimal("0.4"),
    )
    assert o2.occurred_at.date().isoformat() == "2024-02-03"  # slashes: month first (US)
    assert o3.kind == "refund" and o3.amount == Decimal("-20")
    assert o3.occurred_at.isoformat() == "2024-03-01T08:00:00+00:00"
    assert o4.kind == "refund" and o4.amount == Decimal("-15")


def test_naive_times_are_read_in_the_owners_time_zone(tmp_path, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    make_customer(external_id="c1")
    run(
        "orders",
        write(
            tmp_path,
            "external_id,customer_external_id,occurred_at,amount\no1,c1,2024-02-01 08:00,5\n",
        ),
    )
    assert Order.objects.get().occurred_at.isoformat() == "2024-02-01T00:00:00+00:00"


def test_orders_of_unknown_customers_and_duplicate_ids_are_errors(tmp_path, capsys):
    make_customer(external_id="c1")
    text = (
        "external_id,customer_external_id,occurred_at,amount,kind\n"
        "o1,c1,2024-01-01,5,\no1,c1,2024-01-02,6,\no2,nobody,2024-01-01,5,\n"
        "o3,c1,2024-01-01,-5,purchase\no4,c1,,abc,\n"
    )
    with pytest.raises(CommandError):
        run("orders", write(tmp_path, text))
    err = capsys.readouterr().err
    assert "row 3 [external_id] 'o1': appears twice in this file (first in row 2)" in err
    assert "row 4 [customer_external_id] 'nobody': no customer has this external id" in err
    assert "row 5 [amount] '-5': is negative" in err
    assert "row 6 [occurred_at]: is required" in err
    assert "row 6 [amount] 'abc': is not an amount" in err
    assert Order.objects.count() == 0


def test_a_missing_required_column_is_reported_on_the_header_row(tmp_path, capsys):
    with pytest.raises(CommandError):
        run("orders", write(tmp_path, "external_id,amount\no1,5\n"))
    assert (
        "row 1 [customer_external_id, occurred_at]: required column(s) missing"
        in capsys.readouterr().err
    )


def test_a_file_that_is_not_utf8_gets_a_clear_error(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("external_id,name\nc1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(CommandError):
        run("customers", path)
    assert "not UTF-8" in capsys.readouterr().err


def test_an_empty_file_is_an_error(tmp_path):
    with pytest.raises(CommandError):
        run("customers", write(tmp_path, ""))


def test_semicolon_separated_files_from_european_spreadsheets(tmp_path):
    make_customer(external_id="c1")
    run(
        "orders",
        write(
            tmp_path,
            "external_id;customer_external_id;occurred_at;amount\no1;c1;31.01.2024;12,50\n",
        ),
    )
    order = Order.objects.get()
    assert order.amount == Decimal("12.50") and order.occurred_at.date().isoformat() == "2024-01-31"


STRIPE = """id,Description,Created (UTC),Amount,Amount Refunded,Currency,Status,Customer ID,Customer Email,Customer Description
ch_1,Order 1,2024-05-01 09:30:00,49.00,0.00,usd,Paid,cus_A,ana@example.com,Ana Lima
ch_2,Order 2,2024-05-02 11:00:00,20.00,5.00,usd,Partially refunded,cus_A,ana@example.com,Ana Lima
ch_3,Order 3,2024-05-03 12:00:00,99.00,0.00,usd,Failed,cus_B,bo@example.com,Bo
ch_4,Guest,2024-05-04 12:00:00,10.00,0.00,usd,Paid,,guest@example.com,
"""


def test_a_stripe_payments_export_imports_as_orders(tmp_path, capsys):
    run("orders", write(tmp_path, STRIPE))
    out = capsys.readouterr().out
    assert "1 failed or pending payment skipped" in out
    assert "2 customers created" in out
    ana = Customer.objects.get(external_id="cus_A")
    assert ana.name == "Ana Lima" and ana.email == "ana@example.com"
    assert str(ana.signup_date) == "2024-05-01"
    assert Customer.objects.filter(external_id="email:guest@example.com").exists()
    assert not Order.objects.filter(external_id="ch_3").exists()
    refund = Order.objects.get(external_id="ch_2:refund")
    assert (
        refund.kind == "refund" and refund.amount == Decimal("-5.00") and refund.currency == "USD"
    )
    assert (
        Order.objects.get(external_id="ch_1").occurred_at.isoformat() == "2024-05-01T09:30:00+00:00"
    )
    run("orders", write(tmp_path, STRIPE))
    assert "0 new, 0 updated, 4 unchanged" in capsys.readouterr().out


INTERACTIONS = """customer_external_id,kind,direction,occurred_at,subject,body,opened_at,first_response_at,resolved_at
c1,Support ticket,,,"App crashes, again","Line one
line two with a \\backslash and a\ttab",2024-04-01 09:00,2024-04-01 10:30,2024-04-02 09:00
c1,phone,outbound,2024-04-03 15:00,Check-in call,Happy,,,
"""


def test_interactions_import_tickets_and_is_idempotent_without_ids(tmp_path, capsys):
    make_customer(external_id="c1")
    path = write(tmp_path, INTERACTIONS)
    run("interactions", path)
    ticket = Interaction.objects.get(kind="ticket")
    assert ticket.body == "Line one\nline two with a \\backslash and a\ttab"
    assert ticket.occurred_at == ticket.opened_at
    assert (ticket.resolved_at - ticket.opened_at).total_seconds() == 24 * 3600
    assert Interaction.objects.get(kind="call").direction == "outbound"
    run("interactions", path)
    assert Interaction.objects.count() == 2
    assert "0 new, 0 updated, 2 unchanged" in capsys.readouterr().out


def test_a_ticket_resolved_before_it_was_opened_is_rejected(tmp_path, capsys):
    make_customer(external_id="c1")
    text = (
        "customer_external_id,kind,opened_at,resolved_at\n"
        "c1,ticket,2024-04-02 09:00,2024-04-01 09:00\n"
    )
    with pytest.raises(CommandError):
        run("interactions", write(tmp_path, text))
    assert "row 2 [resolved_at] '2024-04-01 09:00': is before opened_at" in capsys.readouterr().err


def test_the_error_list_is_capped_but_the_count_is_complete(tmp_path, capsys):
    make_customer(external_id="c1")
    rows = "".join(f"x{i},c1,2024-01-01,oops\n" for i in range(1500))
    with pytest.raises(CommandError, match="1,500 problems"):
        run(
            "orders",
            write(tmp_path, "external_id,customer_external_id,occurred_at,amount\n" + rows),
        )
    err = capsys.readouterr().err
    assert "... and 500 more" in err


def test_the_upload_page_shows_an_error_table_and_writes_nothing(
    owner_client, django_capture_on_commit_callbacks, tmp_path
):
    csv_bytes = CUSTOMERS.encode() + b"c3,Bad,not-an-email,,,,,,,,,\n"
    upload = SimpleUploadedFile("customers.csv", csv_bytes, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        posted = owner_client.post("/import/", {"kind": "customers", "file": upload})
    response = owner_client.get(posted["Location"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert (
        '<td class="num">4</td><td>email</td><td><code>not-an-email</code></td><td>is not an email address</td>'
        in html
    )
    assert Customer.objects.count() == 0


def test_the_upload_page_imports_a_good_file_and_reports_counts(
    owner_client, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("customers.csv", CUSTOMERS.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        posted = owner_client.post("/import/", {"kind": "customers", "file": upload})
    response = owner_client.get(posted["Location"])
    assert "2 rows of customers: 2 new, 0 updated, 0 unchanged." in response.content.decode()
    assert Customer.objects.count() == 2


def test_the_import_status_partial_is_a_fragment_for_htmx(
    owner_client, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("c.csv", CUSTOMERS.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/import/", {"kind": "customers", "file": upload})
    status_url = response["Location"]
    fragment = owner_client.get(status_url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content and b"import-status" in fragment.content
    full = owner_client.get(status_url)
    assert b"<html" in full.content


def test_the_upload_form_refuses_a_non_csv_file(owner_client):
    upload = SimpleUploadedFile("photo.png", b"\x89PNG", content_type="image/png")
    response = owner_client.post("/import/", {"kind": "customers", "file": upload})
    assert response.status_code == 200 and b"Upload a .csv file." in response.content


def test_customer_export_neutralises_spreadsheet_formulas(owner_client):
    make_customer(
        external_id="c1",
        name='=HYPERLINK("http://evil")',
        company="+cmd",
        tags=["@x", "ok"],
        signup_date=timezone.localdate(),
    )
    make_customer(external_id="c2", name="-2+3", company="@SUM(A1)")
    response = owner_client.get("/customers/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith('\ufeff"external_id","name"')
    assert "'=HYPERLINK" in body and "'+cmd" in body and "'-2+3" in body and "'@SUM(A1)" in body
    assert ',"=' not in body and ',"+' not in body and ',"@' not in body


def test_an_export_imports_back_without_changes(owner_client, tmp_path, capsys):
    run("customers", write(tmp_path, CUSTOMERS))
    Customer.objects.filter(external_id="c1").update(churned_at=timezone.now())
    body = b"".join(owner_client.get("/customers/export.csv").streaming_content)
    path = tmp_path / "export.csv"
    path.write_bytes(body)
    run("customers", path)
    assert "0 new, 0 updated, 2 unchanged" in capsys.readouterr().out


def test_signups_and_orders_more_than_a_day_ahead_are_rejected_with_their_rows(tmp_path, capsys):
    today = timezone.localdate()
    ahead, tomorrow = today + timedelta(days=5), today + timedelta(days=1)
    customers = f"external_id,name,signup_date\nc1,Ana,{tomorrow}\nc2,Bo,{ahead}\n"
    with pytest.raises(CommandError, match="Nothing was imported: 1 problem"):
        run("customers", write(tmp_path, customers))
    assert f"row 3 [signup_date] '{ahead}': is more than a day in the future" in (
        capsys.readouterr().err
    )
    make_customer(external_id="c9")
    orders = f"external_id,customer_external_id,occurred_at,amount\no1,c9,{ahead} 10:00,20\n"
    with pytest.raises(CommandError, match="Nothing was imported"):
        run("orders", write(tmp_path, orders, name="orders.csv"))
    assert "row 2 [occurred_at]" in capsys.readouterr().err and not Order.objects.exists()


def test_an_order_in_another_currency_than_the_accounts_is_refused_by_row(tmp_path, capsys):
    make_customer(external_id="c1")
    orders = (
        "external_id,customer_external_id,occurred_at,amount,currency\n"
        "o1,c1,2024-01-05,20,\no2,c1,2024-01-06,2000,jpy\n"
    )
    with pytest.raises(CommandError, match="Nothing was imported: 1 problem"):
        run("orders", write(tmp_path, orders))
    assert (
        "row 3 [currency] 'JPY': is not the account currency (USD): convert the amount to USD"
        in capsys.readouterr().err
    )
    assert not Order.objects.exists()


def test_the_export_takes_the_lists_filters_and_sort_and_adds_the_scores(owner_client, scored):
    _, (ana, bo, cy) = scored
    page = owner_client.get("/customers/?health=red&sort=clv").content.decode()
    assert 'href="/customers/export.csv?health=red&amp;sort=clv"' in page
    fragment = owner_client.get("/customers/?plan=Pro", headers=HTMX).content.decode()
    assert 'id="export-link"' in fragment and "export.csv?plan=Pro" in fragment
    body = b"".join(owner_client.get("/customers/export.csv?sort=clv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r["external_id"] for r in rows] == [
        c.external_id for c in sorted((ana, bo, cy), key=lambda c: -c.scores.get().clv)
    ]
    first = rows[0]
    score = Customer.objects.get(external_id=first["external_id"]).scores.get()
    assert float(first["clv"]) == pytest.approx(score.clv)
    assert first["health_band"] == score.health_band and first["rfm_segment"] == score.rfm_segment
    assert {"health", "churn_probability", "value_at_risk", "last_nps"} <= set(first)
    red = b"".join(owner_client.get("/customers/export.csv?health=red").streaming_content)
    red_rows = list(csv.DictReader(io.StringIO(red.decode("utf-8-sig"))))
    assert [r["name"] for r in red_rows] == ["Ana Red"]


def test_failed_payments_import_as_interactions_of_their_own_kind(tmp_path, capsys):
    make_customer(external_id="c9")
    rows = (
        "customer_external_id,kind,occurred_at,subject\n"
        "c9,failed_payment,2026-11-20 09:00,Card declined\n"
        "c9,payment,2026-11-25 09:00,Card expired\n"
    )
    run("interactions", write(tmp_path, rows, name="interactions.csv"))
    assert list(Interaction.objects.order_by("occurred_at").values_list("kind", "subject")) == [
        ("payment", "Card declined"),
        ("payment", "Card expired"),
    ]


def test_a_file_read_in_many_chunks_validates_and_writes_the_same(tmp_path, monkeypatch):
    """The import reads the file twice in chunks (validate, then write): row numbers,
    duplicates across chunks and all-or-nothing hold as for one chunk."""
    monkeypatch.setattr(load, "CHUNK_ROWS", 3)
    for n in range(4):
        make_customer(external_id=f"c{n}")
    rows = "".join(f"o{n},c{n % 4},2026-01-0{n % 9 + 1},{n}.50\n" for n in range(8))
    header = "external_id,customer_external_id,occurred_at,amount\n"
    twice = write(tmp_path, header + rows + "o2,c1,2026-01-05,1\n", name="twice.csv")
    with twice.open("rb") as binary:
        report = load.import_csv("orders", binary, "USD")
    assert [(e["row"], e["value"], e["message"]) for e in report.errors] == [
        (10, "o2", "appears twice in this file (first in row 4)")
    ]
    assert not Order.objects.exists()
    good = write(tmp_path, header + rows, name="good.csv")
    with good.open("rb") as binary:
        report = load.import_csv("orders", binary, "USD")
    assert report.ok and report.created == 8 and Order.objects.count() == 8
    with good.open("rb") as binary:
        again = load.import_csv("orders", binary, "USD")
    assert (again.created, again.unchanged) == (0, 8)
