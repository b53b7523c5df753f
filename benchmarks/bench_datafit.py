"""Import + fit + holdout of a synthetic BG/NBD log of about N transactions (issue 16 targets).

    PYTHONPATH=. python benchmarks/bench_datafit.py [TRANSACTIONS]   (default 1,000,000)
"""

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.datafit import bgnbd, holdout, seasonal
from simulator.datafit.importlog import read_log

PARAMS = (0.8, 6.0, 0.9, 2.5)


def main(target: int = 1_000_000) -> None:
    rng = np.random.default_rng(1)
    n = int(target / 4.65)  # about 4.65 purchases per customer over 78 weeks with PARAMS
    cust, t = bgnbd.simulate(PARAMS, n, rng.uniform(0, 12, n), 78.0, rng)
    day = np.datetime64("2020-01-01") + np.floor(t * 7).astype(int)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "log.csv"
        pd.DataFrame({"customer_id": cust, "date": day.astype(str),
                      "amount": rng.lognormal(3, 0.5, len(t)).round(2),
                      "order_id": np.arange(len(t))}).to_csv(p, index=False)
        mb = p.stat().st_size / 1e6
        del cust, t, day
        load0 = os.getloadavg()[0]
        c0 = time.process_time()
        t0 = time.perf_counter()
        log = read_log(p, __import__("simulator.datafit.importlog", fromlist=["Columns"])
                       .Columns(order_id="order_id"))
        t1, c1 = time.perf_counter(), time.process_time()
        r = holdout.validate(log, "2020-09-30")
        t2, c2 = time.perf_counter(), time.process_time()
        # The new customers' boost and the seasonal order rate (fit's default): their joint
        # fits and likelihood-ratio tests.
        sea = seasonal.fit(holdout.daily(log), holdout._day("2020-09-30") - 1)
        t3, c3 = time.perf_counter(), time.process_time()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(log):,} transactions, {len(log.customer_ids):,} customers, {mb:.0f} MB CSV: "
          f"import {t1 - t0:.1f} s ({c1 - c0:.1f} CPU-s), fit + holdout {t2 - t1:.1f} s "
          f"({c2 - c1:.1f} CPU-s; fit {r['fit_seconds']} s); peak RSS {rss:.0f} MB (includes "
          f"generating the file); load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")
    print("fit:", {k: round(v, 4) for k, v in r["fit"].items() if k in ("r", "alpha", "a", "b")},
          "holdout total error", round(r["holdout_total"]["error"], 4))
    if sea is not None:
        print(f"boost + seasonal fit {t3 - t2:.1f} s ({c3 - c2:.1f} CPU-s): boost "
              f"{sea.tenure_fitted[0]:.3f} over {sea.tenure_fitted[1]:.1f} days, p "
              f"{sea.tenure_p_value:.3g}, used {sea.boost > 0}; season p {sea.p_value:.3g}, "
              f"used {sea.significant}, factors {[round(f, 3) for f in sea.factors]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
