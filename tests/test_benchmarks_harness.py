"""benchmarks/harness.py: interleaving order, medians, tables and the report file; and every script's --help.

No timing is measured here (speed claims belong to the benchmark scripts): the clock is a fake one.
"""
import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "harness.py")

_spec = importlib.util.spec_from_file_location("benchmarks_harness", BENCHMARKS / "harness.py")
harness = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = harness  # dataclasses look their module up while the file runs
_spec.loader.exec_module(harness)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def recording_side(name: str, calls: list[str], clock: FakeClock, seconds: float):
    def side():
        calls.append(name)
        clock.now += seconds

    return side


def test_interleave_warms_up_then_rotates_the_order_every_round(monkeypatch):
    clock, calls = FakeClock(), []
    monkeypatch.setattr(harness, "time", SimpleNamespace(perf_counter=clock))
    sides = {n: recording_side(n, calls, clock, 1.0) for n in "abc"}
    harness.interleave(sides, rounds=4, warmup=1, repeat=2)
    assert "".join(calls) == "abc" + "aabbcc" + "bbccaa" + "ccaabb" + "aabbcc"


def test_interleave_samples_are_seconds_per_call_of_each_round(monkeypatch):
    clock, calls, rounds_seen = FakeClock(), [], []
    monkeypatch.setattr(harness, "time", SimpleNamespace(perf_counter=clock))
    sides = {"fast": recording_side("fast", calls, clock, 0.5), "slow": recording_side("slow", calls, clock, 2.0)}
    timing = harness.interleave(sides, rounds=3, warmup=2, repeat=4,
                                progress=lambda r, secs: rounds_seen.append((r, secs)))
    assert timing.samples == {"fast": [0.5, 0.5, 0.5], "slow": [2.0, 2.0, 2.0]}
    assert calls.count("fast") == 2 + 3 * 4
    assert rounds_seen == [(r, {"fast": 0.5, "slow": 2.0}) for r in range(3)]
    assert timing.ratios("fast") == {"fast": 1.0, "slow": 4.0}


def test_timing_medians_ratios_and_rates_from_given_samples():
    timing = harness.Timing({"base": [3.0, 1.0, 2.0], "other": [4.0, 8.0, 6.0, 10.0]})
    assert timing.medians == {"base": 2.0, "other": 7.0}
    assert timing.ratios("base") == {"base": 1.0, "other": 3.5}
    assert timing.rates(12) == {"base": [4.0, 12.0, 6.0], "other": [3.0, 1.5, 2.0, 1.2]}


def test_rotated_moves_the_first_side_one_place_per_round():
    assert [harness.rotated(["a", "b", "c"], r) for r in range(4)] == [
        ["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]


def test_markdown_table_text_is_exact():
    lines = harness.markdown_table(["model", "img/s", "note"], [("`resnet20`", "1,234", ""), ("dpn29", 5.5, "x")],
                                   "lr")
    assert "\n".join(lines) == ("| model | img/s | note |\n"
                                "| --- | ---: | --- |\n"
                                "| `resnet20` | 1,234 |  |\n"
                                "| dpn29 | 5.5 | x |")


def test_cell_shows_a_dash_for_an_unmeasured_figure():
    assert (harness.cell(None), harness.cell(12.345), harness.cell(2048.4, ".0f")) == ("-", "12.3", "2048")


def test_machine_lines_name_machine_and_versions():
    m = dict(date="2026-01-02 03:04 UTC", cpu="Xeon", logical_cores=2, torch_threads=1, cuda=None, python="3.11.7",
             torch="2.4.0", torchvision="0.19.0", timm="1.0.0", cnnzoo="0.1.0", platform="Linux")
    assert harness.machine_lines(m) == [
        "- date: 2026-01-02 03:04 UTC",
        "- machine: Xeon, 2 logical cores, torch threads 1, no GPU",
        "- versions: Python 3.11.7, torch 2.4.0, torchvision 0.19.0, timm 1.0.0, cnnzoo 0.1.0; Linux"]


def test_command_line_quotes_what_needs_it():
    assert harness.command_line("/x/benchmarks/suite.py", ["--models", "resnet50", "--out", "/tmp/a b.md"]) == \
        "python benchmarks/suite.py --models resnet50 --out '/tmp/a b.md'"


def test_set_threads_none_keeps_torchs_choice():
    assert harness.set_threads(None) == torch.get_num_threads()


def test_write_report_is_0644_and_leaves_no_temp_file(tmp_path):
    old = os.umask(0o022)  # the usual umask; the temporary file itself starts as 0600 (mkstemp)
    try:
        path = harness.write_report(tmp_path / "docs" / "report.md", "# title\n")
    finally:
        os.umask(old)
    assert path.read_text() == "# title\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.md"]


def test_scripts_leave_threads_timing_and_writing_to_the_harness():
    for name in SCRIPTS:
        text = (BENCHMARKS / name).read_text()
        assert "from harness import" in text, name
        for own in ("statistics.median", "torch.set_num_threads", "os.replace", "mkstemp", "atomic_write_text"):
            assert own not in text, f"{name} does {own} itself"


@pytest.fixture(scope="module")
def help_exit_codes() -> dict:
    """Exit code of ``SCRIPT --help`` for every script, all run in one fresh interpreter (torch imports once)."""
    code = (
        "import contextlib, io, json, runpy, sys\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "codes = {}\n"
        f"for name in {SCRIPTS!r}:\n"
        f"    sys.argv = [name, '--help']\n"
        "    try:\n"
        "        with contextlib.redirect_stdout(io.StringIO()):\n"
        f"            runpy.run_path({str(BENCHMARKS)!r} + '/' + name, run_name='__main__')\n"
        "        codes[name] = 'no exit'\n"
        "    except SystemExit as e:\n"
        "        codes[name] = e.code or 0\n"
        "print(json.dumps(codes))\n")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_benchmark_script_is_covered():
    assert {"compile_train_step.py", "cpu_precision.py", "data_pipeline.py", "densenet_memory.py",
            "finetune_intel.py", "startup.py", "suite.py", "tact_cost.py", "threads_under_load.py",
            "zoo_speed.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_help_exits_0(help_exit_codes, name):
    assert help_exit_codes[name] == 0
