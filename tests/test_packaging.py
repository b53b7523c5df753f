"""The wheel carries every package: a subpackage left out means an installed app without it."""

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_directory_is_in_the_wheel():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    find = conf["tool"]["setuptools"]["packages"]["find"]
    packaged = set(find_packages(str(ROOT), include=find["include"]))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for top in ("simulator", "scenarios", "ui")
               for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk <= packaged, sorted(on_disk - packaged)
    assert {"simulator.cli", "simulator.excel", "simulator.optimiser"} <= packaged
    data = conf["tool"]["setuptools"]["package-data"]["scenarios"]
    assert "targets/*.toml" in data  # the calibration targets beside the scenario files
