"""cnnzoo experiment: a real tiny grid on the shipped CIFAR-10 sample, continued after a kill; table means equal
the JSONL means; figures are PNGs; bad grids and folders fail with clear errors and lose no finished run."""
import errno
import json
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest

from cnnzoo.engine import train
from cnnzoo.errors import ConfigError, UnknownActivationError, UnknownModelError
from cnnzoo.cli import main
from cnnzoo.experiment import ResultsFolderError, parse_spec, run_experiment, write_report
from cnnzoo.experiment.report import KEPT_MARKER, _hardware_and_time, table
from cnnzoo.experiment.results import aggregate
from cnnzoo.experiment.runner import ordered_cells, parse_shard
from cnnzoo.experiment.spec import load_spec

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# 2 activations x 2 seeds x 1 epoch: 100 training + 40 validation + 200 test real images per run
TINY = dict(name="tiny", models=["resnet20"], activations=["relu", "tact"], lrs=[0.05], seeds=[0, 1],
            base=dict(data="sample", epochs=1, batch_size=50, precision="fp32", val_size=40, train_subset=100,
                      log_every=1, threads=1))
IDS = [f"resnet20-{a}-sgd-lr0.05-s{s}" for a in ("relu", "tact") for s in (0, 1)]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))


class Recorder:
    """train() that records (run dir name, resume) and optionally dies like a kill at a given call."""

    def __init__(self, kill_at=None, real=True):
        self.calls, self.kill_at, self.real = [], kill_at, real

    def __call__(self, cfg, resume=False, callbacks=()):
        self.calls.append((cfg.out.rsplit("/", 1)[-1], resume))
        if len(self.calls) == self.kill_at:
            raise KeyboardInterrupt
        if self.real:
            return train(cfg, resume=resume, callbacks=callbacks)


def _jsonl(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_grid_runs_continues_after_kill_and_reports(tmp_path):
    out = tmp_path / "res"
    spec = parse_spec(TINY)
    assert [c.cell_id for c in spec.cells] == IDS

    killed = Recorder(kill_at=3)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec, out, train_fn=killed, log=lambda *_: None)
    assert [c[0] for c in killed.calls] == IDS[:3]
    assert [p.name for p in sorted((out / "runs").glob("*/summary.json"), key=lambda p: IDS.index(p.parent.name))
            ] == ["summary.json"] * 2
    # the 2nd run was also cut after its last checkpoint, before it wrote its summary
    (out / "runs" / IDS[1] / "summary.json").unlink()

    again = Recorder()
    actions = run_experiment(spec, out, train_fn=again, log=lambda *_: None)
    assert actions == [(IDS[0], "skipped"), (IDS[1], "resumed"), (IDS[2], "trained"), (IDS[3], "trained")]
    assert again.calls == [(IDS[1], True), (IDS[2], False), (IDS[3], False)]

    runs = {i: out / "runs" / i for i in IDS}
    counts = json.loads((runs[IDS[0]] / "summary.json").read_text())["counts"]
    assert counts == {"val": 40, "train": 100, "test": 200}
    records = {i: _jsonl(d) for i, d in runs.items()}
    assert all(len(r) == 1 and r[0]["epoch"] == 1 for r in records.values())  # no duplicated epoch after resume
    assert len(records[IDS[2]][0]["act_params"]) == 19  # resnet20: one TAct per activation site
    assert "act_params" not in records[IDS[0]][0]

    written = write_report(out)
    report = written["report"].read_text()
    for act in ("relu", "tact"):
        finals = [records[i][-1]["val_top1"] for i in IDS if f"-{act}-" in i]
        tests = [json.loads((runs[i] / "summary.json").read_text())["test"]["top1"] for i in IDS if f"-{act}-" in i]
        row = re.search(rf"^\| {act} \| 2/2 \| ([\d.]+) ± ([\d.]+) \| [\d.]+ ± [\d.]+ \| ([\d.]+) ± [\d.]+ \|",
                        report, re.M)
        assert row, report
        assert float(row.group(1)) == pytest.approx(statistics.fmean(finals), abs=0.006)
        assert float(row.group(2)) == pytest.approx(statistics.stdev(finals), abs=0.006)
        assert float(row.group(3)) == pytest.approx(statistics.fmean(tests), abs=0.006)
    csv_lines = (out / "summary.csv").read_text().splitlines()
    assert len(csv_lines) == 5 and all(",finished," in line for line in csv_lines[1:])
    for png in (written["error_curves"], written["act_params"], runs[IDS[2]] / "act_params.png"):
        data = png.read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 5000, png

    # a Markdown page: figures copied beside it; a hand-written reading below the marker survives regeneration
    page = tmp_path / "docs" / "study.md"
    write_report(out, page=page)
    page.write_text(page.read_text() + f"\n{KEPT_MARKER}\n## Plain reading\n\nTAct ties ReLU here.\n")
    write_report(out, page=page)
    text = page.read_text()
    assert text.count("TAct ties ReLU here.") == 1 and text.count(KEPT_MARKER) == 1
    assert text.index("## Results") < text.index(KEPT_MARKER)
    assert (tmp_path / "docs" / "img" / "study_error_curves.png").read_bytes()[:8] == PNG_SIGNATURE

    # a different grid in the same folder is refused and changes nothing; --force keeps the finished runs
    before = (out / "experiment.json").read_text()
    bigger = parse_spec(dict(TINY, seeds=[0, 1, 2]))
    with pytest.raises(ConfigError, match=r"different config.*2 cell\(s\) added.*--force"):
        run_experiment(bigger, out, train_fn=Recorder(real=False), log=lambda *_: None)
    assert (out / "experiment.json").read_text() == before
    fake = Recorder(real=False)
    actions = run_experiment(bigger, out, force=True, train_fn=fake, log=lambda *_: None)
    assert [c[0] for c in fake.calls] == ["resnet20-relu-sgd-lr0.05-s2", "resnet20-tact-sgd-lr0.05-s2"]
    assert sum(a == "skipped" for _, a in actions) == 4
    assert all((runs[i] / "summary.json").is_file() for i in IDS)


def test_seed_order_trains_every_cells_first_seed_first():
    spec = parse_spec(TINY)
    assert [c.cell_id for c in ordered_cells(spec.cells, "seed")] == [IDS[0], IDS[2], IDS[1], IDS[3]]
    assert [c.cell_id for c in ordered_cells(spec.cells)] == IDS
    with pytest.raises(ConfigError, match="order must be one of grid, seed, got 'random'"):
        ordered_cells(spec.cells, "random")


class StopInSecondEpoch:
    """Dies like a kill at the end of epoch 2, before its checkpoint: epoch 1 is saved and in the resume state."""

    def on_epoch_end(self, epoch, model, record):
        if epoch == 1:
            raise KeyboardInterrupt


def _commit_and_clone(repo: Path, clone: Path) -> None:
    """What another machine gets: a git clone of the committed results (the repository's .gitignore files apply)."""
    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / ".gitignore", repo / ".gitignore")
    shutil.copy(root / "docs/experiments/results/.gitignore", repo / "docs/experiments/results/.gitignore")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "results"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    subprocess.run([*git, "clone", "-q", str(repo), str(clone)], check=True, capture_output=True)


def test_an_unfinished_run_carries_on_from_a_clone_of_the_committed_folder(tmp_path):
    spec = parse_spec(dict(TINY, activations=["relu"], seeds=[0], base=dict(TINY["base"], epochs=2)))
    cell = "resnet20-relu-sgd-lr0.05-s0"
    repo, clone = tmp_path / "repo", tmp_path / "clone"
    out = repo / "docs/experiments/results/study"

    def stopping(cfg, resume=False, callbacks=()):
        return train(cfg, resume=resume, callbacks=[*callbacks, StopInSecondEpoch()])

    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec, out, train_fn=stopping, log=lambda *_: None)
    assert [r["epoch"] for r in _jsonl(out / "runs" / cell)] == [1]
    _commit_and_clone(repo, clone)
    cloned = clone / "docs/experiments/results/study/runs" / cell
    assert not (cloned / "checkpoint.pt").exists() and (cloned / "resume" / "manifest.json").is_file()

    in_place = run_experiment(spec, out, log=lambda *_: None)
    elsewhere = run_experiment(spec, clone / "docs/experiments/results/study", log=lambda *_: None)
    assert in_place == elsewhere == [(cell, "resumed")]
    here, there = _jsonl(out / "runs" / cell), _jsonl(cloned)
    assert [r["epoch"] for r in there] == [1, 2] and not (cloned / "resume").exists()
    assert (there[1]["train_loss"], there[1]["val_top1"]) == (here[1]["train_loss"], here[1]["val_top1"])


def test_disk_error_mid_grid_keeps_finished_runs(tmp_path):
    out = tmp_path / "res"
    spec = parse_spec(dict(TINY, activations=["relu"], seeds=[0, 1], base=dict(TINY["base"], threads=1)))
    calls = []

    def full_disk(cfg, resume=False, callbacks=()):
        calls.append(cfg.out)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return train(cfg, resume=resume, callbacks=callbacks)

    with pytest.raises(ResultsFolderError, match="No space left on device.*Finished runs are intact"):
        run_experiment(spec, out, train_fn=full_disk, log=lambda *_: None)
    assert (out / "runs" / "resnet20-relu-sgd-lr0.05-s0" / "summary.json").is_file()


def test_bad_grids_are_named(tmp_path):
    with pytest.raises(UnknownModelError, match="unknown model 'resnet21'; closest: .*resnet20"):
        parse_spec(dict(TINY, models=["resnet21"]))
    with pytest.raises(UnknownActivationError, match=r"unknown activation 'tanhx'.*valid: relu, relu6, .*mtact"):
        parse_spec(dict(TINY, activations=["relu", "tanhx"]))
    with pytest.raises(ConfigError, match="zero cells: seeds is empty"):
        parse_spec(dict(TINY, seeds=[]))
    with pytest.raises(ConfigError, match="unknown key 'seed' in .*did you mean seeds"):
        parse_spec(dict(TINY, seed=[0]))
    with pytest.raises(ConfigError, match="unknown config key 'epoch' in the experiment, base"):
        parse_spec(dict(TINY, base=dict(TINY["base"], epoch=3)))
    with pytest.raises(ConfigError, match="'lr' is set by the grid"):
        parse_spec(dict(TINY, base=dict(TINY["base"], lr=0.1)))
    with pytest.raises(ConfigError, match="unknown optimizer 'adam' for resnet20; valid: sgd, adamw"):
        parse_spec(dict(TINY, models=[dict(model="resnet20", optimizers=["adam"])]))


def test_unwritable_or_foreign_folder_is_refused(tmp_path):
    spec = parse_spec(TINY)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(ResultsFolderError, match=r"cannot write to the results folder .*a_file/res"):
        run_experiment(spec, blocker / "res", train_fn=Recorder(real=False), log=lambda *_: None)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ResultsFolderError, match="not empty and holds no experiment.json"):
        run_experiment(spec, foreign, train_fn=Recorder(real=False), log=lambda *_: None)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_shards_split_the_grid_and_threads_override(tmp_path):
    spec = parse_spec(TINY)
    seen = {}

    def fake(cfg, resume=False, callbacks=()):
        seen[cfg.out.rsplit("/", 1)[-1]] = cfg.threads

    first = run_experiment(spec, tmp_path / "res", train_fn=fake, log=lambda *_: None, shard=(1, 2), threads=3)
    second = run_experiment(spec, tmp_path / "res", train_fn=fake, log=lambda *_: None, shard=(2, 2), threads=3)
    assert [c for c, _ in first] == IDS[0::2] and [c for c, _ in second] == IDS[1::2]
    assert seen == {cell: 3 for cell in IDS}
    with pytest.raises(ConfigError, match="shard must be K/N with 1 <= K <= N, got '3/2'"):
        parse_shard("3/2")


def test_jobs_train_the_grid_in_parallel_processes_and_report(tmp_path, monkeypatch):
    import yaml

    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    out = tmp_path / "res"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert main(["experiment", str(config), "--out", str(out), "--jobs", "2", "--threads", "1"]) == 0
    for cell in IDS:
        run = out / "runs" / cell
        assert (run / "summary.json").is_file(), cell
        assert yaml.safe_load((run / "config.yaml").read_text())["threads"] == 1
    record = json.loads((out / "experiment.json").read_text())
    assert record["name"] == "tiny"
    assert (out / "summary.csv").read_text().count("\n") == len(IDS) + 1


def test_committed_full_study_is_the_shipped_grid_and_carries_no_weights():
    # the activation study is carried on run by run from this committed folder: if the shipped recipe drifted
    # from it, the next session's `cnnzoo experiment activations_cifar10_full` would refuse to continue
    root = Path(__file__).resolve().parents[1]
    folder = root / "docs/experiments/results/activations_cifar10_full"
    record = json.loads((folder / "experiment.json").read_text())
    spec = load_spec("activations_cifar10_full")
    assert record["fingerprint"] == spec.fingerprint()
    finished = sorted(p.parent.name for p in folder.glob("runs/*/summary.json"))
    assert len(finished) >= 2 and set(finished) <= {c.cell_id for c in spec.cells}
    tracked = subprocess.run(["git", "ls-files", str(folder)], cwd=root, capture_output=True, text=True).stdout
    assert tracked and not re.search(r"\.(safetensors|pt)$|/resume/", tracked, re.M)
    tracked_runs = set(re.findall(r"/runs/([^/]+)/", tracked))
    assert tracked_runs == set(finished)  # no unfinished run's config or partial log is committed
    # `git add` of the folder (the page's command) must leave an unfinished run's multi-MB resume state out
    resume_file = folder / "runs" / finished[0] / "resume" / "state-0.safetensors"
    assert subprocess.run(["git", "check-ignore", "-q", str(resume_file)], cwd=root).returncode == 0


def _finished_row(activation, seed, cpu, epoch_s, test_top1):
    hardware = dict(cpu=cpu, cores=2, torch="2.14.1", torch_threads=1)
    return dict(model="resnet20", optimizer="sgd", lr=0.05, activation=activation, seed=seed, status="finished",
                curve=[(1, test_top1)], final_val_top1=test_top1, best_val_top1=test_top1, test_top1=test_top1,
                epoch_s=epoch_s, wall_time_s=epoch_s, params=1, summary=dict(hardware=hardware))


def test_time_against_relu_is_only_compared_on_one_cpu():
    # a study carried over sessions lands on different machines: a TAct run on a CPU twice as fast as ReLU's
    # would read as "0.50x ReLU's time" if seconds from two CPUs were divided
    rows = [_finished_row("relu", 0, "Xeon", 100.0, 80.0), _finished_row("swish", 0, "Xeon", 110.0, 81.0),
            _finished_row("tact", 0, "EPYC", 50.0, 82.0)]
    by_act = {e["activation"]: e for e in aggregate(rows)}
    assert by_act["swish"]["epoch_s_vs_relu"] == pytest.approx(1.10)
    assert by_act["tact"]["epoch_s_vs_relu"] is None and by_act["tact"]["cpus_differ"]
    assert "| tact | 1/1 |" in table(list(by_act.values()))
    assert "- (CPUs differ) |" in table([by_act["tact"]]) and "1.10x" in table([by_act["swish"]])
    hardware, total_s = _hardware_and_time(rows)
    assert hardware.startswith("Xeon, 2 cores, torch 2.14.1, 1 thread(s) per run (2 runs); EPYC, 2 cores")
    assert "(1 run)" in hardware and total_s == 260.0
    assert _hardware_and_time(rows[:2])[0] == "Xeon, 2 cores, torch 2.14.1, 1 thread(s) per run"
