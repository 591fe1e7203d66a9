"""``skdeepsea train``: from streaming files or the DeepSEA bundle to a saved model, resumable."""

import numpy as np
import pytest

import skdeepsea
from skdeepsea import OneHotDNA
from skdeepsea.cli import build_parser, main
from skdeepsea.data import write_dataset

from .conftest import motif_data
from .test_data import write_mat5, write_mat73

NAMES = ["GATA", "AP1"]
# A network that trains in about a second; adam learns the planted motifs in a few epochs.
NETWORK = ["--conv-filters", "8", "--dropout", "0.1", "--kernel-size", "6", "--pool-size", "2",
           "--fc-units", "8", "--optimizer", "adam", "--learning-rate", "0.02",
           "--batch-size", "32", "--verbose", "0"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train_command")
    paths = {}
    for split, n, seed in (("train", 300, 0), ("valid", 100, 1)):
        seqs, y = motif_data(n=n, length=40, seed=seed)
        paths[split] = str(folder / f"{split}.h5")
        write_dataset(paths[split], OneHotDNA(dtype="uint8").fit_transform(seqs), y,
                      target_names=NAMES)
    return paths


def _epoch_rows(text):
    """The (epoch, loss, val_loss) rows of the command's per-epoch table."""
    lines = text.splitlines()
    start = lines.index("epoch  loss      val_loss") + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        epoch, loss, val_loss = line.split()
        rows.append((int(epoch), float(loss), val_loss))
    return rows


def test_train_saves_a_model_that_loads_and_predicts(files, tmp_path, capsys):
    out = tmp_path / "models" / "model.skdeepsea"
    assert main(["train", files["train"], "--valid", files["valid"], "--out", str(out),
                 *NETWORK, "--epochs", "3", "--random-state", "0"]) == 0
    text = capsys.readouterr().out
    rows = _epoch_rows(text)
    assert [epoch for epoch, _, _ in rows] == [1, 2, 3]
    assert all(np.isfinite(float(val_loss)) for _, _, val_loss in rows)
    assert "Validation loss: best" in text and f"Saved the model to {out}" in text

    clf = skdeepsea.load(out)
    assert getattr(clf.model_, "optimizer", None) is None  # weights alone by default
    assert list(clf.target_names_) == NAMES and clf.conv_filters == (8,)
    assert len(clf.history_["val_loss"]) == 3
    seqs, _ = motif_data(n=20, length=40, seed=2)
    proba = clf.predict_proba(OneHotDNA().fit_transform(seqs))
    assert proba.shape == (20, 2) and np.all((proba >= 0) & (proba <= 1))


def test_a_second_run_resumes_the_checkpoint_with_more_epochs(files, tmp_path, capsys):
    common = ["train", files["train"], "--valid", files["valid"], *NETWORK,
              "--steps-per-epoch", "4", "--checkpoint-dir", str(tmp_path / "checkpoints")]
    assert main([*common, "--epochs", "1", "--random-state", "0",
                 "--out", str(tmp_path / "first.skdeepsea")]) == 0
    first = capsys.readouterr().out
    assert "Resuming" not in first and "Trained 4 steps in 1 epoch " in first
    # Another seed: a fit that started over would neither match the first epoch nor stop at 8.
    assert main([*common, "--epochs", "2", "--random-state", "1",
                 "--out", str(tmp_path / "second.skdeepsea")]) == 0
    second = capsys.readouterr().out
    assert "Resuming the training saved in" in second
    assert "Trained 8 steps in 2 epochs" in second
    assert _epoch_rows(second)[0] == _epoch_rows(first)[0]
    resumed = skdeepsea.load(tmp_path / "second.skdeepsea")
    assert len(resumed.history_["loss"]) == 2


def test_train_reads_the_deepsea_bundle_with_target_names(tmp_path, capsys):
    seqs, y = motif_data(n=200, length=40, seed=3)
    write_mat73(tmp_path / "train.mat", seqs[:160], y[:160], chunks=16)
    write_mat5(tmp_path / "valid.mat", seqs[160:], y[160:], "valid")
    names = ["K562|GATA1|None", "HeLa-S3|c-Jun|None"]
    (tmp_path / "predictor.names").write_text("\n".join(names) + "\n")
    out = tmp_path / "bundle.skdeepsea"
    assert main(["train", str(tmp_path / "train.mat"), "--valid", str(tmp_path / "valid.mat"),
                 "--target-names", str(tmp_path / "predictor.names"), "--out", str(out),
                 *NETWORK, "--epochs", "1", "--no-reverse-complement",
                 "--learning-rate-decay", "deepsea"]) == 0
    assert "160 samples of 40 bp, 2 targets" in capsys.readouterr().out
    clf = skdeepsea.load(out)
    assert list(clf.target_names_) == names and clf.alphabet_ == "ATGC"


@pytest.mark.parametrize("option, value, message", [
    ("--batch-size", "0", "argument --batch-size: value must be in [1, inf], got 0"),
    ("--epochs", "two", "argument --epochs: expected an integer, got 'two'"),
    ("--learning-rate", "0", "argument --learning-rate: value must be in (0, inf], got 0.0"),
    ("--l2", "-0.001", "argument --l2: value must be in [0, inf], got -0.001"),
    ("--momentum", "nan", "argument --momentum: expected a finite number, got 'nan'"),
    ("--dropout", "1.5", "argument --dropout: value must be in [0, 1], got 1.5"),
    ("--valid", "missing.h5", "argument --valid: no such file: missing.h5"),
])
def test_bad_values_exit_with_one_line_naming_the_option(files, tmp_path, capsys, option, value,
                                                         message):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", files["train"], "--out", str(tmp_path / "m.skdeepsea"), option, value])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"skdeepsea train: error: {message}"
    assert not list(tmp_path.iterdir())


def test_missing_or_unreadable_data_and_refused_parameters(files, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", str(tmp_path / "nothing.h5"), "--out", str(tmp_path / "m.skdeepsea")])
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        f"argument data: no such file: {tmp_path / 'nothing.h5'}")

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a data file\n")
    assert main(["train", str(text_file), "--out", str(tmp_path / "m.skdeepsea")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("skdeepsea train: ") and len(error.splitlines()) == 1

    # Checked by the estimator: one dropout rate per convolution.
    assert main(["train", files["train"], "--out", str(tmp_path / "m.skdeepsea"), *NETWORK,
                 "--dropout", "0.1", "0.1"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("skdeepsea train: error: dropout") and len(error.splitlines()) == 1
    assert not (tmp_path / "m.skdeepsea").exists()


def test_words_for_deepsea_schedule_and_no_norm_constraint(files):
    from skdeepsea.classifier import DEEPSEA_LEARNING_RATE_DECAY

    args = build_parser().parse_args([
        "train", files["train"], "--out", "m.skdeepsea", "--learning-rate-decay", "DeepSEA",
        "--max-kernel-norm", "none",
    ])
    assert args.learning_rate_decay == DEEPSEA_LEARNING_RATE_DECAY
    assert args.max_kernel_norm is None
    assert not hasattr(args, "batch_size")  # options not given keep the estimator's defaults


def test_include_optimizer_keeps_the_state_for_warm_start(files, tmp_path, capsys):
    out = tmp_path / "full.skdeepsea"
    assert main(["train", files["train"], "--out", str(out), *NETWORK, "--epochs", "1",
                 "--steps-per-epoch", "3", "--random-state", "0", "--include-optimizer"]) == 0
    clf = skdeepsea.load(out)
    assert int(clf.model_.optimizer.iterations.numpy()) == 3
    seqs, y = motif_data(n=64, length=40, seed=3)
    clf.set_params(warm_start=True).fit(OneHotDNA(dtype="uint8").fit_transform(seqs), y)
    assert int(clf.model_.optimizer.iterations.numpy()) == 3 + clf.n_steps_

