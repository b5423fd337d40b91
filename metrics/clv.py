"""Customer lifetime value: BG/NBD, Gamma-Gamma and the CLV formulas (docs/metrics.md#clv).

Pure numpy/scipy. Time is in whatever unit the RFM summary used (days in the app,
weeks in the published CDNOW example); the fitted alpha carries that unit.

Sources:
  Fader, Hardie & Lee (2005a) "Counting Your Customers the Easy Way: An Alternative
  to the Pareto/NBD Model", Marketing Science 24(2) -- BG/NBD likelihood (eq. 6),
  conditional expectation (eq. 10), P(alive) (appendix / note).
  Fader, Hardie & Lee (2005b) "RFM and CLV: Using Iso-Value Curves for Customer Base
  Analysis", JMR 42(4); Fader & Hardie (2013) "The Gamma-Gamma Model of Monetary
  Value" -- Gamma-Gamma likelihood and E[M | x, m_x].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

DAYS_PER_MONTH = 365.25 / 12


class FitError(RuntimeError):
    """The model could not be fitted (too little data or no convergence)."""


@dataclass(frozen=True)
class BGNBDParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int

    def as_dict(self) -> dict:
        return asdict(self)


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows and their counts: a million customers have far fewer distinct
    (x, t_x, T) triples, so the likelihood is evaluated once per triple."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood (Fader, Hardie & Lee 2005a, eq. 6)."""
    r, alpha, a, b = params
    x = np.asarray(x, float)
    t_x = np.asarray(t_x, float)
    T = np.asarray(T, float)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    beta_ab = special.betaln(a, b)
    term_alive = special.betaln(a, b + x) - beta_ab - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        term_dead = np.where(
            x > 0,
            special.betaln(a + 1, b + np.maximum(x, 1) - 1)
            - beta_ab
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return common + np.logaddexp(term_alive, term_dead)


def fit_bgnbd(frequency, recency, T, initial=(1.0, 1.0, 1.0, 1.0)) -> BGNBDParams:
    """Maximum-likelihood r, alpha, a, b (optimised on log scale, L-BFGS-B)."""
    (x, t_x, big_t), weight = _compress(
        np.asarray(frequency, float), np.asarray(recency, float), np.asarray(T, float)
    )
    if weight.sum() < 10 or not (x > 0).any():
        raise FitError("BG/NBD needs at least 10 customers and some repeat purchases")
    scale = max(float(np.median(big_t)), 1e-9)  # fit alpha in units of the median T

    def negative_ll(log_params):
        r, alpha, a, b = np.exp(log_params)
        ll = bgnbd_log_likelihood((r, alpha * scale, a, b), x, t_x, big_t)
        return -(weight * ll).sum() / weight.sum()

    start = np.log([initial[0], initial[1] / scale if initial[1] else 1.0, initial[2], initial[3]])
    result = _minimise(negative_ll, start)
    r, alpha, a, b = np.exp(result.x)
    return BGNBDParams(
        r=float(r),
        alpha=float(alpha * scale),
        a=float(a),
        b=float(b),
        log_likelihood=float(-result.fun * weight.sum()),
        n_customers=int(weight.sum()),
    )


def _minimise(function, start):
    """L-BFGS-B on log parameters. The objective is a mean per customer, so its
    tolerances do not depend on the size of the base; a line-search stop at the
    optimum is normal with numerical gradients, only a non-finite result is an error."""
    result = optimize.minimize(
        function,
        start,
        method="L-BFGS-B",
        bounds=[(-20, 20)] * len(start),
        options={"ftol": 1e-13, "gtol": 1e-7, "maxiter": 500},
    )
    if not np.isfinite(result.fun):
        raise FitError("the likelihood did not converge")
    return result


def probability_alive(params: BGNBDParams, frequency, recency, T) -> np.ndarray:
    """P(still active | x, t_x, T). Equals 1 for customers with no repeat purchase,
    which is why it ranks churn poorly on its own."""
    x = np.asarray(frequency, float)
    t_x = np.asarray(recency, float)
    big_t = np.asarray(T, float)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = (
            np.log(a)
            - np.log(b + np.maximum(x, 1) - 1)
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
    return np.where(x > 0, 1.0 / (1.0 + np.exp(log_ratio)), 1.0)


def expected_purchases(params: BGNBDParams, t, frequency, recency, T) -> np.ndarray:
    """E[number of purchases in (T, T + t] | x, t_x, T] (Fader, Hardie & Lee 2005a, eq. 10)."""
    x = np.asarray(frequency, float)
    t_x = np.asarray(recency, float)
    big_t = np.asarray(T, float)
    t = np.asarray(t, float)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    numerator = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp
    numerator = numerator * (a + b + x - 1) / (a - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds_dead = np.where(
            x > 0,
            a / (b + np.maximum(x, 1) - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x),
            0.0,
        )
    return numerator / (1 + odds_dead)


def gamma_gamma_log_likelihood(params, frequency, monetary) -> np.ndarray:
    p, q, gamma = params
    x = np.asarray(frequency, float)
    m = np.asarray(monetary, float)
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


def fit_gamma_gamma(frequency, monetary, initial=(1.0, 1.0, 1.0)) -> GammaGammaParams:
    """Maximum-likelihood p, q, gamma on repeat buyers (x > 0, positive mean spend)."""
    x = np.asarray(frequency, float)
    m = np.asarray(monetary, float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 10:
        raise FitError("Gamma-Gamma needs at least 10 repeat buyers")
    scale = float(np.mean(m))

    def negative_ll(log_params):
        p, q, gamma = np.exp(log_params)
        return -gamma_gamma_log_likelihood((p, q, gamma), x, m / scale).mean()

    result = _minimise(negative_ll, np.log(initial))
    p, q, gamma = np.exp(result.x)
    # Spend was scaled by its mean while fitting: gamma carries money units.
    ll = gamma_gamma_log_likelihood((p, q, gamma * scale), x, m).sum()
    return GammaGammaParams(
        p=float(p),
        q=float(q),
        gamma=float(gamma * scale),
        log_likelihood=float(ll),
        n_customers=int(len(x)),
    )


def expected_average_spend(params: GammaGammaParams, frequency, monetary) -> np.ndarray:
    """E[M | x, m_x]: a weighted mean of the population mean and the customer's own mean.
    Customers without repeat purchases get the population mean p*gamma/(q-1)."""
    p, q, gamma = params.p, params.q, params.gamma
    x = np.asarray(frequency, float)
    m = np.where(np.asarray(frequency) > 0, np.asarray(monetary, float), 0.0)
    population_mean = p * gamma / (q - 1) if q > 1 else np.nan
    return np.where(x > 0, (gamma + m * x) * p / (p * x + q - 1), population_mean)


def predictive_clv(
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    frequency,
    recency,
    T,
    monetary,
    months: int = 12,
    monthly_discount: float = 0.01,
    margin=1.0,
    days_per_period: float = 1.0,
) -> np.ndarray:
    """CLV = sum_{m=1..H} E[purchases in month m] * E[spend] / (1 + d)^m  (x margin).

    `days_per_period` says how long one unit of recency/T is (1 in the app, 7 for weeks).
    """
    spend = expected_average_spend(gamma_gamma, frequency, monetary)
    purchases = discounted_purchases(
        bgnbd, frequency, recency, T, months, monthly_discount, DAYS_PER_MONTH / days_per_period
    )
    return purchases * spend * np.asarray(margin, float)


def discounted_purchases(
    bgnbd, frequency, recency, T, months, monthly_discount, month_length=DAYS_PER_MONTH
) -> np.ndarray:
    """sum_{m=1..H} E[purchases in month m] / (1 + d)^m."""
    total = np.zeros(np.shape(frequency), float)
    previous = np.zeros_like(total)
    for m in range(1, months + 1):
        cumulative = expected_purchases(bgnbd, m * month_length, frequency, recency, T)
        total += (cumulative - previous) / (1 + monthly_discount) ** m
        previous = cumulative
    return total


def subscription_clv(
    mrr, gross_margin, monthly_churn, months: int = 12, monthly_discount: float = 0.01
) -> np.ndarray:
    """Sum over m = 1..H of MRR x margin x (1 - c)^m / (1 + d)^m: the margin of each of
    the next H monthly payments, times the chance the subscription is still paid then
    (c = the monthly churn probability), discounted like the buyers' CLV."""
    churn = np.clip(np.asarray(monthly_churn, float), 0.0, 1.0)
    m = np.arange(1, months + 1)
    factors = ((1 - churn[..., None]) ** m / (1 + monthly_discount) ** m).sum(axis=-1)
    return np.asarray(mrr, float) * np.asarray(gross_margin, float) * factors


def summary_frame_clv(
    rfm: pd.DataFrame,
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams | None,
    horizon_days: float = 90,
    months: int = 12,
    monthly_discount: float = 0.01,
    margin: pd.Series | float = 1.0,
    min_repeat_purchases: int = 1,
) -> pd.DataFrame:
    """Per-customer predictions from an RFM summary in days.

    Columns: p_alive, expected_purchases (next `horizon_days`), expected_spend,
    clv, clv_low/clv_high (80% interval from the Gamma-Gamma spend posterior),
    clv_confident (False when the customer has fewer than `min_repeat_purchases`
    repeat purchases: the number is then mostly the population average).
    """
    x, t_x, big_t, m = (rfm[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary"))
    out = pd.DataFrame(index=rfm.index)
    out["p_alive"] = probability_alive(bgnbd, x, t_x, big_t)
    out["expected_purchases"] = expected_purchases(bgnbd, horizon_days, x, t_x, big_t)
    margin_values = (
        margin.reindex(rfm.index).fillna(1.0).to_numpy()
        if isinstance(margin, pd.Series)
        else margin
    )
    if gamma_gamma is None:
        # Without enough repeat buyers: the customer's own mean, else the overall mean.
        fallback = (
            m[x > 0].mean() if (x > 0).any() else rfm["revenue"].sum() / max(rfm["orders"].sum(), 1)
        )
        spend = np.where(x > 0, m, fallback)
        out["expected_spend"] = spend
        out["clv"] = (
            discounted_purchases(bgnbd, x, t_x, big_t, months, monthly_discount)
            * spend
            * margin_values
        )
        out["clv_low"] = np.nan
        out["clv_high"] = np.nan
    else:
        out["expected_spend"] = expected_average_spend(gamma_gamma, x, m)
        out["clv"] = predictive_clv(
            bgnbd, gamma_gamma, x, t_x, big_t, m, months, monthly_discount, margin_values
        )
        low, high = spend_interval(gamma_gamma, x, m, 0.8)
        purchases_value = out["clv"].to_numpy() / np.where(
            out["expected_spend"] > 0, out["expected_spend"], np.nan
        )
        out["clv_low"] = purchases_value * low
        out["clv_high"] = purchases_value * high
    out["clv_confident"] = x >= min_repeat_purchases
    return out


def spend_interval(params: GammaGammaParams, frequency, monetary, level: float = 0.8):
    """Central interval of a customer's mean spend E[Z | data].

    In the Gamma-Gamma model the customer's mean spend is p/nu with
    nu | data ~ Gamma(shape = p*x + q, rate = gamma + m_x * x), so p/nu is an
    inverse-gamma variable and its quantiles are closed-form.
    """
    p, q, gamma = params.p, params.q, params.gamma
    x = np.asarray(frequency, float)
    m = np.where(x > 0, np.asarray(monetary, float), 0.0)
    shape = p * x + q
    rate = gamma + m * x
    tail = (1 - level) / 2
    nu_high = stats.gamma.ppf(1 - tail, shape, scale=1 / rate)
    nu_low = stats.gamma.ppf(tail, shape, scale=1 / rate)
    return p / nu_high, p / nu_low
