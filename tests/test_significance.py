"""DeepSEA's disease step: e-values, functional significance, variant classes, VariantFeatures."""

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

pytest.importorskip("pysam")
pyBigWig = pytest.importorskip("pyBigWig")

from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skdeepsea.variants import (  # noqa: E402
    ConservationScores,
    EValueTransformer,
    VariantFeatures,
    VariantSignificance,
    functional_significance,
    read_variant_scores,
    score_variants,
    write_variant_scores,
)
from skdeepsea.variants import _api  # noqa: E402
from skdeepsea.variants._conservation import CONSERVATION_FEATURES  # noqa: E402

from .test_variants import CHROM1, genome_path, model, snv  # noqa: E402, F401

IMPUTED = np.array([0.115, -0.033, 1.909, -0.200])


# ------------------------------------------------------------ DeepSEA's formulas, transcribed

def deepsea_funsig(datae, dataevoe=None):
    """3_h5ToOutput.py: np.exp(np.mean(np.log(datae),axis=1)+np.mean(np.log(dataevoe),axis=1))."""
    if dataevoe is None:
        return np.exp(np.mean(np.log(datae), axis=1))
    return np.exp(np.mean(np.log(datae), axis=1) + np.mean(np.log(dataevoe), axis=1))


def deepsea_snpclass(data, dataevo, model, scalermean, scalerstd):
    """3_h5ToOutput.py's classifier line, verbatim but for the names."""
    return 1 / (1 + np.exp(-(((np.abs(np.hstack([data, dataevo])) - scalermean[np.newaxis, :])
                              / scalerstd[np.newaxis, :]).dot(model[1:, np.newaxis])
                             + model[0])))[:, 0]


def deepsea_evalues(background, x):
    """1 - ECDF(x), statsmodels' right-continuous ECDF of the background; 0 -> 1e-6."""
    e = 1 - np.searchsorted(np.sort(background), x, side="right") / len(background)
    e[e == 0] = 1e-6
    return e


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 9)),
              elements=st.floats(1e-6, 1.0)),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_functional_significance_is_deepseas_formula(chromatin, with_evo, seed):
    evo = np.random.default_rng(seed).uniform(1e-6, 1, (len(chromatin), 4)) if with_evo else None
    ours = functional_significance(chromatin, evo)
    np.testing.assert_allclose(ours, deepsea_funsig(chromatin, evo), rtol=1e-12, atol=0)
    assert np.all((ours > 0) & (ours <= 1))


# ------------------------------------------------------------------ a small disease step

TARGETS = ["gata", "ap1"]


def logistic_from_deepsea(coefficients, mean, std):
    """A fitted Pipeline(StandardScaler, LogisticRegression) holding DeepSEA-style arrays."""
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_, scaler.var_ = mean, std, std ** 2
    scaler.n_features_in_, scaler.n_samples_seen_ = len(mean), 1000
    logistic = LogisticRegression()
    logistic.coef_, logistic.intercept_ = coefficients[None, 1:], coefficients[:1]
    logistic.classes_, logistic.n_features_in_ = np.array([0, 1]), len(mean)
    return make_pipeline(scaler, logistic)


@pytest.fixture
def conservation_file(tmp_path):
    """phyloP on chr1 at 1-based 200..220 only; phastCons at 205 only (the rest: missing)."""
    path = str(tmp_path / "cons.bw")
    with pyBigWig.open(path, "w") as bw:
        bw.addHeader([("chr1", 400)])
        bw.addEntries(["chr1"] * 21, list(range(199, 220)), ends=list(range(200, 221)),
                      values=[float(v) for v in np.linspace(-2, 3, 21)])
    phastcons = str(tmp_path / "phastcons.bw")
    with pyBigWig.open(phastcons, "w") as bw:
        bw.addHeader([("chr1", 400)])
        bw.addEntries(["chr1"], [204], ends=[205], values=[0.9])
    return {"phyloP": path, "phastCons": phastcons}


@pytest.fixture
def disease(conservation_file):
    rng = np.random.default_rng(0)
    n_features = 2 * len(TARGETS) + 4
    background = pd.DataFrame(rng.exponential(0.05, (50, 2)),
                              columns=[f"effect:{t}" for t in TARGETS])
    evo_background = rng.normal(0, 1, (80, 4))
    classifiers = {name: logistic_from_deepsea(rng.normal(0, 1, n_features + 1),
                                               rng.uniform(0, 1, n_features),
                                               rng.uniform(0.5, 2, n_features))
                   for name in ("eqtl", "gwas", "hgmd")}
    return dict(evalues=EValueTransformer().fit(background),
                conservation=ConservationScores(conservation_file),
                conservation_evalues=EValueTransformer().fit(evo_background),
                classifiers=classifiers, background=background.to_numpy(),
                evo_background=evo_background)


def variants_table():
    rows = [snv(pos, alt) for pos, alt in ((198, "A"), (201, "C"), (205, "T"), (210, "G"),
                                           (150, "A"), (300, "C"))]
    table = pd.DataFrame(rows, columns=["chrom", "pos", "id", "ref", "alt"])
    table["alt"] = [a if a != r else "G" if r != "G" else "C"
                    for a, r in zip(table["alt"], table["ref"])]
    return table


def transcribe(scores, disease, conservation=True):
    """What DeepSEA's scripts give on score_variants' logfc and diff, per variant."""
    logfc = scores[[f"logfc:{t}" for t in TARGETS]].to_numpy()
    diff = scores[[f"diff:{t}" for t in TARGETS]].to_numpy()
    datae = np.column_stack([deepsea_evalues(disease["background"][:, j],
                                             np.abs(diff[:, j] * logfc[:, j]))
                             for j in range(len(TARGETS))])
    found = np.zeros((len(scores), 4), dtype=bool)
    raw = np.tile(IMPUTED, (len(scores), 1))
    if conservation:
        pos = scores["pos"].to_numpy()
        # bigWig files hold float32.
        phylop = np.linspace(-2, 3, 21).astype(np.float32)
        inside = (pos >= 200) & (pos <= 220)
        raw[inside, 1] = phylop[pos[inside] - 200]
        found[inside, 1] = True
        raw[pos == 205, 0] = np.float32(0.9)
        found[pos == 205, 0] = True
    evo = np.column_stack([deepsea_evalues(disease["evo_background"][:, k], raw[:, k])
                           for k in range(4)])
    evo[~found.any(axis=1)] = 1  # dataevoe[matchedinds==-1,:] = [1, 1, 1, 1]
    out = {"evalue": datae, "funsig": deepsea_funsig(datae, evo if conservation else None),
           "raw": raw, "evo": evo}
    for name, pipe in disease["classifiers"].items():
        scaler, logistic = pipe[0], pipe[-1]
        coefficients = np.r_[logistic.intercept_, logistic.coef_[0]]
        out[name] = deepsea_snpclass(np.hstack([logfc, diff]), raw, coefficients,
                                     scaler.mean_, scaler.scale_)
    return out


@pytest.mark.parametrize("with_conservation", [True, False])
def test_scores_with_significance_equal_deepseas_scripts(genome_path, model, disease,
                                                          with_conservation):
    significance = VariantSignificance(
        disease["evalues"],
        conservation=disease["conservation"] if with_conservation else None,
        conservation_evalues=disease["conservation_evalues"] if with_conservation else None,
        classifiers=disease["classifiers"])
    table = variants_table()
    scores = score_variants(model, table, genome_path, significance=significance)
    plain = score_variants(model, table, genome_path)
    expected = transcribe(plain, disease, conservation=with_conservation)
    np.testing.assert_allclose(scores[[f"evalue:{t}" for t in TARGETS]], expected["evalue"],
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(scores["funsig"], expected["funsig"], rtol=1e-12, atol=0)
    for name in ("eqtl", "gwas", "hgmd"):
        np.testing.assert_allclose(scores[f"{name}_probability"], expected[name],
                                   rtol=1e-12, atol=1e-15)
    conservation_columns = [c for c in scores.columns if c.startswith("conservation")]
    if with_conservation:
        np.testing.assert_array_equal(
            scores[[f"conservation:{k}" for k in CONSERVATION_FEATURES]], expected["raw"])
        np.testing.assert_allclose(
            scores[[f"conservation_evalue:{k}" for k in CONSERVATION_FEATURES]],
            expected["evo"], rtol=1e-12)
        # None of the files covers position 150: its conservation e-values are 1.
        assert (scores.loc[scores["pos"] == 150, [c for c in conservation_columns
                                                 if "evalue" in c]] == 1).all(axis=None)
    else:
        assert conservation_columns == []
    # The scores themselves are those of a run without significance.
    pd.testing.assert_frame_equal(scores[plain.columns], plain)


def test_significance_columns_round_trip_every_format(tmp_path, genome_path, model, disease):
    significance = VariantSignificance(**{k: disease[k] for k in (
        "evalues", "conservation", "conservation_evalues", "classifiers")})
    table = variants_table()
    expected = score_variants(model, table, genome_path, significance=significance)
    for name in ("s.tsv", "s.h5", "s.parquet"):
        summary = write_variant_scores(model, table, genome_path, tmp_path / name,
                                       significance=significance,
                                       significance_out=tmp_path / f"{name}.funsig.tsv")
        back = read_variant_scores(tmp_path / name)
        assert list(back.columns) == list(expected.columns), name
        columns = significance.columns + [f"evalue:{t}" for t in TARGETS]
        np.testing.assert_allclose(back[columns], expected[columns], rtol=1e-5)
        funsig = expected["funsig"].to_numpy()
        assert summary["funsig_below"] == {0.05: int(np.sum(funsig < 0.05)),
                                           0.01: int(np.sum(funsig < 0.01))}
        assert summary["functional_significance"] == "chromatin and conservation e-values"
        ranked = pd.read_csv(tmp_path / f"{name}.funsig.tsv", sep="\t")
        assert list(ranked.columns) == ["chrom", "pos", "id", "ref", "alt", "funsig",
                                        "eqtl_probability", "gwas_probability",
                                        "hgmd_probability"]
        assert ranked["funsig"].is_monotonic_increasing
        assert sorted(ranked["pos"]) == sorted(expected.loc[expected["scored"], "pos"])


def test_significance_refuses_what_it_cannot_use(genome_path, model, disease, tmp_path):
    significance = VariantSignificance(disease["evalues"])
    table = variants_table()
    with pytest.raises(ValueError, match="strand='mean'.*strand='forward'"):
        score_variants(model, table, genome_path, significance=significance, strand="forward")
    with pytest.raises(ValueError, match="needs a model of the 2 targets.*has 1 target"):
        score_variants(model, table, genome_path, significance=significance, targets=["ap1"])
    renamed = EValueTransformer().fit(pd.DataFrame(
        disease["background"], columns=["effect:gata", "effect:ctcf"]))
    with pytest.raises(ValueError, match="target 1 of the model is 'ap1', where it expects "
                                         "'ctcf'"):
        score_variants(model, table, genome_path, significance=VariantSignificance(renamed))
    with pytest.raises(ValueError, match="evalues or significance, not both"):
        score_variants(model, table, genome_path, significance=significance,
                       evalues=disease["evalues"])
    with pytest.raises(ValueError, match="conservation needs conservation_evalues"):
        VariantSignificance(disease["evalues"], conservation=disease["conservation"])
    with pytest.raises(ValueError, match="has 2 background.*are 4"):
        VariantSignificance(disease["evalues"], conservation=disease["conservation"],
                            conservation_evalues=disease["evalues"])
    with pytest.raises(ValueError, match="significance_out needs significance"):
        write_variant_scores(model, table, genome_path, tmp_path / "x.tsv",
                             significance_out=tmp_path / "y.tsv")
    assert not {"x.tsv", "y.tsv"} & set(os.listdir(tmp_path))


# ------------------------------------------------------------------------- VariantFeatures

def labelled_variants(n=40, seed=0):
    """SNVs along chr1: those breaking the planted GATAAG (positions 201-206) are 'pathogenic'."""
    rng = np.random.default_rng(seed)
    positions = np.r_[np.arange(201, 207), rng.choice(np.r_[75:190, 215:325], n - 6,
                                                       replace=False)]
    rows = []
    for pos in positions:
        ref = CHROM1[pos - 1]
        rows.append(("chr1", int(pos), ".", ref, rng.choice([b for b in "ACGT" if b != ref])))
    table = pd.DataFrame(rows, columns=["chrom", "pos", "id", "ref", "alt"])
    return table, ((positions >= 201) & (positions <= 206)).astype(int)


def test_features_are_deepseas_matrix(genome_path, model, conservation_file):
    VariantFeatures.cache_clear()
    table, _ = labelled_variants(12)
    conservation = ConservationScores(conservation_file)
    features = VariantFeatures(model, genome_path, conservation=conservation).fit(table)
    matrix = features.transform(table)
    scores = score_variants(model, table, genome_path)
    logfc = scores[[f"logfc:{t}" for t in TARGETS]].to_numpy()
    diff = scores[[f"diff:{t}" for t in TARGETS]].to_numpy()
    raw = ConservationScores.impute(conservation.at(table["chrom"], table["pos"]))
    np.testing.assert_array_equal(matrix, np.abs(np.hstack([logfc, diff, raw])))
    assert list(features.get_feature_names_out()) == [
        "abs_logfc:gata", "abs_logfc:ap1", "abs_diff:gata", "abs_diff:ap1",
        "abs_conservation:phastCons", "abs_conservation:phyloP",
        "abs_conservation:GERP_neutral", "abs_conservation:GERP_RS"]
    # From score_variants' output: the same matrix, nothing scored.
    np.testing.assert_array_equal(features.transform(scores), matrix)
    # Without conservation files: DeepSEA's imputed values.
    plain = VariantFeatures(model, genome_path).fit_transform(table)
    np.testing.assert_array_equal(plain[:, -4:], np.tile(np.abs(IMPUTED), (12, 1)))
    with pytest.raises(ValueError, match="Row 1 of the variants has 'A,C' as ALT"):
        features.transform(table.assign(alt=["G", "A,C"] + list(table["alt"][2:])))


def test_a_grid_search_scores_each_variant_once(genome_path, model, monkeypatch):
    VariantFeatures.cache_clear()
    table, y = labelled_variants()
    scored = []
    real = _api.score_variants

    def counting(model, variants, genome, **kwargs):
        scored.append(len(variants))
        return real(model, variants, genome, **kwargs)

    monkeypatch.setattr(_api, "score_variants", counting)
    pipe = make_pipeline(VariantFeatures(model, genome_path), StandardScaler(),
                         LogisticRegression(max_iter=1000))
    grid = {"logisticregression__C": list(np.logspace(-3, 3, 20))}
    search = GridSearchCV(pipe, grid, cv=3, scoring="roc_auc").fit(table, y)
    assert sum(scored) == len(table)  # 20 settings x 3 folds + the refit: scored once
    assert VariantFeatures.cache_info(model) == {(os.path.abspath(genome_path), "auto"):
                                                 len(table)}
    # Breaking the motif of "gata" is what the model learnt: the classifier finds it.
    assert search.best_score_ > 0.8
    boosted = make_pipeline(VariantFeatures(model, genome_path),
                            HistGradientBoostingClassifier(max_iter=20, min_samples_leaf=3))
    # Another pipeline of the same model and genome: the variants' scores are reused.
    assert np.isfinite(cross_val_score(boosted, table, y, cv=3, scoring="roc_auc")).all()
    assert sum(scored) == len(table)
    # Without the cache, each call scores again.
    uncached = VariantFeatures(model, genome_path, cache=False).fit(table)
    uncached.transform(table)
    assert sum(scored) == 2 * len(table)


# ------------------------------------------------------------------------------- the command

def test_variant_effects_with_deepsea_resources(tmp_path, genome_path, model, capsys,
                                                conservation_file):
    import copy

    from skdeepsea.cli import main
    from skdeepsea.variants import deepsea_target_names

    from .test_deepsea_resources import write_folder

    folder, _ = write_folder(tmp_path / "DeepSEA", n_targets=2)
    deepsea_like = copy.deepcopy(model)
    deepsea_like.target_names_ = np.array(deepsea_target_names(folder))
    deepsea_like.save(tmp_path / "deepsea.skdeepsea")
    table = variants_table()
    vcf = tmp_path / "variants.tsv"
    table.to_csv(vcf, sep="\t", index=False)
    base = ["variant-effects", "--model", str(tmp_path / "deepsea.skdeepsea"), "--vcf", str(vcf),
            "--genome", genome_path, "--no-progress"]
    status = main(base + ["--out", str(tmp_path / "out.h5"), "--deepsea-resources", str(folder),
                          "--phylop", conservation_file["phyloP"],
                          "--significance-out", str(tmp_path / "funsig.tsv")])
    assert status == 0
    err = capsys.readouterr().err
    significance = VariantSignificance.from_deepsea(
        folder, conservation=ConservationScores({"phyloP": conservation_file["phyloP"]}))
    expected = score_variants(deepsea_like, table, genome_path, significance=significance)
    written = read_variant_scores(tmp_path / "out.h5")
    for column in significance.columns:
        np.testing.assert_allclose(written[column], expected[column], rtol=1e-12)
    funsig = expected["funsig"]
    assert ("from chromatin and conservation e-values" in err
            and f"score<0.05: {int((funsig < 0.05).sum())}" in err)
    ranked = pd.read_csv(tmp_path / "funsig.tsv", sep="\t")
    np.testing.assert_allclose(ranked["funsig"], np.sort(funsig[expected["scored"]]), rtol=1e-4)
    # Without conservation files (and none in the folder): chromatin e-values only.
    assert main(base + ["--out", str(tmp_path / "plain.tsv"),
                        "--deepsea-resources", str(folder)]) == 0
    assert "chromatin e-values only (no conservation files)" in capsys.readouterr().err
    plain = read_variant_scores(tmp_path / "plain.tsv")
    assert "conservation:phyloP" not in plain.columns and plain["funsig"].notna().sum() == 6


@pytest.mark.parametrize("options, message", [
    (["--phylop", "{bw}"], "--phylop needs --deepsea-resources"),
    (["--significance-out", "{tmp}/f.tsv"], "--significance-out needs --deepsea-resources"),
    (["--deepsea-resources", "{folder}"], "target 0 of the model is 'gata', where it expects "
                                          "'8988T|DNase|None'"),
    (["--deepsea-resources", "{folder}", "--strand", "forward"], "strand='mean'"),
    (["--deepsea-resources", "{tmp}/nowhere"], "nowhere"),
    (["--deepsea-resources", "{folder}", "--gerp", "{bw}", "--gerp-rs", "{bw}"],
     "--gerp or --gerp-rs, not both"),
    (["--deepsea-resources", "{folder}", "--significance-out", "{vcf}"], "--vcf"),
])
def test_variant_effects_significance_errors(tmp_path, genome_path, model, capsys, options,
                                             message, conservation_file):
    from skdeepsea.cli import main

    from .test_deepsea_resources import write_folder

    folder, _ = write_folder(tmp_path / "DeepSEA", n_targets=2)
    model.save(tmp_path / "model.skdeepsea")
    vcf = tmp_path / "variants.tsv"
    variants_table().to_csv(vcf, sep="\t", index=False)
    values = {"bw": conservation_file["phyloP"], "tmp": str(tmp_path), "folder": str(folder),
              "vcf": str(vcf)}
    before = sorted(os.listdir(tmp_path))
    status = main(["variant-effects", "--model", str(tmp_path / "model.skdeepsea"), "--vcf",
                   str(vcf), "--genome", genome_path, "--out", str(tmp_path / "out.tsv"),
                   "--no-progress"] + [o.format(**values) for o in options])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(err) == 1 and err[0].startswith("skdeepsea variant-effects: error:")
    assert message in err[0]
    # Nothing written (but the genome's index, which pysam makes on opening it).
    assert set(os.listdir(tmp_path)) - set(before) <= {"genome.fa.fai"}


def test_repeated_target_names_get_one_column_each(tmp_path, genome_path, model, disease):
    import copy

    repeated = copy.deepcopy(model)
    repeated.target_names_ = np.array(["K562|CTCF|None", "K562|CTCF|None"])
    table = variants_table()
    names = ["K562|CTCF|None", "K562|CTCF|None.1"]
    evalues = EValueTransformer().fit(disease["background"])
    evalues.target_names_ = np.array(repeated.target_names_)
    significance = VariantSignificance(evalues)
    expected = score_variants(repeated, table, genome_path, significance=significance)
    assert [c for c in expected.columns if c.startswith("diff:")] == [f"diff:{n}" for n in names]
    plain = score_variants(model, table, genome_path)
    np.testing.assert_array_equal(expected[[f"diff:{n}" for n in names]],
                                  plain[["diff:gata", "diff:ap1"]])
    for name in ("s.tsv", "s.h5", "s.parquet"):
        write_variant_scores(repeated, table, genome_path, tmp_path / name,
                             significance=significance)
        back = read_variant_scores(tmp_path / name)
        assert list(back.columns) == list(expected.columns), name
        np.testing.assert_allclose(back[[f"evalue:{n}" for n in names] + ["funsig"]],
                                   expected[[f"evalue:{n}" for n in names] + ["funsig"]],
                                   rtol=1e-6)
    features = VariantFeatures(repeated, genome_path).fit(table)
    assert list(features.get_feature_names_out()[:4]) == [
        "abs_logfc:K562|CTCF|None", "abs_logfc:K562|CTCF|None.1",
        "abs_diff:K562|CTCF|None", "abs_diff:K562|CTCF|None.1"]
