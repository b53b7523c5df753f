"""Uncertain inputs: a number written as a range, drawn per replication (Latin hypercube).

Any numeric scenario parameter may be written in the TOML as a distribution
instead of a number (issue 14)::

    churn_annual  = { low = 0.15, mode = 0.20, high = 0.28 }        # triangular
    order_rate    = { low = 0.05, high = 0.18 }                      # uniform
    handle_minutes = { mean = 12, sd = 2, low = 6, high = 20 }       # normal, bounded
    cac_cny       = { dist = "lognormal", mean = 300, sd = 80 }      # lognormal (of the value)

A plain number stays a plain number. Normal and lognormal ranges are truncated to
their ``low``/``high`` if given, always to the field's allowed range. The field
itself holds the distribution's **nominal** value (triangular: the mode; uniform:
the midpoint; normal/lognormal: the mean), so every part of the program that
reads a scenario sees an ordinary number, and a run at the nominal values gives
exactly the numbers of the same file written with plain numbers. The ranges ride
along on the scenario (:func:`uncertain_of`) and are written back when it is saved.

**Sampling.** A run with uncertain inputs (``run.uncertainty.mode = "sample"``,
the default) groups its replications in draws of ``replications_per_draw``
(default 2): replication r uses draw r // m. Each input's draws are a Latin
hypercube over the run's draws, from the run's seed and the input's name only
(not from the worker count, nor from which other inputs are uncertain). The
scenario and its counterfactual get the same quantile of each input they share
(common random numbers): the scheme-off counterfactual is the same scenario; a
base scenario uses its own range for the input, or the scenario's when the base
states the input as a plain number equal to the range's nominal value.

**Assumptions vs simulation noise** (:func:`variance_split`): replications of
one draw differ only by simulation noise, draws also by the assumptions. The
one-way random-effects ANOVA estimator over n draws of m replications,
MSW = ΣΣ(y_ij − ȳ_i)² / (n(m − 1)) and MSB = m Σ(ȳ_i − ȳ)² / (n − 1), gives
σ²_noise = MSW and σ²_assumptions = max(0, (MSB − MSW) / m), both unbiased
(before the truncation at 0); the 95 % interval of the mean uses the draws'
means (standard error √(MSB / nm)).

The package, top to bottom (``lint-imports`` enforces the order; import from here):

- ``editing`` (the form's range editor: :func:`check_range`, :func:`set_nominal`,
  :func:`edit_range`, :func:`edit_assumption`, :func:`share_range`,
  :func:`link_to_assumption`) | ``sampling`` (:func:`lhs_column`,
  :class:`Plan`, :func:`plan_for`, :func:`materialise`, :func:`corners`) | ``analysis``
  (:func:`variance_split`, :func:`global_measures`, :func:`risk_summary`);
- ``inputs``: a scenario's ranges, shared assumptions and references
  (:func:`uncertain_of`, :func:`inputs_of`, :func:`inline`, :func:`problems`,
  :func:`distributions_hash`);
- ``reading``: the file's ranges and references replaced by their nominal values
  (:func:`extract`);
- ``distributions`` (:class:`Distribution`, :func:`parse`) | ``keys`` (:class:`Item`,
  :class:`Ref`, :func:`key_of`, :func:`key_text`, :func:`resolve`).
"""

from simulator.uncertainty.analysis import (
    RISK_KPIS,
    Split,
    global_measures,
    histogram,
    json_safe,
    probability_above,
    risk_summary,
    variance_split,
)
from simulator.uncertainty.distributions import (
    KINDS,
    RANGE_KEYS,
    U_EPS,
    Distribution,
    Problem,
    _num,
    parse,
)
from simulator.uncertainty.editing import (
    ASSUMPTION_NAME,
    NOMINAL_RULE,
    EditRefused,
    all_of,
    check_assumption,
    check_range,
    edit_assumption,
    edit_range,
    link_to_assumption,
    name_problem,
    not_allowed,
    set_nominal,
    share_range,
    value_problem,
    with_nominal,
)
from simulator.uncertainty.inputs import (
    Input,
    _all,
    _same,
    assumptions_of,
    distributions_hash,
    has_ranges,
    inline,
    input_label,
    input_named,
    input_unit,
    inputs_of,
    problems,
    references_of,
    set_uncertain,
    uncertain_of,
)
from simulator.uncertainty.keys import (
    ASSUMPTIONS,
    REF_KEYS,
    Item,
    Key,
    Ref,
    _path_text,
    _value_at,
    assumption_key,
    is_assumption,
    key_of,
    key_text,
    resolve,
)
from simulator.uncertainty.reading import (
    extract,
)
from simulator.uncertainty.sampling import (
    LHS_TAG,
    Plan,
    corners,
    lhs_column,
    materialise,
    plan_for,
)

__all__ = [
    "_all", "_num", "_path_text", "_same", "_value_at", "all_of", "assumption_key",
    "assumptions_of", "check_assumption", "check_range", "corners", "distributions_hash",
    "edit_assumption", "edit_range", "extract", "global_measures", "has_ranges", "histogram",
    "inline", "input_label", "input_named", "input_unit", "inputs_of", "is_assumption",
    "json_safe", "key_of", "key_text", "lhs_column", "link_to_assumption", "materialise",
    "name_problem", "not_allowed", "parse", "plan_for", "probability_above", "problems",
    "references_of", "resolve", "risk_summary", "set_nominal", "set_uncertain", "share_range",
    "uncertain_of", "value_problem", "variance_split", "with_nominal", "ASSUMPTIONS",
    "ASSUMPTION_NAME", "Distribution", "EditRefused", "Input", "Item", "KINDS", "Key",
    "LHS_TAG", "NOMINAL_RULE", "Plan", "Problem", "RANGE_KEYS", "REF_KEYS", "RISK_KPIS", "Ref",
    "Split", "U_EPS"
]
