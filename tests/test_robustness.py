"""Files in shared folders, interrupted writes, bad files in the library, bad output paths.

Issue 19 (class 7: temp litter) and issue 20 (items 2, 4 and 5).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import scenarios
from simulator import library
from simulator.cli import main
from simulator.scenario_io import (
    FileChangedError,
    FileTakenError,
    ScenarioError,
    clean_stale_temps,
    load,
    load_with_stamp,
    save,
    stamp_of,
)

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def _with_umask(mask: int):
    class U:
        def __enter__(self):
            self.old = os.umask(mask)

        def __exit__(self, *a):
            os.umask(self.old)
    return U()


# ------------------------------------------------------------------ file modes
@pytest.mark.parametrize("mask,expected", [(0o022, 0o644), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path, mask, expected):
    sc = scenarios.load_default()
    with _with_umask(mask):
        save(sc, tmp_path / "a.toml")
        from simulator.scenario_io import atomic_write_bytes

        atomic_write_bytes(tmp_path / "r.json", b"{}")
    assert _mode(tmp_path / "a.toml") == expected
    assert _mode(tmp_path / "r.json") == expected


def test_saving_keeps_a_shared_files_mode(tmp_path):
    sc = scenarios.load_default()
    p = tmp_path / "shared.toml"
    save(sc, p)
    os.chmod(p, 0o664)
    with _with_umask(0o077):
        save(sc.model_copy(update={"name": "edited"}), p)
    assert _mode(p) == 0o664
    assert load(p).name == "edited"


def test_excel_export_follows_the_umask_and_keeps_a_mode(tmp_path):
    from openpyxl import Workbook

    from simulator.excel.output import save_atomic

    with _with_umask(0o002):
        save_atomic(Workbook(), tmp_path / "x.xlsx")
    assert _mode(tmp_path / "x.xlsx") == 0o664
    os.chmod(tmp_path / "x.xlsx", 0o640)
    save_atomic(Workbook(), tmp_path / "x.xlsx")
    assert _mode(tmp_path / "x.xlsx") == 0o640


# ------------------------------------------------------------------ two writers
def test_save_detects_a_file_changed_on_disk_since_it_was_opened(tmp_path):
    p = tmp_path / "s.toml"
    save(scenarios.load_default(), p)
    a, stamp_a = load_with_stamp(p)  # window A opens
    b, stamp_b = load_with_stamp(p)  # window B opens
    assert stamp_a == stamp_b == stamp_of(p)
    new_stamp = save(b.model_copy(update={"name": "B's edit"}), p, expect=stamp_b)  # B saves
    assert new_stamp == stamp_of(p)
    with pytest.raises(FileChangedError, match="changed on disk"):  # A must be asked
        save(a.model_copy(update={"name": "A's edit"}), p, expect=stamp_a)
    assert load(p).name == "B's edit"  # B's work is not lost
    assert [x.name for x in tmp_path.iterdir()] == ["s.toml"]  # and no temp left
    save(a.model_copy(update={"name": "A's edit"}), p, expect=new_stamp)  # after reload: fine


def test_save_as_never_overwrites_a_name_another_process_took(tmp_path):
    p = tmp_path / "new.toml"
    sc = scenarios.load_default()
    save(sc.model_copy(update={"name": "first"}), p, exclusive=True)
    with pytest.raises(FileTakenError):
        save(sc.model_copy(update={"name": "second"}), p, exclusive=True)
    assert load(p).name == "first"


def test_concurrent_save_as_to_one_name_keeps_exactly_one(tmp_path):
    """Many writers race for each name (threads: the race is in the file system calls)."""
    sc = scenarios.load_default()
    taken = 0
    lost = 0
    for round_ in range(20):
        p = tmp_path / f"race{round_}.toml"
        wins: list[str] = []
        barrier = threading.Barrier(6)

        def writer(k: int) -> None:
            barrier.wait()
            try:
                save(sc.model_copy(update={"name": f"w{k}"}), p, exclusive=True)
                wins.append(f"w{k}")
            except FileTakenError:
                pass

        ts = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        taken += len(wins)
        lost += len(wins) != 1 or load(p).name != wins[0]
    assert taken == 20 and lost == 0
    assert not [x for x in tmp_path.iterdir() if x.name.endswith(".tmp")]


def test_library_new_file_takes_the_next_free_name():
    sc = scenarios.load_default()
    a = library.save_user(sc)
    b = library.save_user(sc)
    assert a != b and a.exists() and b.exists()


# ------------------------------------------------------------------ temp litter
def _kill_during(code: str, ready: Path) -> None:
    """Run ``code`` in a child that signals (file ``ready``) then is killed with SIGKILL."""
    proc = subprocess.Popen([PY, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        t0 = time.time()
        while not ready.exists():
            assert proc.poll() is None, "the writer ended before it could be killed"
            assert time.time() - t0 < 60
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)


_SLOW_WRITE = textwrap.dedent("""
    import sys, time, pathlib
    import simulator.scenario_io.atomic as sio
    ready = pathlib.Path(sys.argv[-1]) if False else pathlib.Path({ready!r})

    def slow(tmp, data):
        with open(tmp, "wb") as f:
            f.write(data[: len(data) // 2]); f.flush()
            ready.touch()
            time.sleep(60)

    sio._write_file = slow
""")


@pytest.mark.parametrize("what", ["save", "export"])
def test_kill_9_while_writing_leaves_no_litter_after_the_next_start(tmp_path, what):
    home_dir = library.user_dir()
    ready = tmp_path / "ready"
    if what == "save":
        target = home_dir / "mine.toml"
        code = _SLOW_WRITE.format(ready=str(ready)) + textwrap.dedent(f"""
            import scenarios
            from simulator.scenario_io import save
            save(scenarios.load_default(), {str(target)!r})
        """)
    else:
        target = tmp_path / "out" / "book.xlsx"
        target.parent.mkdir()
        code = _SLOW_WRITE.format(ready=str(ready)) + textwrap.dedent(f"""
            from openpyxl import Workbook
            from simulator.excel.output import save_atomic
            import pathlib
            save_atomic(Workbook(), pathlib.Path({str(target)!r}))
        """)
    _kill_during(code, ready)
    folder = target.parent
    litter = [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert len(litter) == 1 and litter[0].name.startswith(f".{target.name}.")
    assert not target.exists()  # never a half file under the real name
    # the library never lists it
    assert all(not e.path.name.endswith(".tmp") for e in library.list_user())
    # a fresh temp (a live writer's, or one killed a moment ago) is kept ...
    assert clean_stale_temps(folder) == []
    # ... one older than a few minutes goes at the next start (user folder) or next write
    old = time.time() - 600
    os.utime(litter[0], (old, old))
    if what == "save":
        code = ("import os, simulator.library as l; l.user_dir(); "
                "print(sorted(os.listdir(l.user_dir())))")
        out = subprocess.run([PY, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
        assert out.returncode == 0, out.stderr
        assert ".tmp" not in out.stdout
    else:
        from openpyxl import Workbook

        from simulator.excel.output import save_atomic

        save_atomic(Workbook(), target)
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_a_live_writers_old_temp_file_is_never_removed(tmp_path):
    """Age alone is not enough: a writer holds a lock on its temp file while it writes."""
    import fcntl

    live = tmp_path / ".x.toml.abcd1234.tmp"
    live.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(live, (old, old))
    fd = os.open(live, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert clean_stale_temps(tmp_path) == []
        assert live.exists()
    finally:
        os.close(fd)
    other = tmp_path / ".x.toml.tmp"  # not our naming: never touched
    other.write_bytes(b"x")
    os.utime(other, (old, old))
    assert clean_stale_temps(tmp_path) == [live]
    assert other.exists()


# ------------------------------------------------------------------ library
def _broken_files(folder: Path) -> dict[str, str]:
    files = {
        "v1_list_section.toml": 'schema_version = 1\nname = "x"\npopulation = [1, 2]\n',
        "v1_text_tier_scheme.toml": 'schema_version = 1\nname = "x"\ntier_scheme = "gold"\n',
        "v1_bad_hours.toml": 'schema_version = 1\nname = "x"\n[[service.pools]]\nname = "a"\n'
                             'staff = 3\nopen_hours = "8-22"\n',
        "deep.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "deep_table.toml": "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
        "binary.toml": bytes(range(256)).decode("latin-1"),
        "empty.toml": "",
        "future.toml": 'schema_version = 99\nname = "x"\n',
        "nan.toml": (ROOT / "scenarios" / "xinghe_today.toml").read_text(encoding="utf-8")
        .replace("cac_cny = ", "cac_cny = nan #", 1),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="latin-1" if name == "binary.toml" else "utf-8")
    os.mkfifo(folder / "pipe.toml")
    (folder / "folder.toml").mkdir()
    os.symlink("/dev/zero", folder / "zero.toml")
    return files


def test_one_bad_file_never_takes_the_listing_down(capsys):
    d = library.user_dir()
    save(scenarios.load_default(), d / "good.toml")
    _broken_files(d)
    t0 = time.time()
    entries = library.list_user()
    assert time.time() - t0 < 10  # the pipe did not block
    by = {e.path.name: e for e in entries}
    assert by["good.toml"].error is None
    broken = [e for e in entries if e.error]
    assert {e.path.name for e in broken} >= {"v1_list_section.toml", "deep.toml", "pipe.toml",
                                             "zero.toml", "binary.toml", "nan.toml"}
    assert all("Traceback" not in e.error for e in broken)
    assert main(["list"]) == 0
    out = capsys.readouterr()
    assert "good" in out.out and "invalid deep.toml" in out.out and "Traceback" not in out.err


@pytest.mark.parametrize("kind", ["file", "readonly", "missing_parent_is_file"])
def test_unusable_user_folder_still_lists_and_runs_shipped(tmp_path, monkeypatch, capsys, kind):
    home = tmp_path / "home"
    if kind == "file":
        home.write_text("not a folder")
    elif kind == "readonly":
        (home / "scenarios").mkdir(parents=True)
        os.chmod(home / "scenarios", 0o500)
        if os.access(home / "scenarios", os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
    else:
        (tmp_path / "f").write_text("x")
        home = tmp_path / "f" / "home"
    monkeypatch.setenv("BENEFIT_SIM_HOME", str(home))
    assert main(["list"]) == 0
    out = capsys.readouterr()
    assert "xinghe_today" in out.out
    assert out.err.count("warning:") == 1 and "Traceback" not in out.err
    assert main(["run", "xinghe_today", "--agents", "200", "--months", "2", "-r", "1"]) == 0


# ------------------------------------------------------------------ command line
def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "simulator.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


SMALL = ["--agents", "200", "--months", "2", "-r", "1"]


def test_bad_output_paths_are_one_line_messages(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert "is a folder" in _one_line_error(_cli("run", *SMALL, "--json", str(tmp_path)))
    assert "is a file" in _one_line_error(_cli("run", *SMALL, "--csv", str(tmp_path / "afile")))
    assert "does not exist" in _one_line_error(
        _cli("run", *SMALL, "--json", str(tmp_path / "no" / "x.json")))
    os.mkfifo(tmp_path / "fifo.json")
    assert "not a regular file" in _one_line_error(
        _cli("run", *SMALL, "--json", str(tmp_path / "fifo.json")))


def test_disk_full_is_a_one_line_message(tmp_path, monkeypatch, capsys):
    import simulator.scenario_io.atomic as sio

    def full(tmp, data):
        Path(tmp).write_bytes(data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sio, "_write_file", full)
    out = tmp_path / "r.json"
    assert main(["run", *SMALL, "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --json {out}: cannot write it (the disk is full); nothing was written"]
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(sio, "_write_file", full)
    assert main(["export", *SMALL, "--excel", str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "the disk is full" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_validate_refuses_devices_pipes_and_folders_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.toml")
    for target, what in (("/dev/zero", "not a regular file"),
                         (str(tmp_path / "pipe.toml"), "not a regular file"),
                         (str(tmp_path), "is a folder")):
        r = _cli("validate", target, timeout=30)
        assert r.returncode == 2 and what in r.stdout and "Traceback" not in r.stderr


@pytest.mark.parametrize("value,expected", [
    ("nan", "not a number — must be a finite number (between ¥0/month and "
            "¥10,000,000,000/month)"),
    ("-5", "¥-5/month — must be between ¥0/month and ¥10,000,000,000/month"),
])
@pytest.mark.parametrize("command", ["optimise", "optimize"])  # the old spelling is an alias
def test_optimise_budget_has_the_files_bounds(capsys, command, value, expected):
    assert main([command, "--budget", value]) == 2
    err = capsys.readouterr().err
    assert f"--budget (Budget ▸ Total per month): {expected}" in err


def test_huge_file_is_refused_by_size(tmp_path):
    p = tmp_path / "big.toml"
    p.write_bytes(b"# " + b"x" * (6 * 2**20))
    with pytest.raises(ScenarioError, match="too large"):
        load(p)


@pytest.mark.parametrize("opt,value,expected", [
    ("--agents", "1000000000", "--agents (Run settings ▸ Agents): 1,000,000,000 agents — must "
                               "be between 100 and 5,000,000 agents"),
    ("--months", "10000", "--months (Run settings ▸ Horizon months): 10,000 months — must be "
                          "between 1 and 120 months"),
    ("--replications", "0", "--replications (Run settings ▸ Replications): 0 runs — must be "
                            "between 1 and 2,000 runs"),
    ("--seed", "-1", "--seed (Run settings ▸ Seed): -1 — must be between 0 and "),
    ("--workers", "0", "--workers (Workers): 0 — must be between 1 and 256 processes"),
])
@pytest.mark.parametrize("command", ["run", "export"])
def test_cli_options_have_the_files_bounds_and_messages(tmp_path, capsys, opt, value, expected,
                                                        command):
    if command == "export":
        if opt == "--workers":
            return
        argv = ["export", "--excel", str(tmp_path / "x.xlsx"), opt, value]
    else:
        argv = ["run", opt, value]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    # the same words as a file with that value
    if opt in ("--agents", "--months"):
        field = {"--agents": "agents", "--months": "horizon_months"}[opt]
        d = scenarios.load_default().model_dump(mode="json", exclude_none=True)
        d["run"][field] = int(value)
        from simulator.scenario_io import from_dict

        with pytest.raises(ScenarioError) as e:
            from_dict(d)
        assert expected.split(": ", 1)[1] in str(e.value)
