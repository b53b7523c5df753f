"""The shop's customers at a date, as the engine's starting population (issue 16, way (b)).

Each customer keeps their own history: spend and orders per month over the last 12
months (the rolling window for tiers) and, from the fitted BG/NBD model, the
probability that they are still alive and the posterior of their order rate and
dropout given alive (Fader, Hardie & Lee 2005): rate ~ Gamma(r + x, alpha + T) per
week, dropout per purchase ~ Beta(a, b + x). Their spend per order is the
gamma-gamma estimate (:mod:`simulator.datafit.spend`): their own mean order value
shrunk toward the population's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.customer_base import HISTORY_MONTHS, CustomerBase
from simulator.datafit import bgnbd, spend
from simulator.datafit.holdout import RFM

DAYS_PER_MONTH = 365.25 / 12
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7


def build(days: pd.DataFrame, cal: RFM, params, end_day: int, ids: list[str],
          segment: np.ndarray, source: str) -> CustomerBase:
    """Customers of the fit period at the day after ``end_day``.

    ``days`` is one row per customer and purchase day (holdout.daily), ``cal`` their
    calibration RFM (customers sorted by code, as holdout.rfm returns them),
    ``segment`` each customer's segment index in the fitted scenario, ``params`` the
    BG/NBD (r, alpha, a, b), each a number or one value per customer.
    """
    r, alpha, a, b = (np.broadcast_to(np.asarray(v, dtype=float), cal.x.shape) for v in params)
    codes = np.sort(days.loc[days["d"] <= end_day, "c"].unique())
    pa = bgnbd.p_alive(params, cal.x, cal.tx, cal.T)
    shape = r + cal.x
    rate_mean = shape / (alpha + cal.T) * WEEKS_PER_MONTH  # orders per month, given alive
    # Spend and purchase days per month before the start, month 1 the most recent.
    past = days[(days["d"] <= end_day) & (days["d"] > end_day - HISTORY_MONTHS * DAYS_PER_MONTH)]
    month = np.floor((end_day - past["d"].to_numpy()) / DAYS_PER_MONTH).astype(np.int64)
    pos = np.searchsorted(codes, past["c"].to_numpy())
    spend = np.zeros((HISTORY_MONTHS, len(codes)))
    orders = np.zeros((HISTORY_MONTHS, len(codes)), dtype=np.int64)
    np.add.at(spend, (month, pos), past["amt"].to_numpy())
    np.add.at(orders, (month, pos), 1)
    return CustomerBase(
        ids=tuple(ids[c] for c in codes), segment=segment.astype(np.int8), p_alive=pa,
        rate_mean=rate_mean, rate_shape=shape, dropout_a=np.array(a),
        dropout_b=b + cal.x, spend=spend, orders=orders, source=source,
        spend_level=spend_levels(days, end_day, codes),
        tenure_months=(end_day + 1 - cal.first_day) / DAYS_PER_MONTH)


def spend_levels(days: pd.DataFrame, end_day: int, codes: np.ndarray) -> np.ndarray | None:
    """Each customer's expected spend per purchase day (gamma-gamma), None if it cannot be fitted.

    None when fewer than 3 customers have a repeat purchase of positive value, or the
    fitted population mean is not finite (q <= 1: spend too dispersed to have a mean).
    """
    m_x, x = spend.repeat_mean(days, end_day, codes)
    try:
        gg = spend.fit(m_x, x)
    except ValueError:
        return None
    if not np.isfinite(gg.mean):
        return None
    return np.maximum(gg.expected(m_x, x), 0.01)
