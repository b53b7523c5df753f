"""``benefit-sim capacity``: the live capacity check on the command line (simulator.capacity)."""

from __future__ import annotations

import json


def cli_capacity(args) -> int:
    """``benefit-sim capacity``: the table, and exit 1 when a pool cannot keep up."""
    from rich.table import Table

    from simulator.capacity import _hours, capacity_check
    from simulator.console import _console, write_output
    from simulator.loader import load_scenario

    console = _console()
    ld = load_scenario(args.scenario)
    sc = ld.scenario
    target = args.sla_target
    pools = capacity_check(sc, target)
    console.print(f"[bold]{sc.name}[/bold]: capacity from theory (Erlang C, M/M/c), "
                  f"today's customers {sc.population.customers:,}, SLA {target:.0%} within "
                  f"{sc.service.sla_hours:g} h", highlight=False)
    for p in pools:
        t = Table(title=f"Pool {p.pool}: {p.contacts_per_hour:,.1f} contacts/h × "
                        f"{p.handle_minutes:g} min = {p.offered_erlangs:,.2f} Erlangs; day ρ "
                        f"{p.utilisation:.1%}" + (" (tier mix estimated)" if p.estimated_mix
                                                  else ""), title_justify="left")
        for col in ("hours", "staff", "ρ", "Erlang C staff", "within SLA now", ""):
            t.add_column(col, justify="left" if col in ("hours", "") else "right")
        for q in p.periods:
            rho = "closed" if q.closed else f"{q.utilisation:.1%}"
            t.add_row(_hours(q.start_hour, q.end_hour), str(q.staff), rho,
                      str(q.staff_needed), "—" if q.closed else f"{q.sla_share:.1%}",
                      "ρ ≥ 1: cannot keep up" if q.overloaded and not q.closed else "")
        console.print(t)
    flags = [f for p in pools for f in p.flags()]
    for f in flags:
        console.print(f"[bold yellow]warning:[/bold yellow] {f}", highlight=False)
    if args.json:
        write_output(args.json, json.dumps({"scenario": sc.name, "sla_target": target,
                                            "sla_hours": sc.service.sla_hours,
                                            "pools": [p.to_json() for p in pools]},
                                           indent=2, ensure_ascii=False).encode("utf-8"),
                     "--json")
        console.print(f"wrote {args.json}")
    return 1 if any(p.overloaded for p in pools) else 0
