"""DeepSEA v0.94's published resources: the ECDF backgrounds and the variant classifiers.

The tests write small files in the original formats: the ECDF files as Python 2 protocol-2
joblib pickles of statsmodels ECDFs, opcode by opcode (statsmodels and joblib are not needed),
their arrays with ``np.save``; the classifiers' text files with ``np.savetxt``. Expected values
come from DeepSEA's formulas, transcribed here from ``3_h5ToOutput.py`` and
``evoevalues.production.py`` in NumPy.

The golden test runs when ``SKDEEPSEA_DEEPSEA_RESOURCES`` names DeepSEA's package folder (its
``resources/`` and ``logistic/``; a public copy: github henneberger/DeepSEA): the imported ECDFs
against statsmodels' values recorded in ``tests/data/deepsea_ecdf_golden.npz`` (by
``tests/data/record_deepsea_ecdf_golden.py``), the classifiers against the transcribed formula.
"""

import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepsea.exceptions import DamagedFileError
from skdeepsea.variants import (
    CLASSIFIERS,
    CONSERVATION_FEATURES,
    CONSERVATION_IMPUTED,
    EValueTransformer,
    deepsea_feature_names,
    deepsea_target_names,
    load_deepsea_classifiers,
)

TARGETS = ["8988T|DNase|None", "GM12878|CTCF|None", "K562|H3K4me3|None"]
MAIN = "ecdf_difflogdiff.rescaled.pkl"


# ---------------------------------------------------------------------------- the formats


def _global(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def _string(text):  # Python 2 str: SHORT_BINSTRING
    data = text.encode("latin1")
    return b"U" + bytes([len(data)]) + data


def _int(n):  # BININT2 / BININT, as Python 2 pickles a small int
    return b"M" + struct.pack("<H", n) if 0 <= n < 65536 else b"J" + struct.pack("<i", n)


class _Writer:
    """Protocol-2 opcodes as joblib < 0.10 wrote a list of statsmodels ECDFs (memoised globals)."""

    def __init__(self):
        self.memo = {}

    def global_(self, module, name):
        if (module, name) in self.memo:
            return b"h" + bytes([self.memo[(module, name)]])  # BINGET
        self.memo[(module, name)] = len(self.memo)
        return _global(module, name) + b"q" + bytes([self.memo[(module, name)]])  # BINPUT

    def wrapper(self, filename):
        return (self.global_("joblib.numpy_pickle", "NDArrayWrapper") + b")\x81}("  # NEWOBJ
                + _string("subclass") + self.global_("numpy", "ndarray")
                + _string("filename") + _string(filename) + b"ub")  # SETITEMS, BUILD

    def ecdf(self, y_file, x_file, side, n):
        return (self.global_("statsmodels.distributions.empirical_distribution", "ECDF")
                + b")\x81}(" + _string("y") + self.wrapper(y_file) + _string("x")
                + self.wrapper(x_file) + _string("side") + _string(side) + _string("n") + _int(n)
                + b"ub")


def statsmodels_arrays(data, cdf=None):
    """(x, y) of ``statsmodels ECDF(data)``; ``cdf``: other values at the sorted data."""
    x = np.r_[-np.inf, np.sort(np.asarray(data, dtype=np.float64))]
    n = len(x) - 1
    y = np.r_[0.0, np.linspace(1.0 / n, 1, n) if cdf is None else cdf]
    return x, y


def write_ecdfs(path, arrays, side="right", body=None):
    """A joblib pickle of statsmodels ECDFs at ``path``, arrays in ``<name>_NN.npy`` beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer, items = _Writer(), b""
    for i, (x, y) in enumerate(arrays):
        y_file, x_file = f"{path.name}_{2 * i + 1:02d}.npy", f"{path.name}_{2 * i + 2:02d}.npy"
        np.save(path.parent / y_file, y)
        np.save(path.parent / x_file, x)
        items += writer.ecdf(y_file, x_file, side, len(x))
    path.write_bytes(b"\x80\x02]q\x00(" + items + (body or b"") + b"e.")  # APPENDS, STOP
    return path


def write_folder(root, n_targets=3, seed=0, side="right", conservation_side="left"):
    """A DeepSEA package folder in miniature; returns (root, expected arrays per file)."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "resources").mkdir(parents=True, exist_ok=True)
    names = TARGETS[:n_targets] + [f"Cell{j}|TF{j}|None" for j in range(3, n_targets)]
    (root / "resources" / "predictor.names").write_text("\n".join(names) + "\n")
    arrays = {}
    for name in (MAIN, "ecdf_difflogdiff.rescaled.af.pkl", "ecdf_difflogdiff.rescaled.af0dot1.pkl"):
        # Like DeepSEA's "rescaled" files: quantiles of a larger sample, y not k/n; ties too.
        arrays[name] = []
        for _ in range(n_targets):
            n = int(rng.integers(5, 40))
            data = np.round(rng.exponential(size=n), 1)
            cdf = np.sort(rng.uniform(0, 1, n))
            cdf[-1] = 1.0
            arrays[name].append(statsmodels_arrays(data, cdf))
        write_ecdfs(root / "resources" / "ecdfs" / name, arrays[name], side)
    # allevos: ten ECDFs, entry i's data all in [10 i, 10 i + 1) so that each is told apart.
    arrays["allevos_ecdf.pkl"] = [
        statsmodels_arrays(10 * i + np.round(rng.uniform(size=int(rng.integers(3, 30))), 2))
        for i in range(10)]
    write_ecdfs(root / "resources" / "ecdfs" / "allevos_ecdf.pkl", arrays["allevos_ecdf.pkl"],
                conservation_side)
    (root / "logistic").mkdir(exist_ok=True)
    n_features = 2 * n_targets + len(CONSERVATION_FEATURES)
    for name in CLASSIFIERS:
        stem = root / "logistic" / f"final_{name}"
        np.savetxt(f"{stem}.model.txt", rng.normal(size=n_features + 1))
        np.savetxt(f"{stem}_scaler.mean.txt", rng.uniform(0, 1, n_features))
        np.savetxt(f"{stem}_scaler.std.txt", rng.uniform(0.1, 2, n_features))
    return root, arrays


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "DeepSEA")


# ---------------------------------------------------------------------------- DeepSEA, transcribed


def deepsea_evalue(x, y, side, t):
    """``1 - ECDF(t)`` as statsmodels and DeepSEA compute it, 0 replaced by 1e-6."""
    e = 1 - y[np.searchsorted(x, t, side) - 1]
    e[e == 0] = 1e-6
    return e


def deepsea_probability(folder, name, features):
    """``3_h5ToOutput.py``'s classifier probability on the (signed) feature rows."""
    model = np.loadtxt(f"{folder}/logistic/final_{name}.model.txt")
    scalermean = np.loadtxt(f"{folder}/logistic/final_{name}_scaler.mean.txt")
    scalerstd = np.loadtxt(f"{folder}/logistic/final_{name}_scaler.std.txt")
    return 1 / (1 + np.exp(-(((np.abs(features) - scalermean[np.newaxis, :])
                                / scalerstd[np.newaxis, :]).dot(model[1:, np.newaxis])
                               + model[0])))[:, 0]


def probe_points(x, rng, n=200):
    """Effects at the ECDF's data (ties), between, below and above them."""
    data = x[1:]
    return np.concatenate([data, (data[:-1] + data[1:]) / 2, [data[0] - 1, data[-1] + 1, 0.0],
                           rng.uniform(data[0] - 1, data[-1] + 1, n)])


# ---------------------------------------------------------------------------- the backgrounds


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("background,filename", [("1000g", MAIN),
                                                 ("1000g-af", "ecdf_difflogdiff.rescaled.af.pkl"),
                                                 ("1000g-af0.1",
                                                  "ecdf_difflogdiff.rescaled.af0dot1.pkl")])
def test_imported_evalues_are_deepseas(tmp_path, side, background, filename):
    root, arrays = write_folder(tmp_path, side=side, seed=3)
    ev = EValueTransformer.from_deepsea(root, background)
    assert ev.side_ == side and ev.target_names_.tolist() == TARGETS and ev.n_features_in_ == 3
    rng = np.random.default_rng(1)
    for j, (x, y) in enumerate(arrays[filename]):
        t = probe_points(x, rng)
        effects = np.zeros((len(t), 3))
        effects[:, j] = t
        np.testing.assert_allclose(ev.transform(effects)[:, j], deepsea_evalue(x, y, side, t),
                                   rtol=0, atol=1e-12)
    # As a DataFrame of score_variants' columns, matched by name.
    frame = pd.DataFrame({f"effect:{TARGETS[2]}": [0.0, 100.0]})
    assert ev.transform(frame).columns.tolist() == [f"evalue:{TARGETS[2]}"]
    assert ev.transform(frame).iloc[1, 0] == 1e-6


def test_conservation_evalues_are_entries_0_3_6_7(folder):
    root, arrays = folder
    ev = EValueTransformer.from_deepsea(root, "conservation")
    assert ev.target_names_.tolist() == list(CONSERVATION_FEATURES) and ev.side_ == "left"
    rng = np.random.default_rng(2)
    entries = [arrays["allevos_ecdf.pkl"][i] for i in (0, 3, 6, 7)]
    # evoevalues.production.py: evos_e[:, k] = 1 - allevos_ecdf[(0, 3, 6, 7)[k]](raw value).
    raw = np.column_stack([rng.choice(probe_points(x, rng), 300) for x, _ in entries])
    expected = np.column_stack([deepsea_evalue(x, y, "left", raw[:, k])
                                for k, (x, y) in enumerate(entries)])
    np.testing.assert_allclose(ev.transform(raw), expected, rtol=0, atol=1e-12)
    for k, (x, _) in enumerate(entries):
        np.testing.assert_array_equal(ev.background_[k], x[1:])


def test_imported_evalues_keep_nan_and_fit_keeps_its_counts(folder):
    root, _ = folder
    ev = EValueTransformer.from_deepsea(root)
    out = ev.transform(np.array([[np.nan, 0.0, 1e9]]))
    assert np.isnan(out[0, 0]) and out[0, 2] == 1e-6
    fitted = EValueTransformer().fit(np.array([[0.5], [0.5], [1.0], [2.0]]))
    assert fitted.side_ == "right"
    np.testing.assert_array_equal(fitted.background_cdf_[0], [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(fitted.transform(np.array([[0.5], [0.4], [2.0]]))[:, 0],
                                  [0.5, 1.0, 1e-6])


@settings(max_examples=40, deadline=None)
@given(data=st.lists(st.floats(-50, 50), min_size=1, max_size=30),
       t=st.lists(st.floats(-60, 60), min_size=1, max_size=30),
       side=st.sampled_from(["left", "right"]))
def test_imported_evalues_are_nonincreasing_in_0_1(data, t, side):
    x, y = statsmodels_arrays(data)
    with tempfile.TemporaryDirectory() as root:
        Path(root, "resources").mkdir()
        Path(root, "resources", "predictor.names").write_text(TARGETS[0] + "\n")
        write_ecdfs(Path(root, "resources", "ecdfs", MAIN), [(x, y)], side)
        ev = EValueTransformer.from_deepsea(root)
    t = np.sort(np.array(t))
    out = ev.transform(t[:, None])[:, 0]
    np.testing.assert_allclose(out, deepsea_evalue(x, y, side, t), rtol=0, atol=1e-12)
    assert np.all((out > 0) & (out <= 1)) and np.all(np.diff(out) <= 0)


def test_unknown_background(folder):
    with pytest.raises(ValueError, match=r"background='1000G'.*'1000g', '1000g-af'"):
        EValueTransformer.from_deepsea(folder[0], "1000G")


# ---------------------------------------------------------------------------- the classifiers


def test_classifiers_are_deepseas_formula(folder):
    root, _ = folder
    classifiers = load_deepsea_classifiers(root)
    assert list(classifiers) == list(CLASSIFIERS)
    names = deepsea_feature_names(TARGETS)
    rng = np.random.default_rng(4)
    signed = rng.normal(scale=2, size=(500, len(names)))
    for name, pipe in classifiers.items():
        assert [step for step, _ in pipe.steps] == ["scaler", "logistic"]
        scaler, logistic = pipe.named_steps["scaler"], pipe.named_steps["logistic"]
        assert logistic.coef_.shape == (1, 10) and logistic.classes_.tolist() == [0, 1]
        assert scaler.n_features_in_ == logistic.n_features_in_ == 10
        np.testing.assert_array_equal(scaler.var_, scaler.scale_**2)
        assert not hasattr(pipe, "feature_names_in_")  # by position, arrays without warnings
        # The pipelines take |F|, which DeepSEA computes itself.
        features = np.abs(signed)
        expected = deepsea_probability(root, name, signed)
        np.testing.assert_allclose(pipe.predict_proba(features)[:, 1], expected, rtol=0,
                                   atol=1e-12)
        assert pipe.predict(features).tolist() == (expected > 0.5).astype(int).tolist()


def test_constants_and_names(folder):
    assert CONSERVATION_FEATURES == ("phastCons", "phyloP", "GERP_neutral", "GERP_RS")
    assert CONSERVATION_IMPUTED == (0.115, -0.033, 1.909, -0.200)
    assert CLASSIFIERS == ("eqtl", "gwas", "hgmd")
    assert deepsea_target_names(folder[0]).tolist() == TARGETS
    assert deepsea_feature_names(TARGETS).tolist() == (
        [f"abs_logfc:{t}" for t in TARGETS] + [f"abs_diff:{t}" for t in TARGETS]
        + ["abs_conservation:phastCons", "abs_conservation:phyloP",
           "abs_conservation:GERP_neutral", "abs_conservation:GERP_RS"])


def test_repeated_target_names(folder):
    """DeepSEA's predictor.names repeats 54 names: named .1, .2 as the score columns are."""
    root, arrays = folder
    names = [TARGETS[1], TARGETS[0], TARGETS[1]]
    (root / "resources" / "predictor.names").write_text("\n".join(names) + "\n")
    assert deepsea_target_names(root).tolist() == names  # the file, verbatim
    ev = EValueTransformer.from_deepsea(root)
    unique = [TARGETS[1], TARGETS[0], f"{TARGETS[1]}.1"]
    assert ev.target_names_.tolist() == unique
    effects = np.random.default_rng(6).exponential(size=(50, 3))
    frame = pd.DataFrame(effects, columns=[f"effect:{t}" for t in unique])
    expected = np.column_stack([deepsea_evalue(x, y, "right", effects[:, j])
                                for j, (x, y) in enumerate(arrays[MAIN])])
    np.testing.assert_allclose(ev.transform(frame).to_numpy(), expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ev.transform(frame.iloc[:, [2, 0]]).to_numpy(),
                                  expected[:, [2, 0]])
    assert deepsea_feature_names(deepsea_target_names(root)).tolist()[:6] == [
        f"abs_logfc:{t}" for t in unique] + [f"abs_diff:{t}" for t in unique]


# ---------------------------------------------------------------------------- bad input


def test_missing_folder_and_files(tmp_path, folder):
    root, _ = folder
    with pytest.raises(FileNotFoundError, match=r"nowhere: no such folder; expected DeepSEA"):
        EValueTransformer.from_deepsea(tmp_path / "nowhere")
    (root / "resources" / "ecdfs" / MAIN).unlink()
    with pytest.raises(FileNotFoundError,
                       match=rf"no resources/ecdfs/{MAIN}; expected .*resources/predictor.names"):
        EValueTransformer.from_deepsea(root)
    (root / "logistic" / "final_gwas_scaler.std.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"no logistic/final_gwas_scaler.std.txt"):
        load_deepsea_classifiers(root)
    (root / "resources" / "predictor.names").unlink()
    with pytest.raises(FileNotFoundError, match=r"no resources/predictor.names"):
        load_deepsea_classifiers(root)


def test_names_of_another_length(folder):
    root, _ = folder
    with open(root / "resources" / "predictor.names", "a") as f:
        f.write("HeLa|Pol2|None\n")
    with pytest.raises(ValueError, match=rf"{MAIN} holds 3 ECDFs but .*predictor.names names 4"):
        EValueTransformer.from_deepsea(root)
    with pytest.raises(ValueError, match=r"final_eqtl.model.txt holds 11 numbers; expected 13 "
                                         r"\(the intercept, then .*4 logfc, 4 diff and 4 cons"):
        load_deepsea_classifiers(root)


@pytest.mark.parametrize("file,values,message", [
    ("final_gwas.model.txt", np.ones(12), "holds 12 numbers; expected 11"),
    ("final_hgmd_scaler.mean.txt", np.ones(11), "holds 11 numbers; expected 10"),
    ("final_eqtl.model.txt", np.r_[np.ones(5), np.inf, np.ones(5)], "number 6 is inf"),
    ("final_eqtl_scaler.std.txt", np.r_[np.ones(4), 0.0, np.ones(5)],
     r"deviation of feature 5 \(abs_diff:GM12878\|CTCF\|None\) is 0.0; DeepSEA divides"),
    ("final_eqtl_scaler.std.txt", np.r_[np.ones(9), -1.0], "feature 10 .* is -1.0"),
    ("final_gwas_scaler.std.txt", np.r_[np.nan, np.ones(9)], "number 1 is nan"),
])
def test_classifier_files_of_wrong_content(folder, file, values, message):
    root, _ = folder
    np.savetxt(root / "logistic" / file, values)
    with pytest.raises(ValueError, match=rf"logistic/{file}.*{message}"):
        load_deepsea_classifiers(root)


def test_classifier_file_not_numbers(folder):
    root, _ = folder
    (root / "logistic" / "final_eqtl.model.txt").write_text("0.5\nabc\n")
    with pytest.raises(DamagedFileError, match=r"final_eqtl.model.txt is damaged .*column of num"):
        load_deepsea_classifiers(root)


@pytest.mark.parametrize("module,name", [("os", "system"), ("posix", "system"),
                                         ("builtins", "eval"), ("__builtin__", "eval"),
                                         ("subprocess", "check_call"), ("numpy", "load")])
def test_hostile_pickle_is_refused_and_nothing_runs(folder, module, name):
    root, arrays = folder
    witness = root / "pwned"
    command = f"touch {witness}" if name != "eval" else f"open({str(witness)!r}, 'w')"
    args = [command] if name != "check_call" else [["touch", str(witness)]]
    if name == "load":
        args = [str(witness)]
    # A valid ECDF first, then GLOBAL + REDUCE of the callable (as ``pickle`` would write it).
    payload = _global(module, name) + b"("
    for arg in args:
        payload += (_string(arg) if isinstance(arg, str)
                    else b"]" + b"(" + b"".join(_string(a) for a in arg) + b"e")
    payload += b"tR"  # TUPLE, REDUCE
    path = write_ecdfs(root / "resources" / "ecdfs" / MAIN, arrays[MAIN], body=payload)
    with pytest.raises(DamagedFileError, match=rf"{path}: refused: the pickle names the global "
                                               rf"'{module} {name}'.*nothing of it was run"):
        EValueTransformer.from_deepsea(root)
    assert not witness.exists()


def test_hostile_pickle_control_runs(tmp_path):
    """The payload above does create the file when unpickled without restriction."""
    import pickle

    witness = tmp_path / "pwned"
    pickle.loads(b"\x80\x02" + _global("os", "system") + b"(" + _string(f"touch {witness}")
                 + b"tR.")
    assert witness.exists()


def test_damaged_pickles(folder):
    root, arrays = folder
    path = root / "resources" / "ecdfs" / MAIN
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DamagedFileError, match=rf"{path} is damaged or truncated \(joblib pickle"):
        EValueTransformer.from_deepsea(root)
    path.write_bytes(b"\x80\x02}q\x00.")  # a dict, not a list
    with pytest.raises(DamagedFileError, match=r"expected a list of statsmodels ECDFs, got dict"):
        EValueTransformer.from_deepsea(root)
    path.write_bytes(b"\x80\x02]q\x00(" + _global("numpy", "ndarray") + b"e.")
    with pytest.raises(DamagedFileError, match=r"ECDF 0 is not a statsmodels ECDF"):
        EValueTransformer.from_deepsea(root)


@pytest.mark.parametrize("change,message", [
    (lambda x, y: (x[1:], y[1:]), "ECDF 1's x must be -inf, then ascending data"),
    (lambda x, y: (np.r_[x[0], x[:0:-1]], y), "ECDF 1's x must be -inf, then ascending data"),
    (lambda x, y: (np.r_[x[:-1], np.nan], y), r"ECDF 1's x must be -inf, then .*no NaN\)"),
    (lambda x, y: (np.full_like(x, -np.inf), y), r"ECDF 1's x must be -inf, then .*\(no -inf"),
    (lambda x, y: (x, y[::-1]), "ECDF 1's y must start at 0 and ascend"),
    (lambda x, y: (x, y * 2), "ECDF 1's y must start at 0 and ascend to at most 1"),
    (lambda x, y: (x, y[:-1]), r"ECDF 1 has n=\d+ with \d+ x and \d+ y values"),
    (lambda x, y: (x.astype(str), y), r"ECDF 1's x must be a vector of numbers, got <U"),
    (lambda x, y: (x[:, None], y), r"ECDF 1's x must be a vector of numbers, got float64 of sh"),
])
def test_inconsistent_arrays(folder, change, message):
    root, arrays = folder
    ecdfs = arrays[MAIN]
    changed = change(*ecdfs[1])
    path = write_ecdfs(root / "resources" / "ecdfs" / MAIN, [ecdfs[0], changed, ecdfs[2]])
    with pytest.raises(DamagedFileError, match=rf"{path}(_04.npy)?: {message}"):
        EValueTransformer.from_deepsea(root)


def test_side_n_and_mixed_sides(folder):
    root, arrays = folder
    path = root / "resources" / "ecdfs" / MAIN
    for side, n, message in [("middle", None, "ECDF 0 has side 'middle'"),
                             ("left", 3, r"ECDF 0 has n=3 with \d+ x")]:
        x, y = arrays[MAIN][0]
        np.save(path.parent / "y.npy", y)
        np.save(path.parent / "x.npy", x)
        path.write_bytes(b"\x80\x02](" + _Writer().ecdf("y.npy", "x.npy", side, n or len(x))
                         + b"e.")
        with pytest.raises(DamagedFileError, match=rf"{path}: {message}"):
            EValueTransformer.from_deepsea(root)
    write_ecdfs(path, arrays[MAIN][:1], "left", body=_Writer().ecdf(
        f"{MAIN}_01.npy", f"{MAIN}_02.npy", "right", len(arrays[MAIN][0][0])) * 2)
    with pytest.raises(DamagedFileError, match=r"its ECDFs mix the sides 'left' and 'right'"):
        EValueTransformer.from_deepsea(root)


def test_array_files_missing_damaged_or_outside(folder):
    root, arrays = folder
    ecdfs = root / "resources" / "ecdfs"
    (ecdfs / f"{MAIN}_04.npy").unlink()
    with pytest.raises(FileNotFoundError, match=rf"{MAIN}_04.npy: no such file; .*{MAIN} keeps "
                                                r"ECDF 1's x in it"):
        EValueTransformer.from_deepsea(root)
    np.save(ecdfs / f"{MAIN}_04.npy", arrays[MAIN][1][0])
    data = (ecdfs / f"{MAIN}_03.npy").read_bytes()
    (ecdfs / f"{MAIN}_03.npy").write_bytes(data[:-8])
    with pytest.raises(DamagedFileError, match=rf"{MAIN}_03.npy is damaged or truncated \(NumPy"):
        EValueTransformer.from_deepsea(root)
    np.save(ecdfs / f"{MAIN}_03.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DamagedFileError, match=rf"{MAIN}_03.npy is damaged .*allow_pickle=False"):
        EValueTransformer.from_deepsea(root)
    for name in ["../outside.npy", "/etc/passwd", "..", "sub/x.npy", "a\\..\\b.npy"]:
        (ecdfs / MAIN).write_bytes(b"\x80\x02](" + _Writer().ecdf(name, f"{MAIN}_02.npy", "right",
                                                                 3) + b"e.")
        with pytest.raises(DamagedFileError, match=r"ECDF 0's y names the array file .*not a "
                                                   r"file beside it"):
            EValueTransformer.from_deepsea(root)


def test_conservation_file_too_short(folder):
    root, arrays = folder
    path = write_ecdfs(root / "resources" / "ecdfs" / "allevos_ecdf.pkl",
                       arrays["allevos_ecdf.pkl"][:7], "left")
    with pytest.raises(DamagedFileError, match=rf"{path} holds 7 ECDFs; DeepSEA uses its entries "
                                               r"0, 3, 6, 7"):
        EValueTransformer.from_deepsea(root, "conservation")


# ---------------------------------------------------------------------------- golden


GOLDEN = os.environ.get("SKDEEPSEA_DEEPSEA_RESOURCES")


@pytest.mark.skipif(not GOLDEN, reason="SKDEEPSEA_DEEPSEA_RESOURCES names no DeepSEA folder")
@pytest.mark.parametrize("background", ["1000g", "1000g-af", "1000g-af0.1", "conservation"])
def test_golden_ecdfs_match_statsmodels(background):
    recorded = np.load(Path(__file__).parent / "data" / "deepsea_ecdf_golden.npz")
    ev = EValueTransformer.from_deepsea(GOLDEN, background)
    assert ev.n_features_in_ == (919 if background != "conservation" else 4)
    target, t = recorded[f"{background}:target"], recorded[f"{background}:t"]
    if background == "1000g":
        assert sorted(set(target.tolist())) == list(range(919))
    effects = np.zeros((len(t), ev.n_features_in_))
    effects[np.arange(len(t)), target] = t
    expected = recorded[f"{background}:evalue"]
    expected = np.where(expected == 0, 1e-6, expected)
    np.testing.assert_allclose(ev.transform(effects)[np.arange(len(t)), target], expected,
                               rtol=0, atol=1e-12)


@pytest.mark.skipif(not GOLDEN, reason="SKDEEPSEA_DEEPSEA_RESOURCES names no DeepSEA folder")
def test_golden_classifiers_match_deepseas_formula():
    classifiers = load_deepsea_classifiers(GOLDEN)
    assert len(deepsea_feature_names(deepsea_target_names(GOLDEN))) == 1842
    rng = np.random.default_rng(5)
    for name, pipe in classifiers.items():
        # Rows around the scaler's own distribution, with random signs (DeepSEA takes |F|).
        scaler = pipe.named_steps["scaler"]
        signed = (scaler.mean_ + scaler.scale_ * rng.normal(size=(200, 1842))) * rng.choice(
            [-1, 1], size=(200, 1842))
        probability = pipe.predict_proba(np.abs(signed))[:, 1]
        expected = deepsea_probability(GOLDEN, name, signed)
        assert 0.01 < expected.std()
        np.testing.assert_allclose(probability, expected, rtol=0, atol=1e-12)
