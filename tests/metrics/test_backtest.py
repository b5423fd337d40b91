"""The backtest command tells how far the CLV numbers can be trusted."""

import json

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from customers.demo_data import read_cdnow
from customers.models import Order
from metrics.backtest import run_backtest
from tests.conftest import make_customer
from tests.scoring_data import AS_OF, shop


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory):
    frame = read_cdnow("CDNOW_sample.txt")
    assert frame is not None, "could not download the lifetimes wheel with pip"
    path = tmp_path_factory.mktemp("bt") / "cdnow.csv"
    frame.assign(date=frame["date"].dt.strftime("%Y%m%d"))[
        ["customer_id", "date", "amount"]
    ].to_csv(path, index=False)
    return path


def backtest_json(capsys, *args):
    call_command("backtest", *args, "--json")
    return json.loads(capsys.readouterr().out)


def test_backtest_of_cdnow_reproduces_the_paper_and_beats_the_naive_baseline(cdnow_csv, capsys):
    result = backtest_json(
        capsys,
        "--transactions",
        str(cdnow_csv),
        "--customer-col",
        "customer_id",
        "--date-col",
        "date",
        "--amount-col",
        "amount",
        "--date-format",
        "%Y%m%d",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--period",
        "week",
    )
    assert result["customers"] == 2357
    assert round(result["bgnbd"]["r"], 3) == 0.243 and round(result["bgnbd"]["b"], 3) == 2.426
    assert round(result["gamma_gamma"]["gamma"], 2) == 15.44
    holdout, naive = result["holdout"], result["baselines"]["everyone_average_rate"]
    assert holdout["mae_per_customer"] < naive["mae_per_customer"]
    assert abs(
        holdout["predicted_repeat_transactions"] - holdout["actual_repeat_transactions"]
    ) < abs(naive["predicted_repeat_transactions"] - holdout["actual_repeat_transactions"])
    assert holdout["auc_expected_purchases"] > 0.7
    # P(alive) is 1 for every one-time buyer, so alone it ranks badly.
    assert holdout["auc_p_alive"] < holdout["auc_expected_purchases"]
    # Predicting that nobody buys again is reported beside it, as it should be.
    zero = result["baselines"]["predict_zero"]
    assert zero["mae_per_customer"] == pytest.approx(
        holdout["actual_repeat_transactions"] / result["customers"], abs=1e-4
    )


def test_the_80_percent_clv_range_covers_about_80_percent_of_cdnow_customers(capsys):
    # All 23,570 CDNOW customers, the published 39 + 39 weeks: the app's range, drawn
    # from the full posterior predictive, against what each customer then spent.
    frame = read_cdnow("CDNOW_master.txt")
    assert frame is not None, "could not download the lifetimes wheel with pip"

    result = run_backtest(
        frame.rename(columns={"date": "occurred_at"}), "1997-09-30", "1998-06-30", period_days=7
    )
    interval = result["clv_interval"]
    print("CDNOW 80% range coverage:", interval)
    assert interval["customers"] == 23_570 and interval["level"] == 0.8
    assert 0.75 <= interval["coverage"] <= 0.85


def test_backtest_prints_a_readable_table(cdnow_csv, capsys):
    call_command(
        "backtest",
        "--transactions",
        str(cdnow_csv),
        "--date-format",
        "%Y%m%d",
        "--calibration-end",
        "1997-09-30",
        "--period",
        "week",
    )
    out = capsys.readouterr().out
    assert "bgnbd: r=0.2426, alpha=4.414, a=0.7929, b=2.426" in out
    assert "baseline: own rate continues" in out


@pytest.mark.django_db
def test_backtest_reads_the_database_when_no_file_is_given(capsys):
    frame = read_cdnow("CDNOW_sample.txt")
    customers = {
        cid: make_customer(external_id=cid).pk for cid in frame["customer_id"].unique()[:600]
    }
    frame = frame[frame["customer_id"].isin(customers)]
    Order.objects.bulk_create(
        Order(
            customer_id=customers[row.customer_id],
            external_id=f"o{i}",
            occurred_at=pd.Timestamp(row.date, tz="UTC").to_pydatetime(),
            amount=row.amount,
        )
        for i, row in enumerate(frame.itertuples())
    )
    result = backtest_json(capsys, "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30")
    assert result["customers"] == 600
    assert result["holdout"]["actual_repeat_transactions"] > 0


@pytest.mark.django_db
def test_backtest_on_an_empty_database_says_there_is_nothing_to_test():
    with pytest.raises(CommandError, match="there are no orders to test on"):
        call_command("backtest", "--calibration-end", "2026-06-30")


def test_unknown_columns_and_bad_dates_are_clear_errors(cdnow_csv, tmp_path):
    with pytest.raises(CommandError, match="Column\\(s\\) not in the file: cust"):
        call_command(
            "backtest",
            "--transactions",
            str(cdnow_csv),
            "--customer-col",
            "cust",
            "--calibration-end",
            "1997-09-30",
        )
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,date\na,yesterday\n")
    with pytest.raises(CommandError, match="--date-format"):
        call_command("backtest", "--transactions", str(bad), "--calibration-end", "1997-09-30")
    with pytest.raises(CommandError, match="holdout must end after"):
        call_command(
            "backtest",
            "--transactions",
            str(cdnow_csv),
            "--date-format",
            "%Y%m%d",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1997-09-01",
        )


def test_backtest_trains_and_scores_the_churn_classifier_on_a_long_history(tmp_path, capsys):

    orders = shop().orders
    path = tmp_path / "shop.csv"
    orders.assign(date=orders["occurred_at"].dt.strftime("%Y-%m-%d %H:%M:%S"))[
        ["customer_id", "date", "amount"]
    ].to_csv(path, index=False)
    result = backtest_json(
        capsys,
        "--transactions",
        str(path),
        "--amount-col",
        "amount",
        "--calibration-end",
        (AS_OF - pd.Timedelta(days=90)).date().isoformat(),
        "--holdout-end",
        AS_OF.date().isoformat(),
    )
    churn = result["churn"]
    assert churn["method"] == max(churn["validation"], key=churn["validation"].get)
    assert churn["auc"] > 0.75 and 0 < churn["brier"] < 0.25
    # Every ranking is judged on the holdout too, beside the one the run chose.
    assert set(churn["holdout"]) == {"classifier", "recency", "bgnbd"}
    assert all(0.5 < auc <= 1 for auc in churn["holdout"].values())


def test_cdnow_is_too_short_for_the_classifier_and_the_backtest_says_so(cdnow_csv, capsys):
    result = backtest_json(
        capsys,
        "--transactions",
        str(cdnow_csv),
        "--date-format",
        "%Y%m%d",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
    )
    assert result["churn"]["method"] == "1 - P(alive)"
    assert "history" in result["churn"]["reason"]
