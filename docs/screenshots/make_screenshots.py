"""Regenerate the screenshots in this folder.

Run: .venv/bin/python docs/screenshots/make_screenshots.py

Runs the app under Xvfb (``xvfb-run``; offscreen if it is missing) at 1366×768 and
1920×1080, in a light and a dark palette, and saves the main window, every editor
section, the comparison and the budget optimiser as ``<size>_<palette>_<view>.png``.
Editor sections are shot at both sizes in the light palette and at 1366×768 in the
dark one (36 pictures in all). Uses a throw-away user folder holding the default
scenario with Chinese tier names (青铜/白银/黄金/钻石) and two variants, so the
pictures show CJK text. ``--only 1366`` / ``--only dark`` restrict the set.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

here = Path(__file__).resolve().parent
root = here.parents[1]
home = Path(tempfile.mkdtemp(prefix="bsim-shots-"))
env = dict(os.environ, BENEFIT_SIM_HOME=str(home), PYTHONPATH=str(root),
           XDG_CONFIG_HOME=str(home / "config"))  # no remembered layout of a real session
sys.path.insert(0, str(root))
os.environ["BENEFIT_SIM_HOME"] = str(home)

import scenarios  # noqa: E402

SIZES = ["1366x768", "1920x1080"]
PALETTES = ["light", "dark"]
SECTIONS = ["General", "Segments", "Tiers", "Service", "Promotions", "Acquisition", "Budget",
            "Run settings"]


def prepare() -> tuple[Path, Path, Path]:
    """Save the three scenarios pictured (default with Chinese tier names, +staff, 5 % off)."""
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
    return base, variant, third


def shots(base, variant, third, only: str | None):
    """Take the pictures at every size (``only``: one picture's name)."""
    for size in SIZES:
        for pal in PALETTES:
            if only and only not in (size.split("x")[0], pal):
                continue
            tag = f"{size.split('x')[0]}_{pal}"
            common = ["--size", size, "--palette", pal]
            yield size, [str(base), "--tab", "Tiers", *common, "--screenshot",
                         str(here / f"{tag}_main.png")]
            if pal == "light" or size == SIZES[0]:
                for sec in SECTIONS:
                    name = sec.lower().replace(" ", "_")
                    yield size, [str(base), "--view", "editor", "--tab", sec, *common,
                                 "--screenshot", str(here / f"{tag}_editor_{name}.png")]
            yield size, ["--compare", str(base), str(variant), str(third), *common,
                         "--screenshot", str(here / f"{tag}_compare.png")]
            # the Budget optimiser tab after a run (2,000 customers per simulation)
            yield size, [str(base), "--optimise", "2000", *common, "--screenshot",
                         str(here / f"{tag}_optimiser.png")]


def main() -> None:
    """Entry point."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="a size (1366, 1920) or a palette (light, dark)")
    args = ap.parse_args()
    base, variant, third = prepare()
    xvfb = shutil.which("xvfb-run")
    for size, app_args in shots(base, variant, third, args.only):
        cmd = [sys.executable, "main.py", *app_args]
        if xvfb:
            cmd = [xvfb, "-a", "-s", f"-screen 0 {size}x24", *cmd]
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        subprocess.run(cmd, cwd=root, env=env, check=True, timeout=1800)


if __name__ == "__main__":
    main()
