"""The ``skdeepsea evaluate`` and ``skdeepsea motifs`` commands."""

import contextlib
import os

import numpy as np

from ..preprocessing import DEFAULT_ALPHABET
from ._common import NON_NEGATIVE_INT, POSITIVE_INT, check_output_path, existing_file, number


def _reading_options(estimator):
    """How to read a data file for ``estimator``: its base order and, for strings, its length."""
    return {"alphabet": getattr(estimator, "alphabet_", None) or DEFAULT_ALPHABET,
            "sequence_length": getattr(estimator, "sequence_length_", None)}


def _first(X, n):
    """The first ``n`` samples of the lazy array ``X``, still lazy."""
    from ..data import LazyArray

    return LazyArray(lambda start, stop: X[start:stop], (n,) + X.shape[1:], X.dtype,
                     X.chunk_rows, alphabet=X.alphabet)


def _resolve_names(estimator, data, names_file, n_targets):
    from ..targets import read_target_names

    if names_file:
        names = [str(n) for n in read_target_names(names_file)]
        if len(names) != n_targets:
            raise ValueError(f"{names_file} holds {len(names)} names but there are "
                             f"{n_targets} targets.")
        return names
    model_names = [str(n) for n in getattr(estimator, "target_names_", [])]
    generic = model_names == [f"target_{i}" for i in range(len(model_names))]
    data_names = data.target_names
    if data_names is not None and len(data_names) != n_targets:
        raise ValueError(f"{data.path} names {len(data_names)} targets but Y has {n_targets}.")
    if model_names and not generic:
        if data_names is not None and list(data_names) != model_names:
            raise ValueError(
                f"The model's target names differ from those of {data.path} (first model name "
                f"{model_names[0]!r}, first data name {data_names[0]!r}): the columns would "
                "not match. Pass --names to name the targets yourself."
            )
        return model_names
    return list(data_names) if data_names is not None else model_names


def _check_outputs(estimator, proba, n_targets, path):
    if proba.shape[1] != n_targets:
        raise ValueError(
            f"The model {path} predicts {proba.shape[1]} targets but the data has {n_targets}."
        )


def run_evaluate(args):
    from .. import load
    from ..data import open_arrays
    from ..report import predict_proba_batches, target_classes_or_none, write_report

    check_output_path(args.out, {"--model": args.model, "--data": args.data,
                                 "--compare": args.compare, "--names": args.names}, folder=True)
    estimator = load(args.model)
    other_estimator = load(args.compare) if args.compare else None
    progress = not args.quiet
    with contextlib.ExitStack() as files:
        data = files.enter_context(open_arrays(args.data, **_reading_options(estimator)))
        if data.Y is None:
            raise ValueError(f"{args.data} has no labels 'Y': nothing to evaluate against.")
        n = len(data.X) if args.max_samples is None else min(args.max_samples, len(data.X))
        Y = np.asarray(data.Y[:n])
        if Y.ndim == 1:
            Y = Y[:, None]
        proba = predict_proba_batches(estimator, _first(data.X, n), batch_size=args.batch_size,
                                      progress=progress)
        _check_outputs(estimator, proba, Y.shape[1], args.model)
        other = None
        labels = (os.path.basename(args.model), "other")
        if other_estimator is not None:
            other_options = _reading_options(other_estimator)
            other_data = data if other_options == _reading_options(estimator) else (
                files.enter_context(open_arrays(args.data, **other_options)))
            other = predict_proba_batches(other_estimator, _first(other_data.X, n),
                                          batch_size=args.batch_size, progress=progress)
            _check_outputs(other_estimator, other, Y.shape[1], args.compare)
            labels = (labels[0], os.path.basename(args.compare))
        names = _resolve_names(estimator, data, args.names, Y.shape[1])
        motifs = None
        if args.motif_samples > 0 and getattr(estimator, "alphabet_", None):
            from ..motifs import filter_motifs

            motifs = filter_motifs(estimator, _first(data.X, min(n, args.motif_samples)),
                                   batch_size=min(args.batch_size, 256), progress=progress)
        table = write_report(
            args.out, Y, proba, names, target_classes_or_none(names),
            min_positives=args.min_positives, curve_targets=args.targets, other_score=other,
            labels=labels, motifs=motifs, title=f"Evaluation of {os.path.basename(args.model)}",
            details={"model": args.model, "data": args.data, "samples": n,
                     **({"compared with": args.compare} if args.compare else {})},
            progress=progress,
        )
    scored = table[table["status"] == "ok"]
    print(f"{len(scored)} of {len(table)} targets scored; median ROC AUC "
          f"{scored['roc_auc'].median():.3f}, median PR AUC {scored['pr_auc'].median():.3f}. "
          f"Report: {os.path.join(args.out, 'index.html')}")
    return 0


def run_motifs(args):
    from .. import load
    from .._atomic import atomic_files
    from ..data import open_arrays
    from ..motifs import filter_motifs, plot_filter_logos, write_meme

    check_output_path(args.out, {"--model": args.model, "--data": args.data}, folder=True)
    estimator = load(args.model)
    with open_arrays(args.data, **_reading_options(estimator)) as data:
        n = len(data.X) if args.max_samples is None else min(args.max_samples, len(data.X))
        motifs = filter_motifs(estimator, _first(data.X, n), threshold=args.threshold,
                               batch_size=min(args.batch_size, 256), progress=not args.quiet)
    # The three files are committed together: all new, or (failed, killed) all as they were.
    with atomic_files(args.out, last="filters.meme") as work:
        motifs.summary().to_csv(os.path.join(work, "filters.tsv"), sep="\t", index=False,
                                float_format="%.6g")
        plot_filter_logos(motifs, n_top=args.top).savefig(
            os.path.join(work, "filter_logos.png"), dpi=110, format="png")
        write_meme(motifs, os.path.join(work, "filters.meme"))
    print(f"{int((motifs.n_sites > 0).sum())} of {len(motifs)} filters have sites; wrote "
          f"filters.meme, filters.tsv and filter_logos.png to {args.out}")
    return 0


def _common(parser):
    parser.add_argument("--model", required=True, type=existing_file,
                        help="a saved model (.skdeepsea)")
    parser.add_argument("--data", required=True, type=existing_file,
                        help=".npz or HDF5 with X (one-hot (n, L, 4) or strings) and Y, or a file "
                             "skdeepsea.data.open_dataset reads (DeepSEA's test.mat, streaming "
                             ".h5)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--max-samples", type=POSITIVE_INT, default=None,
                        help="use only the first N samples")
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=1024,
                        help="samples per batch")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_evaluate_command(commands):
    evaluate = commands.add_parser(
        "evaluate", help="per-target ROC/PR AUC table, figures and an HTML report")
    _common(evaluate)
    evaluate.add_argument("--compare", default=None, type=existing_file,
                          help="a second model to compare target by target")
    evaluate.add_argument("--names", default=None, type=existing_file,
                          help="target names file (predictor.names), one per line")
    evaluate.add_argument("--min-positives", type=POSITIVE_INT, default=10,
                          help="fewest positives for a target to be scored (default 10)")
    evaluate.add_argument("--targets", nargs="+", default=None,
                          help="targets (names) whose ROC and PR curves are drawn")
    evaluate.add_argument("--motif-samples", type=NON_NEGATIVE_INT, default=2000,
                          help="sequences scanned for the first-layer filter logos (0: none)")
    evaluate.set_defaults(run=run_evaluate)


def add_motifs_command(commands):
    motifs = commands.add_parser(
        "motifs", help="first-layer filters as PFMs: MEME file, table and sequence logos")
    _common(motifs)
    motifs.add_argument("--threshold", type=number(low=0, high=1, strict=True), default=0.5,
                        help="fraction of a filter's max activation a window must exceed")
    motifs.add_argument("--top", type=POSITIVE_INT, default=12, help="logos drawn (most informative)")
    motifs.set_defaults(run=run_motifs)


def register(commands):
    """Add ``evaluate`` and ``motifs`` to the ``skdeepsea`` command."""
    add_evaluate_command(commands)
    add_motifs_command(commands)

