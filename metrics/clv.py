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
from scipy import optimize, special

DAYS_PER_MONTH = 365.25 / 12
BOUND = 20.0  # log-parameters are searched in [-20, 20]


MIN_CUSTOMERS = 50  # before a BG/NBD fit
MIN_REPEAT_BUYERS = 20  # before a BG/NBD or Gamma-Gamma fit
MAX_LOG_SE = 2.0  # a parameter known no better than a factor e^2 either way is not fitted


class FitError(RuntimeError):
    """The model could not be fitted: too little data, a degenerate fit, or no
    convergence. `code` and `details` say which, for the page to say it in words."""

    def __init__(self, message: str, code: str = "", **details):
        super().__init__(message)
        self.code = code
        self.details = details

    def as_dict(self) -> dict:
        return {"error": str(self), "code": self.code, **self.details}


def _enough(model: str, customers: int, repeat_buyers: int, min_customers: int) -> None:
    if customers < min_customers:
        raise FitError(
            f"{model} needs at least {min_customers} customers (has {customers})",
            code="customers",
            n=customers,
            needed=min_customers,
        )
    if repeat_buyers < MIN_REPEAT_BUYERS:
        raise FitError(
            f"{model} needs at least {MIN_REPEAT_BUYERS} repeat buyers (has {repeat_buyers})",
            code="repeat_buyers",
            n=repeat_buyers,
            needed=MIN_REPEAT_BUYERS,
        )


def _identified(model: str, names, objective, log_params, n: float, shown, means: dict) -> None:
    """Refuse a degenerate fit: a parameter at the optimiser's bounds, or a quantity the
    predictions rest on (`means`: name -> its gradient in the log parameters) that the
    likelihood hardly constrains (flat: its standard error, from the curvature at the
    optimum by the delta method, above MAX_LOG_SE). A shape running off to infinity
    with its ratio fixed is no such failure: it says "everyone alike", and the
    predictions stay pinned down. A shop of brand-new customers is one: nothing in its
    data says how often customers drop out, and a fit would still call them confident."""
    log_params = np.asarray(log_params, float)
    for name, value, real in zip(names, log_params, shown, strict=True):
        if abs(value) > BOUND - 0.5:
            raise FitError(
                f"{model} fit is degenerate: {name} = {real:.3g} is at the edge of its range",
                code="degenerate",
                parameter=name,
                value=float(real),
            )
    # A tiny ridge keeps directions the data leave flat invertible (with a huge
    # variance), without changing the well-determined ones.
    curvature = _hessian(objective, log_params) * n + 1e-9 * np.eye(len(log_params))
    covariance = np.linalg.inv(curvature)
    for name, gradient in means.items():
        gradient = np.asarray(gradient, float)
        error = float(np.sqrt(max(gradient @ covariance @ gradient, 0.0)))
        if not np.isfinite(error) or error > MAX_LOG_SE:
            raise FitError(
                f"{model} fit is degenerate: the data hardly constrain the {name} "
                f"(standard error {error:.3g} on the log scale); too little history",
                code="flat",
                parameter=name,
            )


def _hessian(function, point, step: float = 1e-3) -> np.ndarray:
    """Central-difference second derivatives of `function` at `point`."""
    size = len(point)
    hessian = np.zeros((size, size))
    for i in range(size):
        for j in range(i, size):
            e_i, e_j = np.eye(size)[i] * step, np.eye(size)[j] * step
            value = (
                function(point + e_i + e_j)
                - function(point + e_i - e_j)
                - function(point - e_i + e_j)
                + function(point - e_i - e_j)
            ) / (4 * step * step)
            hessian[i, j] = hessian[j, i] = value
    return hessian


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
    _enough("BG/NBD", int(weight.sum()), int(weight[x > 0].sum()), MIN_CUSTOMERS)
    scale = max(float(np.median(big_t)), 1e-9)  # fit alpha in units of the median T

    def negative_ll(log_params):
        r, alpha, a, b = np.exp(log_params)
        ll = bgnbd_log_likelihood((r, alpha * scale, a, b), x, t_x, big_t)
        return -(weight * ll).sum() / weight.sum()

    start = np.log([initial[0], initial[1] / scale if initial[1] else 1.0, initial[2], initial[3]])
    result = _minimise(negative_ll, start)
    r, alpha, a, b = np.exp(result.x)
    _identified(
        "BG/NBD",
        ("r", "alpha", "a", "b"),
        negative_ll,
        result.x,
        weight.sum(),
        (r, alpha * scale, a, b),
        # log(r / alpha) and logit(a / (a + b)) = log a - log b
        {"mean purchase rate": [1, -1, 0, 0], "mean dropout chance": [0, 0, 1, -1]},
    )
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
        bounds=[(-BOUND, BOUND)] * len(start),
        options={"ftol": 1e-13, "gtol": 1e-7, "maxiter": 500},
    )
    if not np.isfinite(result.fun):
        raise FitError("the likelihood did not converge", code="converge")
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
    _enough("Gamma-Gamma", len(x), len(x), 0)
    scale = float(np.mean(m))

    def negative_ll(log_params):
        p, q, gamma = np.exp(log_params)
        return -gamma_gamma_log_likelihood((p, q, gamma), x, m / scale).mean()

    result = _minimise(negative_ll, np.log(initial))
    p, q, gamma = np.exp(result.x)
    if q <= 1:
        raise FitError(
            f"Gamma-Gamma fit is degenerate: q = {q:.3g} <= 1, so the mean spend does not exist",
            code="degenerate",
            parameter="q",
            value=float(q),
        )
    _identified(
        "Gamma-Gamma",
        ("p", "q", "gamma"),
        negative_ll,
        result.x,
        len(x),
        (p, q, gamma * scale),
        # log(p gamma / (q - 1)) and log((q - 1) / p), the weight of the population mean
        {
            "mean spend": [1, -q / (q - 1), 1],
            "weight of the population mean": [-1, q / (q - 1), 0],
        },
    )
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
    clv, clv_low/clv_high (80% interval of the value from the posterior predictive),
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
        out["expected_spend"] = np.where(x > 0, m, fallback)
    else:
        out["expected_spend"] = expected_average_spend(gamma_gamma, x, m)
    purchases = discounted_purchases(bgnbd, x, t_x, big_t, months, monthly_discount)
    out["clv"] = purchases * out["expected_spend"].to_numpy() * margin_values
    # The 80% range of the next `months`' value from the full posterior predictive;
    # discounting is applied as the ratio of discounted to plain expected purchases.
    plain = expected_purchases(bgnbd, months * DAYS_PER_MONTH, x, t_x, big_t)
    discount = purchases / np.where(plain > 0, plain, np.nan)
    low, high = value_interval(
        bgnbd,
        gamma_gamma,
        x,
        t_x,
        big_t,
        m,
        months * DAYS_PER_MONTH,
        spend=out["expected_spend"].to_numpy(),
    )
    out["clv_low"] = np.nan_to_num(low * discount) * margin_values
    out["clv_high"] = np.nan_to_num(high * discount) * margin_values
    out["clv_confident"] = x >= min_repeat_purchases
    return out


def value_draws(
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams | None,
    frequency,
    recency,
    T,
    monetary,
    t: float,
    draws: int = 200,
    seed: int = 0,
    spend=None,
) -> np.ndarray:
    """Draws (customers x draws) of each customer's total spend in (T, T + t] from the
    full posterior predictive of both models: alive at T with P(alive); if so, the
    purchase rate lambda ~ Gamma(r + x, alpha + T) and the dropout chance
    p ~ Beta(a, b + x) (their posterior given alive); purchases = min(Poisson(lambda t),
    Geometric(p)) (BG/NBD drops out after a purchase); spend: the customer's mean
    nu ~ Gamma(p x + q, gamma + m x), the total of N purchases ~ Gamma(p N, nu).
    Without a Gamma-Gamma fit every purchase is worth `spend` (one value per customer)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, float)[:, None]
    t_x = np.asarray(recency, float)
    big_t = np.asarray(T, float)[:, None]
    shape = (len(x), draws)
    alive = rng.random(shape) < probability_alive(bgnbd, x[:, 0], t_x, big_t[:, 0])[:, None]
    rate = rng.gamma(bgnbd.r + x, 1 / (bgnbd.alpha + big_t), shape)
    dropout = rng.beta(bgnbd.a, bgnbd.b + x, shape)
    count = np.where(alive, np.minimum(rng.poisson(rate * t), rng.geometric(dropout)), 0)
    if gamma_gamma is None:
        return count * np.asarray(spend, float)[:, None]
    m = np.where(x[:, 0] > 0, np.asarray(monetary, float), 0.0)[:, None]
    nu = rng.gamma(gamma_gamma.p * x + gamma_gamma.q, 1 / (gamma_gamma.gamma + m * x), shape)
    total = rng.gamma(np.maximum(gamma_gamma.p * count, 1e-12), 1 / nu)
    return np.where(count > 0, total, 0.0)


def probability_nothing(params: BGNBDParams, frequency, recency, T, t) -> np.ndarray:
    """P(no purchase in (T, T + t] | x, t_x, T): gone already, or alive and the Poisson
    process stays silent: 1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + t))^(r + x)
    (a BG/NBD customer drops out only after a purchase)."""
    x = np.asarray(frequency, float)
    big_t = np.asarray(T, float)
    alive = probability_alive(params, x, recency, big_t)
    silent = ((params.alpha + big_t) / (params.alpha + big_t + t)) ** (params.r + x)
    return 1 - alive + alive * silent


def value_interval(
    bgnbd, gamma_gamma, frequency, recency, T, monetary, t, level=0.8, spend=None, block=4000
):
    """A `level` interval of each customer's spend in (T, T + t] (`value_draws`),
    computed in blocks of customers to bound memory. Central where it can be; where
    "nothing" (0) already holds more than the lower tail, the interval starts at 0
    and ends at the `level` quantile, so that it holds `level` of the chance rather
    than level + tail; it is [0, 0] when nothing at all is likelier than `level`
    (known in closed form, so those customers, most of a typical base, are not drawn)."""
    x = np.asarray(frequency, float)
    columns = [x, np.asarray(recency, float), np.asarray(T, float), np.asarray(monetary, float)]
    spend = (
        np.zeros_like(x) if spend is None else np.broadcast_to(np.asarray(spend, float), x.shape)
    )
    tail = (1 - level) / 2
    low, high = np.zeros_like(x), np.zeros_like(x)
    drawn = np.flatnonzero(probability_nothing(bgnbd, x, columns[1], columns[2], t) <= level)
    for start in range(0, len(drawn), block):
        part = drawn[start : start + block]
        x_part, recency_part, t_part, m_part = (c[part] for c in columns)
        draws = value_draws(
            bgnbd,
            gamma_gamma,
            x_part,
            recency_part,
            t_part,
            m_part,
            t,
            spend=spend[part],
            seed=start,
        )
        lower, upper, at_level = np.quantile(draws, [tail, 1 - tail, level], axis=1)
        nothing = (draws == 0).mean(axis=1)
        low[part] = lower
        high[part] = np.where(nothing < tail, upper, np.where(nothing > level, 0.0, at_level))
    return low, high
