"""The fused per-customer month step (numba), called chunk by chunk by the engine.

It applies exactly the rules of :mod:`simulator.engine` to each customer in
one pass: orders (Poisson by inversion), order value (lognormal), service
contacts and their wait drawn from the real-scale queue window, satisfaction,
churn, benefit and service costs, and the group sums of the month's table.
Random numbers come in as arrays from the addressed streams
(:mod:`simulator.streams`), one per customer per purpose, so common random
numbers and determinism do not depend on this kernel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Columns of the kernel's group accumulator (see engine._month).
A_PRICE, A_MARGIN, A_PROMO_DISC, A_SERVICE, A_CONTACTS, A_COMPLAINTS, A_WAIT, A_WAITED, \
    A_SAT, A_CHURNED, A_GROSS, A_ORDERS, A_MEMBERS, A_ANNIV, A_POINTS = range(15)
N_ACC = 15


@njit(cache=True, inline="always")
def _poisson(u: float, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        # Normal approximation with continuity correction (rates this high are rare).
        z = math.sqrt(2.0) * _erfinv(2.0 * min(max(u, 1e-12), 1 - 1e-12) - 1.0)
        k = math.floor(lam + math.sqrt(lam) * z + 0.5)
        return int(k) if k > 0 else 0
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 200:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(cache=True)
def _erfinv(y: float) -> float:
    # Giles (2010) single-precision-quality approximation, refined by two Newton steps.
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            p = c + p * w
    x = p * y
    for _ in range(2):
        err = math.erf(x) - y
        x -= err / (2.0 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


@njit(cache=True)
def month_chunk(
    # customers of the chunk
    si, g, alive, tier, tier_start, anniv_month, spend_mult, churn_mult, compl_mult,
    sat_target, margin, lam, disc_share, reached_cost, cls, q_rate, sat, points,
    # random numbers [K, n]
    u_orders, z_spend, u_q, u_c, u_bot, u_wait, u_churn,
    # segment constants
    spend_mu, spend_sigma, cpo, cmp, tol, sens, sat0, h_step,
    # queue windows: concatenated wait samples per class
    samples, sample_start, sample_size, follow_cls,
    # service and satisfaction parameters
    deflect, wait_sat_per_hour, slow_hours, slow_penalty, churn_beta, sat_relax,
    cost_per_q, bot_per_question, cost_per_member,
    # benefit costs per tier
    share_t, order_t, month_t, year_t, price_share, price_order, price_year,
    # points: on, per CNY, redemption rate per month, value, expire now
    points_on, points_per_cny, redeem_rate, point_value, expire_now,
    month_index,
    # outputs
    acc, ltv, n_seg, orders_out, gross_out, complaints_out, churned_out,
):
    n = si.shape[0]
    K = u_orders.shape[0]
    for i in range(n):
        a = alive[i]
        if not a:
            # Gone before this month: nothing happens, nothing is booked.
            if points_on:
                points[i] = 0.0
            orders_out[i] = 0
            gross_out[i] = 0.0
            complaints_out[i] = 0
            churned_out[i] = False
            continue
        s = si[i]
        grp = g[i]
        t = tier[i]
        orders = 0
        gross = 0.0
        complaints = 0
        queued = 0
        wait_sum = 0.0
        churned = False
        sat_i = np.float64(sat[i])
        lam_step = lam[i] / K
        c = cls[i]
        for k in range(K):
            live = a and not churned
            lk = lam_step if live else 0.0
            o = _poisson(u_orders[k, i], lk)
            qn = 0
            cn = 0
            if o > 0:
                value = math.exp(spend_mu[s] + spend_sigma[s] * z_spend[k, i]) * spend_mult[i]
                gross += o * value
                orders += o
                qn = _poisson(u_q[k, i], o * cpo[s])
                cn = _poisson(u_c[k, i], o * cmp[s] * compl_mult[i])
            q_queued = qn > 0 and u_bot[k, i] >= deflect
            w = 0.0
            if q_queued or cn > 0:
                size = sample_size[c]
                if size > 0:
                    j = int(u_wait[k, i] * size)
                    if j >= size:
                        j = size - 1
                    w = samples[sample_start[c] + j]
            wait_sum += w
            complaints += cn
            if q_queued:
                queued += qn
            queued += cn
            if live:
                pen = max(0.0, w - tol[s]) * wait_sat_per_hour
                if cn > 0 and w + follow_cls[c] > slow_hours:
                    pen += slow_penalty
                new_sat = sat_i + (sat_relax / K) * (sat_target[i] - sat_i) - pen * sens[s]
                if new_sat < 0.0:
                    new_sat = 0.0
                elif new_sat > 1.0:
                    new_sat = 1.0
                sat_i = new_sat
                hz = h_step[s] * churn_mult[i] * math.exp(churn_beta * (sat0[s] - sat_i))
                if u_churn[k, i] < hz:
                    churned = True
        if a:
            sat[i] = np.float32(sat_i)
        anniv = a and anniv_month[i] == month_index
        benefit = share_t[t] * gross + order_t[t] * orders
        price = price_share[t] * gross + price_order[t] * orders
        if a:
            benefit += month_t[t]
        if anniv:
            benefit += year_t[t]
            price += price_year[t]
        pcost = 0.0
        if points_on:
            bal = points[i] + gross * points_per_cny
            red = bal * redeem_rate
            pcost = red * point_value
            bal -= red
            if expire_now or not a:
                bal = 0.0
            points[i] = np.float32(bal)
            benefit += pcost
        service = q_rate[i] * cost_per_q + lam[i] * cpo[s] * bot_per_question
        if a:
            service += cost_per_member
        promo_disc = disc_share[i] * gross
        gm = gross * margin[i]
        contrib = gm - benefit - promo_disc - reached_cost[i] - service
        acc[A_PRICE, grp] += price + promo_disc
        acc[A_MARGIN, grp] += gm
        acc[A_PROMO_DISC, grp] += promo_disc
        acc[A_SERVICE, grp] += service
        acc[A_CONTACTS, grp] += queued
        acc[A_COMPLAINTS, grp] += complaints
        acc[A_WAIT, grp] += wait_sum
        if queued > 0:
            acc[A_WAITED, grp] += 1.0
        if a:
            acc[A_SAT, grp] += sat[i]
            acc[A_MEMBERS, grp] += 1.0
        if churned:
            acc[A_CHURNED, grp] += 1.0
        acc[A_GROSS, grp] += gross
        acc[A_ORDERS, grp] += orders
        if anniv:
            acc[A_ANNIV, grp] += 1.0
        acc[A_POINTS, grp] += pcost
        ltv[tier_start[i] * n_seg + s] += contrib
        orders_out[i] = orders
        gross_out[i] = gross
        complaints_out[i] = complaints
        churned_out[i] = churned
