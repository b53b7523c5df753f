"""Run options given outside the file (command line, GUI run settings), checked as the file's."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from simulator.scenario_io.messages import Issue, _message, _model_named

RUN_OPTIONS = {"replications": ("RunSettings", "replications"),
               "agents": ("RunSettings", "agents"),
               "months": ("RunSettings", "horizon_months"),
               "seed": ("RunSettings", "seed"),
               "budget": ("Budget", "total_cny_per_month")}
_SECTION_OF = {"RunSettings": "run", "Budget": "budget"}


def check_run_options(**options: object) -> list[Issue]:
    """Problems of run settings given as options (``agents=..., months=...``; None = not given).

    The same bounds and messages as the file's ``run`` fields: ``--agents 1000000000``
    reads like a file with ``agents = 1000000000``.
    """
    from typing import Annotated

    from pydantic import TypeAdapter

    out: list[Issue] = []
    for opt, value in options.items():
        if value is None:
            continue
        model_name, name = RUN_OPTIONS[opt]
        model = _model_named(model_name)
        assert model is not None, model_name  # RUN_OPTIONS names schema classes only
        info = model.model_fields[name]
        tp: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        adapter = TypeAdapter(tp,
                              config={"strict": True, "allow_inf_nan": False})
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                e = {**e, "loc": (name,)}
                out.append(Issue(f"{_SECTION_OF[model_name]}.{name}", value,
                                 _message(e, model)))
    return out
