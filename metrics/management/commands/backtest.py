import json

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from customers.demo_data import read_cdnow
from metrics.backtest import run_backtest
from metrics.clv import FitError
from metrics.tables import read_orders


class Command(BaseCommand):
    help = (
        "Fit the CLV models on a calibration period and predict a holdout period, next to "
        "naive baselines. Reads a CSV of transactions, or this database's orders."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--transactions", help="CSV file; without it the database's orders are used"
        )
        parser.add_argument(
            "--cdnow",
            action="store_true",
            help="The 23,570-customer CDNOW log (from the cached lifetimes wheel) instead",
        )
        parser.add_argument("--customer-col", default="customer_id")
        parser.add_argument("--date-col", default="date")
        parser.add_argument("--amount-col")
        parser.add_argument(
            "--date-format", help="strptime format of the date column, e.g. %%Y%%m%%d"
        )
        parser.add_argument("--calibration-end", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--holdout-end", help="YYYY-MM-DD (default: as long as the calibration)"
        )
        parser.add_argument("--period", choices=["day", "week"], default="day")
        parser.add_argument("--json", action="store_true", help="One JSON object on stdout")

    def handle(self, *args, **options):
        transactions = self._transactions(options)
        try:
            result = run_backtest(
                transactions,
                options["calibration_end"],
                options["holdout_end"],
                period_days=7.0 if options["period"] == "week" else 1.0,
            )
        except (ValueError, FitError) as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(format_report(result))

    def _transactions(self, options) -> pd.DataFrame:
        if options["cdnow"]:
            frame = read_cdnow()
            if frame is None:
                raise CommandError("The CDNOW log could not be had (pip download of lifetimes)")
            return frame.rename(columns={"date": "occurred_at"})
        if not options["transactions"]:
            return read_orders()
        try:
            raw = pd.read_csv(options["transactions"], sep=None, engine="python", dtype=str)
        except (OSError, pd.errors.ParserError) as exc:
            raise CommandError(f"Cannot read {options['transactions']}: {exc}") from exc
        columns = {"customer_id": options["customer_col"], "occurred_at": options["date_col"]}
        if options["amount_col"]:
            columns["amount"] = options["amount_col"]
        missing = [c for c in columns.values() if c not in raw.columns]
        if missing:
            raise CommandError(
                f"Column(s) not in the file: {', '.join(missing)}; it has {', '.join(raw.columns)}"
            )
        frame = pd.DataFrame({key: raw[col] for key, col in columns.items()})
        try:
            frame["occurred_at"] = pd.to_datetime(
                frame["occurred_at"], format=options["date_format"] or "ISO8601"
            )
        except ValueError as exc:
            raise CommandError(
                f"Dates in {options['date_col']} are not readable ({exc}); pass --date-format"
            ) from exc
        if "amount" in frame:
            frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").fillna(0.0)
        return frame


def format_report(result: dict) -> str:
    holdout, base = result["holdout"], result["baselines"]
    lines = [
        f"Calibration to {result['calibration_end']}, holdout to {result['holdout_end']} "
        f"({result['customers']:,} customers, {result['repeat_buyers']:,} repeat buyers)",
        "bgnbd: "
        + ", ".join(f"{k}={result['bgnbd'][k]:.4g}" for k in ("r", "alpha", "a", "b"))
        + f" (log-likelihood {result['bgnbd']['log_likelihood']:.1f})",
    ]
    if result["gamma_gamma"] and "p" in result["gamma_gamma"]:
        gg = result["gamma_gamma"]
        lines.append(
            f"gamma_gamma: p={gg['p']:.4g}, q={gg['q']:.4g}, gamma={gg['gamma']:.4g} "
            f"({gg['n_customers']:,} repeat buyers)"
        )
    lines += [
        "",
        f"{'':32}{'repeat tx':>12}{'MAE/customer':>14}{'AUC':>8}",
        f"{'actual':32}{holdout['actual_repeat_transactions']:>12,}",
        f"{'BG/NBD expected purchases':32}{holdout['predicted_repeat_transactions']:>12,.0f}"
        f"{holdout['mae_per_customer']:>14.3f}{_auc(holdout['auc_expected_purchases'])}",
        f"{'BG/NBD P(alive)':32}{'':>12}{'':>14}{_auc(holdout['auc_p_alive'])}",
        f"{'baseline: own rate continues':32}"
        f"{base['own_rate_continues']['predicted_repeat_transactions']:>12,.0f}"
        f"{base['own_rate_continues']['mae_per_customer']:>14.3f}"
        f"{_auc(base['own_rate_continues']['auc'])}",
        f"{'baseline: everyone average rate':32}"
        f"{base['everyone_average_rate']['predicted_repeat_transactions']:>12,.0f}"
        f"{base['everyone_average_rate']['mae_per_customer']:>14.3f}",
        f"{'baseline: most recent first':32}{'':>26}{_auc(base['most_recent_first']['auc'])}",
    ]
    zero = base["predict_zero"]
    lines.append(
        f"{'baseline: nobody buys again':32}{0:>12,}{zero['mae_per_customer']:>14.3f}"
        f"{_auc(zero['auc'])}"
    )
    churn = result.get("churn") or {}
    if churn.get("holdout"):
        lines += ["", f"churn ranking chosen on its own held-out months: {churn['method']}"]
        for name, auc in churn["holdout"].items():
            validated = churn["validation"].get(name)
            lines.append(
                f"{'  ' + name + ' (validation ' + _auc(validated).strip() + ')':32}"
                f"{'':>26}{_auc(auc)}"
            )
    elif churn:
        lines.append(f"churn ranking: {churn.get('method')} ({churn.get('reason')})")
    interval = result.get("clv_interval")
    if interval:
        lines.append(
            f"{interval['level']:.0%} value range covers {interval['coverage']:.1%} of customers' "
            f"holdout spend ({interval['below']:.1%} below, {interval['above']:.1%} above)"
        )
    return "\n".join(lines)


def _auc(value) -> str:
    return f"{value:>8.3f}" if value is not None else f"{'n/a':>8}"
