"""``benefit-sim fit`` and ``benefit-sim validate-fit`` (registered in simulator/cli)."""

from __future__ import annotations

import argparse
import json

from simulator.datafit.importlog import Columns, Log, read_log


def add_log_options(p: argparse.ArgumentParser) -> None:
    """Column mapping and format options of both commands."""
    p.add_argument("log", help="transaction log: .csv/.txt, .xlsx or .parquet")
    g = p.add_argument_group("columns (a header name, or a 1-based position with --no-header)")
    g.add_argument("--customer", default="customer_id", help="customer id column")
    g.add_argument("--date", default="date", help="date or timestamp column")
    g.add_argument("--amount", default="amount", help="order amount column")
    g.add_argument("--segment", help="segment column (optional)")
    g.add_argument("--order-id", help="order id column (optional; duplicates are set aside)")
    g.add_argument("--date-format", help="e.g. %%d/%%m/%%Y (default: detected)")
    g.add_argument("--sep", default=",", help="field separator, or 'whitespace'")
    g.add_argument("--no-header", action="store_true", help="the file has no header line")
    g.add_argument("--sheet", default=0, help="Excel sheet name (default: the first)")


def register(sub) -> None:
    """Add the two subcommands to the CLI's subparsers."""
    f = sub.add_parser("fit", help="fit a scenario to a transaction log (BG/NBD)")
    add_log_options(f)
    f.add_argument("--out", required=True, help="scenario file to write (.toml)")
    f.add_argument("--split", help="fit only on dates before this day (YYYY-MM-DD)")
    f.add_argument("--segments", type=int, help="segments to form when the log has no segment "
                   "column, 1-10 (see --segment-by)")
    f.add_argument("--segment-by", choices=("rfm", "bands"), default="rfm",
                   help="rfm: k-means clusters of today's customers on recency, frequency and "
                        "spend (default); bands: equal-share bands of the fitted order rates")
    f.add_argument("--currency", default="CNY", help="currency of the amounts (default CNY)")
    f.add_argument("--cny-per-unit", type=float, default=1.0,
                   help="CNY per unit of that currency (default 1)")
    f.add_argument("--json", help="also write the fit report")
    f.add_argument("--customers", help="also write the customer file: each customer of the fit "
                   "period with P(alive), rate, dropout, spend per order and 12 months of "
                   "history (CSV); the scenario then starts from these customers "
                   "(population.customer_file)")
    f.add_argument("--no-seasonality", action="store_true",
                   help="the stationary model: no seasonal order rate per calendar month and "
                        "no new customers' extra order rate (default: each fitted, and used "
                        "when it improves the fit)")
    f.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    f.set_defaults(func=cmd_fit)
    v = sub.add_parser("validate-fit", help="fit before a date, compare with the log after it")
    add_log_options(v)
    v.add_argument("--split", required=True, help="first day of the holdout (YYYY-MM-DD)")
    v.add_argument("--segments", type=int, help="segments of the fitted scenario, 1-10")
    v.add_argument("--segment-by", choices=("rfm", "bands"), default="rfm",
                   help="how --segments are formed (as for fit)")
    v.add_argument("--replications", type=int, default=8,
                   help="engine runs averaged (default 8)")
    v.add_argument("--no-seasonality", action="store_true",
                   help="fit the engine's base without a seasonal order rate or new "
                        "customers' extra rate (as for fit)")
    v.add_argument("--no-engine", action="store_true",
                   help="only the BG/NBD forecast, without running the fitted base")
    v.add_argument("--json", help="write the comparison (weekly tracking included)")
    v.add_argument("--excel", help="write the comparison workbook with the tracking charts")
    v.set_defaults(func=cmd_validate_fit)


def _read(args, console) -> Log:
    cols = Columns(customer=args.customer, date=args.date, amount=args.amount,
                   segment=args.segment, order_id=args.order_id, date_format=args.date_format,
                   sep=args.sep, header=not args.no_header, sheet=args.sheet)
    if console.is_terminal:
        from rich.progress import Progress

        with Progress(transient=True, console=console) as prog:
            task = prog.add_task("reading the log", total=1.0)
            log = read_log(args.log, cols,
                           progress=lambda n, f: prog.update(
                               task, completed=f, description=f"reading the log: {n:,} rows"))
    else:
        log = read_log(args.log, cols)
    console.print(f"{log.source}: {log.rows_read:,} rows read, {len(log):,} valid, "
                  f"{len(log.customer_ids):,} customers, {log.first_date} .. {log.last_date}",
                  markup=False)
    for line in log.bad.report():
        console.print(f"  set aside: {line}", markup=False)
    return log


def cmd_fit(args) -> int:
    """Write the fitted scenario (and the fit report)."""
    from pathlib import Path

    from simulator.console import OutputError, _console, check_output_path, write_output
    from simulator.datafit import toscenario

    console = _console()
    check_output_path(args.out, "--out")
    if Path(args.out).exists() and not args.force:
        raise OutputError(f"--out {args.out} exists; use --force to overwrite it")
    if args.customers:
        check_output_path(args.customers, "--customers")
    log = _read(args, console)
    fitted = toscenario.fit_segments(log, args.split, args.segments, args.segment_by,
                                     not args.no_seasonality)
    sc, text = toscenario.build(log, args.split, args.segments, args.cny_per_unit,
                                args.currency, fitted=fitted, segment_by=args.segment_by)
    if args.customers:
        import os

        from simulator.customer_base import to_csv
        from simulator.datafit import simcheck

        cb = simcheck.customer_base_at(log, sc, fitted[0], args.split, args.segments,
                                       args.cny_per_unit, args.segment_by,
                                       season=fitted[1]["seasonal"])
        write_output(args.customers, to_csv(cb, [s.name for s in sc.segments])
                     .encode("utf-8"), "--customers")
        console.print(f"wrote {args.customers}: {len(cb):,} customers, "
                      f"{cb.p_alive.sum():,.0f} expected alive", markup=False)
        # The scenario starts from them: population.customer_file, relative to its folder.
        try:
            rel = os.path.relpath(Path(args.customers).resolve(),
                                  Path(args.out).resolve().parent)
        except ValueError:  # another drive (Windows): the full path
            rel = str(Path(args.customers).resolve())
        sc, text = toscenario.build(log, args.split, args.segments, args.cny_per_unit,
                                    args.currency, fitted=fitted, segment_by=args.segment_by,
                                    customer_file=(Path(rel).as_posix(), len(cb)))
    write_output(args.out, text.encode("utf-8"), "--out")
    for s in sc.segments:
        console.print(f"  {s.name}: share {s.share:.1%}, {s.orders_per_month:.4g} orders/month "
                      f"(CV {s.order_rate_cv:.2f}), {s.spend_per_order_cny:,.2f} CNY/order "
                      f"(CV {s.spend_cv:.2f}), churn {s.churn_annual:.1%} in the first year "
                      f"(heterogeneity {s.churn_heterogeneity:.3f})",
                      markup=False)
    console.print(f"wrote {args.out}", markup=False)
    if args.json:
        segs, facts = fitted
        rep = {"log": log.source, "bad_rows": log.bad.counts,
               **{k: v for k, v in facts.items() if k != "seasonal"},
               "segments": [{"name": s.name, "share": s.share, "customers": s.customers,
                             "orders_per_month": s.orders_per_month,
                             "order_rate_cv": s.order_rate_cv, "churn_annual": s.churn_annual,
                             "churn_heterogeneity": s.churn_heterogeneity,
                             "spend_mean": s.spend_mean, "spend_cv": s.spend_cv,
                             "bgnbd": s.fit.as_dict()} for s in segs]}
        write_output(args.json, json.dumps(rep, indent=1).encode("utf-8"), "--json")
    return 0


def cmd_validate_fit(args) -> int:
    """Print the holdout comparison."""
    from rich.table import Table

    from simulator.console import _console, check_output_path, write_output
    from simulator.datafit import holdout, report, simcheck

    console = _console()
    if args.excel:
        check_output_path(args.excel, "--excel")
    log = _read(args, console)
    if args.no_engine:
        r = holdout.validate(log, args.split)
    else:
        r = simcheck.run_holdout(log, args.split, segments=args.segments,
                                 segment_by=args.segment_by, replications=args.replications,
                                 seasonality=not args.no_seasonality)
    f = r["fit"]
    console.print(f"BG/NBD fit on {r['first_day']} .. day before {r['split']} "
                  f"({r['calibration_weeks']:g} weeks, {r['customers']:,} customers, "
                  f"{r['fit_seconds']:.2f} s): r {f['r']:.4g}, alpha {f['alpha']:.4g}, "
                  f"a {f['a']:.4g}, b {f['b']:.4g}", markup=False)
    e = r.get("engine")
    t = Table(title=f"Holdout {r['split']} .. {r['last_day']} ({r['holdout_weeks']:g} weeks)",
              title_justify="left")
    cols = ["", "actual", "BG/NBD", "error"] + (["engine", "error "] if e else [])
    for c in cols:
        t.add_column(c, justify="right" if c else "left")
    h, c = r["holdout_total"], r["cumulative_at_end"]

    def err(x):
        return "n/a" if x is None else f"{x:+.1%}"
    t.add_row("repeat transactions in the holdout", f"{h['actual']:,.0f}",
              f"{h['forecast']:,.1f}", err(h["error"]),
              *([f"{e['holdout_total']['engine']:,.1f}", err(e["holdout_total"]["error"])]
                if e else []))
    t.add_row(f"cumulative repeat transactions, week {c['week']}", f"{c['actual']:,.0f}",
              f"{c['forecast']:,.1f}", err(c["error"]),
              *([f"{e['cumulative_at_end']['engine']:,.1f}",
                 err(e["cumulative_at_end"]["error"])] if e else []))
    if e:
        sp = e["holdout_spend"]
        t.add_row("spend in the holdout", f"{sp['actual']:,.0f}", "", "",
                  f"{sp['engine']:,.0f}", err(sp["error"]))
    console.print(t)
    if e:
        t = Table(title=f"Repeat transactions per engine month ({e['month_days']:g} days; the "
                        f"last is {e['last_month_share']:.0%} of one)", title_justify="left")
        sb = e.get("seasonal_bgnbd")
        for col in ("month", "actual", "BG/NBD") + (("time-varying BG/NBD",) if sb else ()) + (
                "engine", "engine sd"):
            t.add_column(col, justify="right")
        m = e["monthly"]
        for i, a in enumerate(m["actual"]):
            t.add_row(str(i + 1), f"{a:,.0f}", f"{m['bgnbd'][i]:,.1f}",
                      *([f"{sb['monthly'][i]:,.1f}"] if sb else []), f"{m['engine'][i]:,.1f}",
                      f"{m['engine_sd'][i]:,.1f}")
        console.print(t)
        st = e.get("seasonality")
        if st:
            nb = st["new_customer_boost"]
            shown = nb if nb["used"] else nb["fitted_alone"]  # with the season, if that is used
            console.print(("New customers' extra order rate used" if nb["used"] else
                           "New customers' extra order rate not used")
                          + f": x {1 + shown['boost']:.3f} at the first purchase, "
                          f"fading over {shown['decay_days']:.1f} days (1/e); likelihood "
                          f"ratio {nb['likelihood_ratio']:.1f} on 2 df (p {nb['p_value']:.2g})",
                          markup=False)
            fac = ", ".join(f"{k} {v:.3f}" for k, v in st["factors"].items()
                            if k in st["fitted_months"])
            console.print(("Seasonal order rate used" if st["used"] else
                           "Seasonal order rate not used (no better than chance)")
                          + f": likelihood ratio {st['likelihood_ratio']:.1f} on "
                          f"{st['degrees_of_freedom']} df (p {st['p_value']:.2g}); {fac}; "
                          f"other months 1.0; tested against {st['tested_against']}"
                          + (f"; time-varying BG/NBD holdout total {sb['holdout_total']:,.1f} "
                             f"({err(sb['error'])})" if sb else ""), markup=False)
    t = Table(title="Holdout transactions per customer by calibration frequency",
              title_justify="left")
    for col in ("repeat purchases in calibration", "customers", "actual", "BG/NBD") + (
            ("engine",) if e else ()):
        t.add_column(col, justify="right")
    rows = e["by_calibration_frequency"] if e else r["by_calibration_frequency"]
    for row in rows:
        t.add_row(row["x"], f"{row['customers']:,}", f"{row['actual']:.3f}",
                  f"{row['bgnbd']:.3f}", *([f"{row['engine']:.3f}"] if e else []))
    console.print(t)
    console.print(f"mean absolute error by frequency: BG/NBD {r['conditional_mae']:.3f}"
                  + (f", engine {e['conditional_mae']['engine']:.3f} (Monte Carlo error of a "
                     f"frequency's mean {e['conditional_mae']['engine_mean_se']:.3f} on average; "
                     f"{e['replications']} runs "
                     f"from the {e['customers']:,} actual customers, "
                     f"{e['alive_at_split']:,.0f} alive at the split; "
                     f"{e['seconds']['engine']:.1f} s)" if e else ""), markup=False)
    if args.json:
        write_output(args.json, json.dumps(r, indent=1).encode("utf-8"), "--json")
    if args.excel:
        write_output(args.excel, report.holdout_workbook(r), "--excel")
    return 0
