"""Evaluation tables, plots, the HTML report and the evaluate / motifs commands."""

import html.parser
import os
import shutil
import subprocess

import h5py
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea.cli import main
from skdeepsea.report import (
    PUBLISHED_MEDIANS,
    class_summary,
    default_curve_targets,
    evaluation_table,
    plot_auc_distribution,
    plot_model_comparison,
    plot_pr_curves,
    plot_roc_curves,
    target_classes_or_none,
    write_report,
)

from .conftest import motif_data

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure


def _scores(seed=0, n=300, n_targets=6):
    """Labels with 0, 3, 10, many and all positives, and scores that track them."""
    rng = np.random.default_rng(seed)
    y = np.zeros((n, n_targets), dtype=np.uint8)
    for t, positives in enumerate([0, 3, 10, 60, 150, n][:n_targets]):
        y[rng.choice(n, positives, replace=False), t] = 1
    score = np.clip(y * 0.3 + rng.random((n, n_targets)) * 0.7, 0, 1)
    return y, score


def test_evaluation_table_scores_and_statuses():
    y, score = _scores()
    names = [f"t{i}" for i in range(6)]
    table = evaluation_table(y, score, names, ["DNase", "TF", "TF", "TF", "histone", "TF"],
                             progress=True)
    assert table.columns.tolist() == ["target", "class", "positives", "negatives", "roc_auc",
                                      "pr_auc", "status"]
    assert table["positives"].tolist() == [0, 3, 10, 60, 150, 300]
    assert table["negatives"].tolist() == [300, 297, 290, 240, 150, 0]
    assert table["status"].tolist() == ["too few positives"] * 2 + ["ok"] * 3 + ["no negatives"]
    for t in (2, 3, 4):   # exactly min_positives (10) is enough
        assert table.loc[t, "roc_auc"] == pytest.approx(roc_auc_score(y[:, t], score[:, t]))
        assert table.loc[t, "pr_auc"] == pytest.approx(
            average_precision_score(y[:, t], score[:, t]))
    assert table.loc[[0, 1, 5], ["roc_auc", "pr_auc"]].isna().all().all()
    assert table.attrs["min_positives"] == 10
    strict = evaluation_table(y, score, min_positives=11)
    assert strict["status"].tolist()[2] == "too few positives"
    assert strict["target"].tolist()[0] == "target_0" and strict["class"].isna().all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), min_positives=st.integers(1, 12))
def test_table_depends_only_on_the_ranking_of_scores(seed, min_positives):
    rng = np.random.default_rng(seed)
    y = (rng.random((60, 4)) < rng.uniform(0, 0.5, 4)).astype(int)
    score = rng.random((60, 4))
    table = evaluation_table(y, score, min_positives=min_positives)
    ok = (y.sum(0) >= min_positives) & (y.sum(0) < len(y))
    assert ((table["status"] == "ok").to_numpy() == ok).all()
    assert (table["roc_auc"].isna().to_numpy() == ~ok).all()
    # A strictly increasing transform of the scores, and a shuffle of the samples, change nothing.
    order = rng.permutation(len(y))
    other = evaluation_table(y[order], np.exp(3 * score[order]) - 5, min_positives=min_positives)
    pd.testing.assert_frame_equal(table, other, check_exact=False, rtol=1e-12)


def test_evaluation_table_checks_its_input():
    with pytest.raises(ValueError, match="shape"):
        evaluation_table(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="0/1"):
        evaluation_table([[2], [0]], [[0.1], [0.2]])
    with pytest.raises(ValueError, match="3 target names for 2"):
        evaluation_table(np.zeros((4, 2)), np.zeros((4, 2)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="min_positives"):
        evaluation_table(np.zeros((4, 2)), np.zeros((4, 2)), min_positives=0)


def test_class_summary_takes_medians_of_scored_targets_per_class():
    table = pd.DataFrame({
        "target": list("abcdef"),
        "class": ["TF", "TF", "TF", "DNase", "histone", "TF"],
        "positives": [20] * 6, "negatives": [80] * 6,
        "roc_auc": [0.9, 0.7, 0.8, 0.6, np.nan, np.nan],
        "pr_auc": [0.5, 0.1, 0.3, 0.2, np.nan, np.nan],
        "status": ["ok"] * 4 + ["too few positives"] * 2,
    })
    summary = class_summary(table)
    assert summary.index.tolist() == ["DNase", "TF", "histone", "all"]
    assert summary.loc["TF"].tolist() == [4, 3, pytest.approx(0.8), pytest.approx(0.3)]
    assert summary.loc["histone", "scored"] == 0 and np.isnan(summary.loc["histone",
                                                                          "median_roc_auc"])
    assert summary.loc["all", "median_roc_auc"] == pytest.approx(0.75)
    no_classes = class_summary(table.assign(**{"class": None}))
    assert no_classes.index.tolist() == ["all"]
    assert PUBLISHED_MEDIANS.loc["TF", "median_roc_auc"] == 0.958


def test_target_classes_follow_deepsea_names_only():
    names = ([f"c{i}|DNase|None" for i in range(125)] + [f"c{i}|CTCF|None" for i in range(690)]
             + [f"c{i}|H3K4me3|None" for i in range(104)])
    classes = target_classes_or_none(names)
    assert [classes.count(c) for c in ("DNase", "TF", "histone")] == [125, 690, 104]
    assert target_classes_or_none(["GATA1", "FOS"]) is None
    assert target_classes_or_none([f"target_{i}" for i in range(919)]) is None
    assert target_classes_or_none(["K562|DNase|None", "K562|H3K27ac|None"]) == ["DNase",
                                                                                 "histone"]


def test_plots_return_figures_and_draw_on_given_axes():
    y, score = _scores()
    names = [f"t{i}" for i in range(6)]
    table = evaluation_table(y, score, names, ["TF", "TF", "TF", "DNase", "histone", "TF"])
    roc = plot_roc_curves(y, score, ["t2", 3], names)
    assert isinstance(roc, Figure)
    legend = [t.get_text() for t in roc.axes[0].get_legend().get_texts()]
    assert legend[0] == f"t2 (AUC {table.loc[2, 'roc_auc']:.3f})"
    figure = Figure()
    ax = figure.subplots()
    assert plot_pr_curves(y, score, [0, 4], names, ax=ax) is figure
    assert "one class only" in ax.get_legend().get_texts()[0].get_text()
    distribution = plot_auc_distribution(table, "pr_auc")
    labels = [t.get_text() for t in distribution.axes[0].get_xticklabels()]
    assert labels == ["DNase\n(n=1)", "TF\n(n=1)", "histone\n(n=1)"]
    better = table.assign(roc_auc=table["roc_auc"] + 0.01)
    comparison = plot_model_comparison(table, better, labels=("a", "b"))
    assert comparison.axes[0].get_title() == "b higher on 3 of 3 targets"
    assert default_curve_targets(table) == [4, 3, 2] or len(default_curve_targets(table)) == 3
    with pytest.raises(ValueError, match="Unknown target .nope."):
        plot_roc_curves(y, score, ["nope"], names)
    with pytest.raises(ValueError, match="metric"):
        plot_auc_distribution(table, "accuracy")


class _PageParser(html.parser.HTMLParser):
    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self):
        super().__init__()
        self.open, self.sources, self.links, self.rows, self.title = [], [], [], 0, None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs["src"])
            assert attrs.get("alt"), "every image has alt text"
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "tr":
            self.rows += 1
        self._in_title = tag == "title"
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title = data


def _check_page(folder):
    parser = _PageParser()
    with open(os.path.join(folder, "index.html"), encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("<!DOCTYPE html>")
    parser.feed(text)
    parser.close()
    assert parser.open == [], f"unclosed tags {parser.open}"
    for reference in parser.sources + parser.links:
        assert os.path.isfile(os.path.join(folder, reference)), reference
    return parser


def _leftovers(parent):
    return [name for name in os.listdir(parent) if name.startswith(".tmp-")]


def test_write_report_writes_tables_figures_and_a_valid_page(tmp_path):
    y, score = _scores()
    names = [f"K562|F{i}|None" for i in range(6)]
    other = np.clip(score + np.random.default_rng(1).normal(0, 0.1, score.shape), 0, 1)
    out = tmp_path / "report"
    table = write_report(out, y, score, names, ["DNase", "TF", "TF", "TF", "histone", "TF"],
                         other_score=other, labels=("mine", "theirs"),
                         details={"model": "m.skdeepsea"})
    parser = _check_page(out)
    assert len(parser.sources) == 6 and parser.title == "skdeepsea evaluation"
    assert "evaluation.tsv" in parser.links
    # Summary rows (DNase, TF, histone, all) plus the header, then one row per target.
    assert parser.rows >= 4 + 1 + len(names) + 1
    read = pd.read_csv(out / "evaluation.tsv", sep="\t")
    assert read["target"].tolist() == names
    np.testing.assert_allclose(read["roc_auc"], table["roc_auc"], rtol=1e-5)
    summary = pd.read_csv(out / "summary.tsv", sep="\t", index_col="class")
    assert summary.index.tolist() == ["DNase", "TF", "histone", "all"]
    page = (out / "index.html").read_text()
    assert "DeepSEA paper ROC AUC" in page and "theirs median ROC AUC" in page
    assert (out / "evaluation_other.tsv").exists()
    assert _leftovers(tmp_path) == []


def test_a_failing_report_leaves_nothing_behind(tmp_path, monkeypatch):
    from skdeepsea import report

    y, score = _scores()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "plot_pr_curves", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(tmp_path / "new", y, score)
    assert os.listdir(tmp_path) == []
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "index.html").write_text("old page")
    with pytest.raises(RuntimeError):
        write_report(existing, y, score)
    assert os.listdir(existing) == ["index.html"] and (existing / "index.html").read_text() == \
        "old page"
    assert _leftovers(tmp_path) == []
    monkeypatch.undo()
    (existing / "notes.txt").write_text("mine")
    write_report(existing, y, score)
    assert (existing / "notes.txt").read_text() == "mine"
    _check_page(existing)


_BROWSERS = ["chromium", "chromium-browser", "chromium-headless-shell", "google-chrome",
             "google-chrome-stable", "chrome", "headless_shell", "firefox", "firefox-esr"]


def _screenshot(browser, page, png):
    url = "file://" + os.path.abspath(page)
    if "firefox" in os.path.basename(browser):
        command = [browser, "--headless", "--screenshot", png, "--window-size=1200,2600", url]
    else:
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   f"--screenshot={png}", "--window-size=1200,2600", url]
    subprocess.run(command, capture_output=True, timeout=60, check=False,
                   env={**os.environ, "HOME": os.path.dirname(png)})
    assert os.path.exists(png), f"{browser} wrote no screenshot"
    import matplotlib.image

    rgb = (matplotlib.image.imread(png)[..., :3] * 255).astype(int)
    # matplotlib's first colour (tab:blue) appears only inside the figures.
    return int((np.abs(rgb - [31, 119, 180]).max(axis=2) < 30).sum())


def test_report_renders_in_a_headless_browser(tmp_path):
    browser = next((shutil.which(b) for b in _BROWSERS if shutil.which(b)), None)
    if browser is None:
        pytest.skip(f"no headless browser installed (looked for {', '.join(_BROWSERS)}); "
                    "the page structure is still checked by the html.parser tests")
    y, score = _scores()
    out = tmp_path / "report"
    write_report(out, y, score)
    drawn = _screenshot(browser, out / "index.html", str(tmp_path / "page.png"))
    shutil.rmtree(out / "figures")
    missing = _screenshot(browser, out / "index.html", str(tmp_path / "broken.png"))
    assert drawn > 2000 and missing < drawn / 10, (drawn, missing)


# ------------------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    seqs, y = motif_data(n=300, length=40, seed=0)
    X = OneHotDNA().fit_transform(seqs)
    small = {"conv_filters": (8,), "dropout": (0.1,), "kernel_size": 6, "pool_size": 2,
             "fc_units": 8, "optimizer": "adam", "learning_rate": 0.02, "batch_size": 32,
             "random_state": 0}
    paths = []
    for name, epochs in (("good", 6), ("weak", 1)):
        path = folder / f"{name}.skdeepsea"
        DeepSEAClassifier(**small, epochs=epochs).fit(X, y).save(path)
        paths.append(str(path))
    test_seqs, test_y = motif_data(n=160, length=40, seed=1)
    data = folder / "test.npz"
    np.savez(data, X=np.array(test_seqs, dtype=str), Y=test_y,
             target_names=np.array(["GATA", "AP1"]))
    return paths, str(data), test_seqs, test_y


def test_evaluate_command_writes_a_report(saved_models, tmp_path, capsys):
    (good, weak), data, _, _ = saved_models
    out = tmp_path / "report"
    assert main(["evaluate", "--model", good, "--data", data, "--out", str(out),
                 "--compare", weak, "--quiet", "--batch-size", "50"]) == 0
    assert "2 of 2 targets scored" in capsys.readouterr().out
    parser = _check_page(out)
    assert "figures/filter_logos.png" in parser.sources and "filters.meme" in parser.links
    assert "figures/comparison_roc_auc.png" in parser.sources
    table = pd.read_csv(out / "evaluation.tsv", sep="\t")
    assert table["target"].tolist() == ["GATA", "AP1"] and table["class"].isna().all()
    assert table["roc_auc"].mean() > 0.65
    other = pd.read_csv(out / "evaluation_other.tsv", sep="\t")
    assert other["roc_auc"].mean() < table["roc_auc"].mean()   # 1 epoch against 6


def test_evaluate_reads_hdf5_in_another_alphabet_and_streaming_files(saved_models, tmp_path):
    (good, _), data, seqs, y = saved_models
    main(["evaluate", "--model", good, "--data", data, "--out", str(tmp_path / "npz"),
          "--quiet", "--motif-samples", "0", "--max-samples", "100"])
    expected = pd.read_csv(tmp_path / "npz" / "evaluation.tsv", sep="\t")
    h5 = tmp_path / "test.h5"
    with h5py.File(h5, "w") as f:
        f["X"] = np.asarray(OneHotDNA(alphabet="AGCT", dtype="uint8").fit_transform(seqs))
        f["X"].attrs["alphabet"] = "AGCT"
        f["Y"] = y
        f["target_names"] = np.array([b"GATA", b"AP1"])
    main(["evaluate", "--model", good, "--data", str(h5), "--out", str(tmp_path / "h5"),
          "--quiet", "--motif-samples", "0", "--max-samples", "100"])
    got = pd.read_csv(tmp_path / "h5" / "evaluation.tsv", sep="\t")
    pd.testing.assert_frame_equal(expected, got, check_exact=False, rtol=1e-5)

    data_module = pytest.importorskip("skdeepsea.data")
    if not hasattr(data_module, "write_dataset"):
        pytest.skip("skdeepsea.data.write_dataset is not there")
    stream = tmp_path / "stream.h5"
    data_module.write_dataset(stream, OneHotDNA(dtype="uint8").fit_transform(seqs), y,
                              target_names=["GATA", "AP1"])
    main(["evaluate", "--model", good, "--data", str(stream), "--out", str(tmp_path / "s"),
          "--quiet", "--motif-samples", "0", "--max-samples", "100"])
    got = pd.read_csv(tmp_path / "s" / "evaluation.tsv", sep="\t")
    pd.testing.assert_frame_equal(expected, got, check_exact=False, rtol=1e-5)


def test_evaluate_refuses_bad_data_and_writes_nothing(saved_models, tmp_path):
    (good, _), _, seqs, y = saved_models
    no_labels = tmp_path / "nolabels.npz"
    np.savez(no_labels, X=np.array(seqs, dtype=str))
    with pytest.raises(ValueError, match="no labels"):
        main(["--debug", "evaluate", "--model", good, "--data", str(no_labels), "--out",
              str(tmp_path / "out"), "--quiet"])
    wrong_names = tmp_path / "names.npz"
    np.savez(wrong_names, X=np.array(seqs, dtype=str), Y=np.column_stack([y, y[:, :1]]))
    with pytest.raises(ValueError, match="predicts 2 targets but the data has 3"):
        main(["--debug", "evaluate", "--model", good, "--data", str(wrong_names), "--out",
              str(tmp_path / "out"), "--quiet"])
    assert sorted(os.listdir(tmp_path)) == ["names.npz", "nolabels.npz"]


def test_motifs_command(saved_models, tmp_path, capsys):
    pytest.importorskip("Bio")
    from skdeepsea.motifs import read_meme

    (good, _), data, _, _ = saved_models
    out = tmp_path / "motifs"
    assert main(["motifs", "--model", good, "--data", data, "--out", str(out), "--quiet",
                 "--top", "4"]) == 0
    assert sorted(os.listdir(out)) == ["filter_logos.png", "filters.meme", "filters.tsv"]
    summary = pd.read_csv(out / "filters.tsv", sep="\t")
    assert len(summary) == 8
    motifs = read_meme(out / "filters.meme")
    assert list(motifs) == summary.loc[summary["sites"] > 0, "filter"].tolist()
    assert "filters have sites" in capsys.readouterr().out
