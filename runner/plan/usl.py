"""Fitting the Universal Scalability Law to measured throughput.

    X(N) = λN / (1 + σ(N−1) + κN(N−1))

λ is the throughput of one unit (worker, connection), σ the contention (serial
fraction), κ the coherency cost (crosstalk). Throughput peaks at N* = √((1−σ)/κ) when
κ > 0. The fit is a bounded non-linear least squares (scipy); confidence intervals come
from a case-resampling bootstrap with a fixed seed, so a report is reproducible.

A fit is refused — ``USLFit.usable`` is False with the reasons in ``refusals`` — when it
cannot be trusted: fewer than ``MIN_POINTS`` distinct N, a poor fit (R² below
``MIN_R2``), or a peak that lies far beyond the measured range (extrapolation).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

#: Distinct N values needed before a three-parameter fit means anything.
MIN_POINTS = 4
#: Coefficient of determination below which the model does not describe the data.
MIN_R2 = 0.90
#: A peak further than this factor beyond the largest measured N is extrapolation.
MAX_EXTRAPOLATION = 4.0
#: Bootstrap resamples for the confidence intervals.
BOOTSTRAP = 300


def usl(n: np.ndarray | float, lam: float, sigma: float, kappa: float) -> np.ndarray | float:
    """Throughput predicted by the USL at concurrency (or worker count) ``n``."""
    return lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


def peak(sigma: float, kappa: float) -> float:
    """N*, the N of maximum throughput (``inf`` when there is no coherency cost)."""
    if kappa <= 0:
        return math.inf
    return math.sqrt(max(1.0 - sigma, 0.0) / kappa)


@dataclass(frozen=True, slots=True)
class USLFit:
    """A USL fit with 95% bootstrap intervals and the reasons it may not be used.

    Attributes:
        lam, sigma, kappa: the fitted parameters.
        n_star: the N of peak throughput (``inf`` if κ = 0).
        x_max: the throughput predicted at ``n_star`` (or the asymptote λ/σ when κ = 0).
        r2: the coefficient of determination of the fit.
        ci: 95% intervals for "lam", "sigma", "kappa", "n_star".
        points: how many (N, X) points were fitted, and ``n_max`` the largest N.
        refusals: why the fit must not be used to extrapolate (empty: usable).
    """

    lam: float
    sigma: float
    kappa: float
    n_star: float
    x_max: float
    r2: float
    ci: dict[str, tuple[float, float]]
    points: int
    n_max: float
    refusals: tuple[str, ...] = field(default=())

    @property
    def usable(self) -> bool:
        """True when nothing argues against using the fit."""
        return not self.refusals

    def predict(self, n: np.ndarray | float) -> np.ndarray | float:
        """Throughput the fit predicts at ``n``."""
        return usl(n, self.lam, self.sigma, self.kappa)


def _fit_once(n: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    # λ ≈ X(1)/1 when N=1 was measured; otherwise the best per-unit throughput seen.
    lam0 = float(np.max(x / n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        params, _ = curve_fit(
            usl,
            n,
            x,
            p0=(lam0, 0.05, 0.001),
            bounds=([0.0, 0.0, 0.0], [np.inf, 1.0, 1.0]),
            maxfev=20000,
        )
    return float(params[0]), float(params[1]), float(params[2])


def fit_usl(n_values: np.ndarray | list[float], throughput: np.ndarray | list[float]) -> USLFit:
    """Fit the USL to (N, throughput) points; repeated N (repetitions) are allowed.

    Raises:
        ValueError: fewer than two points, or non-positive values.
    """
    n = np.asarray(n_values, dtype=float)
    x = np.asarray(throughput, dtype=float)
    if n.shape != x.shape or n.size < 2:
        raise ValueError("need at least two (N, throughput) points of equal count")
    if np.any(n <= 0) or np.any(x < 0):
        raise ValueError("N must be positive and throughput non-negative")
    lam, sigma, kappa = _fit_once(n, x)
    predicted = usl(n, lam, sigma, kappa)
    ss_res = float(np.sum((x - predicted) ** 2))
    ss_tot = float(np.sum((x - x.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    n_star = peak(sigma, kappa)
    x_max = (
        float(usl(n_star, lam, sigma, kappa))
        if math.isfinite(n_star)
        else (lam / sigma if sigma > 0 else math.inf)
    )

    ci = _bootstrap(n, x)
    refusals: list[str] = []
    distinct = np.unique(n).size
    if distinct < MIN_POINTS:
        refusals.append(f"only {distinct} distinct N values; the fit needs at least {MIN_POINTS}")
    if r2 < MIN_R2:
        refusals.append(f"poor fit (R² = {r2:.2f} < {MIN_R2})")
    n_max = float(n.max())
    if math.isfinite(n_star) and n_star > MAX_EXTRAPOLATION * n_max:
        refusals.append(
            f"the peak N* = {n_star:.0f} lies beyond {MAX_EXTRAPOLATION:g}× the largest measured "
            f"N ({n_max:g}): extrapolation"
        )
    return USLFit(
        lam=lam,
        sigma=sigma,
        kappa=kappa,
        n_star=n_star,
        x_max=x_max,
        r2=r2,
        ci=ci,
        points=int(n.size),
        n_max=n_max,
        refusals=tuple(refusals),
    )


def _bootstrap(n: np.ndarray, x: np.ndarray) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of the parameters over case resamples (seeded)."""
    rng = np.random.default_rng(20261124)
    samples: list[tuple[float, float, float, float]] = []
    size = n.size
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, size, size)
        if np.unique(n[idx]).size < 3:
            continue
        try:
            lam, sigma, kappa = _fit_once(n[idx], x[idx])
        except (RuntimeError, ValueError):
            continue
        samples.append((lam, sigma, kappa, peak(sigma, kappa)))
    if len(samples) < 20:
        nan = (math.nan, math.nan)
        return {"lam": nan, "sigma": nan, "kappa": nan, "n_star": nan}
    arr = np.asarray(samples)
    out: dict[str, tuple[float, float]] = {}
    for i, name in enumerate(("lam", "sigma", "kappa", "n_star")):
        col = arr[:, i]
        finite = col[np.isfinite(col)]
        if finite.size < len(col) * 0.5:
            out[name] = (
                float(np.nanpercentile(finite, 2.5)) if finite.size else math.nan,
                math.inf,
            )
        else:
            out[name] = (float(np.percentile(col, 2.5)), float(np.percentile(col, 97.5)))
    return out
