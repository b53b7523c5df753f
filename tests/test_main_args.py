"""The desktop app's command-line flags: the project's spelling and the old one."""

import pytest

from main import parse_args


@pytest.mark.parametrize("flag", ["--optimise", "--optimize"])  # --optimize: the old spelling
def test_optimise_flag_and_its_alias(flag):
    assert parse_args([flag]).optimise == 0
    assert parse_args([flag, "2000"]).optimise == 2000


def test_no_optimise_flag():
    assert parse_args([]).optimise is None


@pytest.mark.parametrize("view", ["optimiser", "optimizer"])
def test_optimiser_view_and_its_alias(view):
    assert parse_args(["--view", view]).view == "optimiser"
