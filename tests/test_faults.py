"""Nothing lost: a run killed with SIGKILL leaves the old outputs and nothing that looks complete.

Each test starts the work in a subprocess, kills it (``kill -9``) as soon as
its temporary output appears (so the kill falls in the middle of the write),
then checks that the previous outputs are intact, that no new file stands
where a complete one would, and that the next run cleans up the leftovers.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepsea._atomic import (
    TEMPORARY_PREFIX,
    atomic_files,
    recover_folder,
    temporary_prefix,
)

L = 40
TINY = dict(conv_filters=(4,), dropout=(0.0,), kernel_size=4, pool_size=2, fc_units=4,
            epochs=1, batch_size=16, random_state=0, optimizer="adam")


def leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith(TEMPORARY_PREFIX))


def kill_when(args, condition, timeout=180):
    """Run ``python args...``; SIGKILL it once ``condition()`` holds. Fails if it ends first."""
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=dict(os.environ))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if condition():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return
            if process.poll() is not None:
                pytest.fail("the run ended before the point of the kill: "
                            + process.stderr.read().decode()[-2000:])
            time.sleep(0.002)
        pytest.fail("the point of the kill never came")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


def random_dna(rng, n):
    return "".join(rng.choice(list("ACGT"), n))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from skdeepsea import DeepSEAClassifier, OneHotDNA

    rng = np.random.default_rng(0)
    X = OneHotDNA(dtype="uint8").fit_transform([random_dna(rng, L) for _ in range(32)])
    path = tmp_path_factory.mktemp("model") / "m.skdeepsea"
    DeepSEAClassifier(**TINY).fit(X, rng.integers(0, 2, (32, 2))).save(path)
    return str(path)


def test_killed_variant_run_leaves_the_old_output(model_file, tmp_path):
    pytest.importorskip("pysam")
    from skdeepsea.cli import main

    rng = np.random.default_rng(1)
    chrom = random_dna(rng, 100_000)
    genome = tmp_path / "g.fa"
    genome.write_text(f">chr1\n{chrom}\n")
    vcf = tmp_path / "v.vcf"
    with open(vcf, "w") as f:
        f.write("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=100000>\n"
                "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for pos in range(100, 99_900, 3):
            f.write(f"chr1\t{pos}\t.\t{chrom[pos - 1]}\t{'A' if chrom[pos - 1] != 'A' else 'G'}"
                    "\t.\t.\t.\n")
    folder = tmp_path / "results"
    folder.mkdir()
    out = folder / "scores.tsv"
    out.write_text("the previous run's scores\n")
    args = ["-m", "skdeepsea", "variant-effects", "--model", model_file, "--vcf", str(vcf),
            "--genome", str(genome), "--out", str(out), "--no-progress", "--chunk-size", "500"]
    kill_when(args, lambda: bool(leftovers(folder)))
    assert out.read_text() == "the previous run's scores\n"
    assert len(leftovers(folder)) == 1  # the killed run's partial file, under its own name

    # The next run replaces the output and removes the partial file of the killed one.
    small = tmp_path / "small.vcf"
    small.write_text("".join(vcf.read_text().splitlines(keepends=True)[:10]))
    assert main(["variant-effects", "--model", model_file, "--vcf", str(small), "--genome",
                 str(genome), "--out", str(out), "--no-progress"]) == 0
    assert leftovers(folder) == []
    assert out.read_text().startswith(("chrom", "#")) or "\t" in out.read_text()


def _genome_and_peaks(folder, n_valid_bins):
    rng = np.random.default_rng(2)
    genome = folder / "g.fa"
    with open(genome, "w") as f:
        f.write(f">chr1\n{random_dna(rng, 20_000)}\n>chr2\n")
        f.write(random_dna(rng, n_valid_bins * 200) + "\n")
    peaks = folder / "P.bed"
    peaks.write_text(f"chr1\t0\t20000\nchr2\t0\t{n_valid_bins * 200}\n")
    return genome, peaks


def test_killed_dataset_build_leaves_the_old_splits(tmp_path):
    pytest.importorskip("pysam")
    pytest.importorskip("bioframe")
    from skdeepsea.data import build_dataset

    genome, peaks = _genome_and_peaks(tmp_path, 20_000)
    out = tmp_path / "dataset"
    out.mkdir()
    old = {"train.h5": b"old train split", "valid.h5": b"old valid split"}
    for name, content in old.items():
        (out / name).write_bytes(content)

    def train_staged():  # the new train.h5 is complete in the work folder; valid.h5 is not
        return any(os.path.exists(out / work / "train.h5") for work in leftovers(out))

    kill_when(["-m", "skdeepsea", "build-dataset", str(genome), str(out), "--peaks", str(peaks),
               "--valid-chromosomes", "chr2", "--test-chromosomes"], train_staged)
    assert {name: (out / name).read_bytes() for name in old} == old
    assert sorted(os.listdir(out)) == sorted([*old, *leftovers(out)])
    assert len(leftovers(out)) == 1

    # The next build removes the killed build's work folder and replaces both splits.
    (tmp_path / "small").mkdir()
    small_genome, small_peaks = _genome_and_peaks(tmp_path / "small", 10)
    summary = build_dataset(small_genome, [small_peaks], out, valid_chromosomes=["chr2"],
                            test_chromosomes=[], progress=False)
    assert leftovers(out) == [] and sorted(os.listdir(out)) == ["train.h5", "valid.h5"]
    assert summary["n_samples"]["valid"] == 10
    # A rebuild without a validation split leaves no old valid.h5 beside the new train.h5.
    build_dataset(small_genome, [small_peaks], out, valid_chromosomes=[], test_chromosomes=[],
                  progress=False)
    assert sorted(os.listdir(out)) == ["train.h5"]


def test_interrupted_commit_is_completed_by_the_next_run(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "a.txt").write_text("old a")
    (folder / "b.txt").write_text("old b")
    (folder / "stale.txt").write_text("old")
    # What a run killed in the middle of its commit leaves: the record written, a.txt moved in.
    work = folder / f"{temporary_prefix(dead.pid)}abc"
    work.mkdir()
    (work / "b.txt").write_text("new b")
    (work / ".commit").write_text('{"files": ["a.txt", "b.txt"], "remove": ["stale.txt"]}')
    (folder / "a.txt").write_text("new a")
    # And a run killed before its commit: a work folder without a record.
    unfinished = folder / f"{temporary_prefix(dead.pid)}def"
    unfinished.mkdir()
    (unfinished / "a.txt").write_text("never committed")
    assert len(recover_folder(folder)) == 2
    assert sorted(os.listdir(folder)) == ["a.txt", "b.txt"]
    assert (folder / "a.txt").read_text() == "new a" and (folder / "b.txt").read_text() == "new b"
    # A work folder of a live process, or of another machine, is left alone.
    live = folder / f"{temporary_prefix()}ghi"
    live.mkdir()
    elsewhere = folder / f"{TEMPORARY_PREFIX}{dead.pid}@another.host-jkl"
    elsewhere.mkdir()
    assert recover_folder(folder) == [] and live.exists() and elsewhere.exists()


def test_failed_file_set_leaves_the_folder_as_it_was(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_files(tmp_path) as work:
        Path(work, "a.txt").write_text("new")
        raise RuntimeError("disk full")
    assert os.listdir(tmp_path) == ["a.txt"] and (tmp_path / "a.txt").read_text() == "old"


def test_files_get_the_users_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        with atomic_files(tmp_path / "out") as work:
            os.makedirs(os.path.join(work, "figures"))
            Path(work, "figures", "a.txt").write_text("x")
    finally:
        os.umask(previous)
    assert os.stat(tmp_path / "out" / "figures").st_mode & 0o777 == 0o750
    assert os.stat(tmp_path / "out" / "figures" / "a.txt").st_mode & 0o777 == 0o640


_TRAIN = """
import sys
import numpy as np
from skdeepsea import DeepSEAClassifier
rng = np.random.default_rng(0)
X = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (128, 200))]
y = rng.integers(0, 2, (128, 3))
DeepSEAClassifier(conv_filters=(64, 64), dropout=(0.0, 0.0), kernel_size=8, pool_size=4,
                  fc_units=128, epochs=50, batch_size=16, optimizer="adam", random_state=0,
                  checkpoint_dir=sys.argv[1], checkpoint_every=1).fit(X, y)
"""


def test_killed_checkpoint_write_leaves_a_whole_checkpoint(tmp_path):
    from skdeepsea import DeepSEAClassifier
    from skdeepsea._checkpoint import read_checkpoint

    folder = tmp_path / "run"
    script = tmp_path / "train.py"
    script.write_text(_TRAIN)

    def writing_after_first():  # a checkpoint exists and the next one is being written
        return (folder / "checkpoint.npz").exists() and bool(leftovers(folder))

    kill_when([str(script), str(folder)], writing_after_first)
    assert leftovers(folder)  # the interrupted write's temporary file
    meta, groups = read_checkpoint(folder)  # the previous checkpoint, whole
    assert meta["step"] >= 1 and all(np.isfinite(v).all() for v in groups["model"])

    # The next fit resumes from it (to the end of the first epoch: the number of epochs and
    # the checkpoint interval are not part of what a checkpoint must match), and its write at
    # the end of the epoch removes the leftover.
    rng = np.random.default_rng(0)
    X = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (128, 200))]
    y = rng.integers(0, 2, (128, 3))
    clf = DeepSEAClassifier(conv_filters=(64, 64), dropout=(0.0, 0.0), kernel_size=8,
                            pool_size=4, fc_units=128, epochs=1, batch_size=16,
                            optimizer="adam", random_state=0, checkpoint_dir=str(folder),
                            checkpoint_every=1000).fit(X, y)
    assert clf.n_steps_ > meta["step"]
    assert leftovers(folder) == []


_REPORT = """
import sys
import numpy as np
from skdeepsea.report import write_report
rng = np.random.default_rng(0)
y = rng.integers(0, 2, (5000, 100))
write_report(sys.argv[1], y, rng.random(y.shape))
"""


def test_killed_report_leaves_the_old_report(tmp_path):
    pytest.importorskip("matplotlib")
    from skdeepsea.report import write_report

    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_text("old page")
    (out / "evaluation.tsv").write_text("old table")
    script = tmp_path / "report.py"
    script.write_text(_REPORT)

    def table_staged():
        return any(os.path.exists(out / work / "evaluation.tsv") for work in leftovers(out))

    kill_when([str(script), str(out)], table_staged)
    assert (out / "index.html").read_text() == "old page"
    assert (out / "evaluation.tsv").read_text() == "old table"
    assert sorted(os.listdir(out)) == sorted(["index.html", "evaluation.tsv"] + leftovers(out))

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, (200, 3))
    write_report(out, y, rng.random(y.shape))
    assert leftovers(out) == []
    assert (out / "index.html").read_text() != "old page"


_NAMES = st.sampled_from(["a.tsv", "b.tsv", "index.html", "figures/x.png", "figures/y.png"])


@settings(max_examples=30, deadline=None)
@given(old=st.dictionaries(_NAMES, st.binary(max_size=8)),
       new=st.dictionaries(_NAMES, st.binary(max_size=8), min_size=1),
       crash_after=st.integers(0, 8))
def test_a_file_set_is_all_old_or_all_new_wherever_the_commit_stops(tmp_path_factory, old, new,
                                                                   crash_after):
    """Stopped after any number of renames, the next run completes the commit: all new files,
    none of the old ones the set removes."""
    folder = tmp_path_factory.mktemp("set")
    for name, content in old.items():
        os.makedirs(folder / os.path.dirname(name), exist_ok=True)
        (folder / name).write_bytes(content)
    real_replace, calls = os.replace, []

    def replace_then_stop(source, target):
        if ".tmp-" in os.path.basename(os.fspath(source)) or len(calls) < crash_after:
            calls.append(target)  # the commit record's own rename always goes through
            return real_replace(source, target)
        raise KeyboardInterrupt("killed during the commit")

    os.replace = replace_then_stop
    try:
        with atomic_files(folder, last="index.html", remove=sorted(old)) as work:
            for name, content in new.items():
                os.makedirs(os.path.join(work, os.path.dirname(name)), exist_ok=True)
                Path(work, name).write_bytes(content)
        stopped = False
    except KeyboardInterrupt:
        stopped = True
    finally:
        os.replace = real_replace
    if stopped:  # what a killed process leaves: its work folder, under a process id now gone
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        (work_name,) = leftovers(folder)
        os.rename(folder / work_name, folder / f"{temporary_prefix(dead.pid)}x")
        recover_folder(folder)
    files = {os.path.relpath(os.path.join(root, n), folder): Path(root, n).read_bytes()
             for root, _, names in os.walk(folder) for n in names}
    assert files == new
