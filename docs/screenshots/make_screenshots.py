"""Regenerate the screenshots in this folder (offscreen): .venv/bin/python docs/screenshots/make_screenshots.py

Uses a throw-away user folder holding the default scenario with Chinese tier names
(青铜/白银/黄金/钻石) and a variant with more staff, so the pictures show CJK text.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

here = Path(__file__).resolve().parent
root = here.parents[1]
home = Path(tempfile.mkdtemp(prefix="bsim-shots-"))
env = dict(os.environ, BENEFIT_SIM_HOME=str(home), QT_QPA_PLATFORM="offscreen",
           XDG_CONFIG_HOME=str(home / "config"))  # no remembered layout of a real session
sys.path.insert(0, str(root))
os.environ["BENEFIT_SIM_HOME"] = str(home)

import scenarios  # noqa: E402

sc = scenarios.load_default()
for t, zh in zip(sc.tiers, ["青铜", "白银", "黄金", "钻石"]):
    t.name = zh
sc.name = "星河 today (中文等级)"
sc.run.replications = 8
sc.run.agents = 6000
sc.run.horizon_months = 24
base = scenarios.save_user(sc)
sc2 = sc.model_copy(deep=True)
sc2.name = "星河 + staff, 3 h SLA"
sc2.service.pools[0].shifts[0].staff *= 2
sc2.service.sla_hours = 3.0
variant = scenarios.save_user(sc2)
sc3 = sc.model_copy(deep=True)
sc3.name = "星河 discount 5 %"
for t in sc3.tiers:
    for b in t.benefits:
        if b.kind == "discount":
            b.cost_share = 0.05
third = scenarios.save_user(sc3)

py = str(root / ".venv" / "bin" / "python")
runs = [
    ["main.py", str(base), "--full", "--tab", "Service", "--screenshot",
     str(here / "main_window.png")],
    ["main.py", str(base), "--view", "editor", "--tab", "Tiers", "--size", "1600x1100",
     "--screenshot", str(here / "editor_tiers.png")],
    ["main.py", str(base), "--view", "editor", "--tab", "Service", "--size", "1600x1100",
     "--screenshot", str(here / "editor_service.png")],
    ["main.py", "--compare", str(base), str(variant), str(third), "--size", "1600x1100",
     "--screenshot", str(here / "compare.png")],
    # the Budget optimiser tab after a run (2,000 customers per simulation, ~30 s)
    ["main.py", str(base), "--optimize", "2000", "--size", "1600x1000",
     "--screenshot", str(here / "optimizer.png")],
]
for args in runs:
    subprocess.run([py, *args], cwd=root, env=env, check=True)
