"""The GUI resolves a scenario's customer file as a run does (the one loader)."""

import shutil

import pytest

from simulator import customer_base
from simulator.provenance import check_matches
from simulator.scenario_io import load
from tests.test_datafit_cli import SAMPLE
from tests.test_datafit_fit import cdnow
from ui.document import ScenarioDocument
from ui.run_tasks import run_task

pytestmark = pytest.mark.gui


def test_document_and_run_start_from_the_customer_file(qtbot, private_home, tmp_path):
    from simulator.cli import main

    out = tmp_path / "shop.toml"
    assert main(["fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--out", str(out),
                 "--split", "1997-10-01", "--customers", str(tmp_path / "shop.csv")]) == 0
    doc = ScenarioDocument(load(out), out)
    assert doc.issues() == []
    sha = customer_base.content_hash((tmp_path / "shop.csv").read_bytes())
    assert doc.scenario.population.customer_file_sha256 == sha  # filled in by the loader
    res = run_task(doc.scenario, out, replications=1, agents=100, horizon_months=2,
                   workers=1)(lambda *a: None, None)
    check_matches(res, doc.scenario, check_base=False)  # export accepts the run's result
    # the customer file gone: a problem naming the field, not a crash at run time
    shutil.move(tmp_path / "shop.csv", tmp_path / "elsewhere.csv")
    doc.set_value(("population", "customers"), 2000)
    probs = [str(i) for i in doc.issues()]
    assert len(probs) == 1 and "Actual customers (customer file)" in probs[0]
    assert "does not exist" in probs[0]


def test_the_loader_filled_hash_is_not_an_editable_field(qtbot, private_home):
    """The customer file's hash is the loader's, not the planner's: no field for it."""
    from pathlib import Path

    from simulator.scenario import Population
    from ui.forms import ModelForm

    path = Path(__file__).parents[2] / "scenarios" / "xinghe_today.toml"
    doc = ScenarioDocument(load(path), path)
    form = ModelForm(doc, ("population",), Population)
    qtbot.addWidget(form)
    assert "customer_file" in form.fields
    assert "customer_file_sha256" not in form.fields
