"""The ``skdeepsea evaluate`` and ``skdeepsea motifs`` commands."""

import os

import numpy as np


class EvaluationData:
    """Sequences, labels and target names read from one file, lazily where the file allows.

    ``.npz`` (``np.load``) and HDF5 files with datasets ``X`` and ``Y`` are
    read here; anything else goes to :func:`skdeepsea.data.open_dataset`
    (the DeepSEA bundle's ``test.mat``, streaming files).
    """

    def __init__(self, path):
        import h5py

        self.path = os.fspath(path)
        self._close = None
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"No such data file: {self.path}")
        self.alphabet = None
        self.target_names = None
        if self.path.endswith(".npz"):
            with np.load(self.path, allow_pickle=False) as data:
                if "X" not in data:
                    raise ValueError(f"{self.path} has no array 'X' (it has {sorted(data.files)}).")
                self.X = data["X"]
                self.Y = data.get("Y")
                if "target_names" in data:
                    self.target_names = [str(n) for n in data["target_names"]]
                if "alphabet" in data:
                    self.alphabet = str(data["alphabet"])
        elif h5py.is_hdf5(self.path) and self._is_plain_hdf5(h5py):
            f = h5py.File(self.path, "r")
            self._close = f.close
            self.X, self.Y = f["X"], f.get("Y")
            if "target_names" in f:
                self.target_names = [n.decode() if isinstance(n, bytes) else str(n)
                                     for n in f["target_names"][()]]
            alphabet = f.attrs.get("alphabet", f["X"].attrs.get("alphabet"))
            if alphabet is not None:
                self.alphabet = alphabet.decode() if isinstance(alphabet, bytes) else str(alphabet)
        else:
            from .data import open_dataset

            dataset = open_dataset(self.path)
            self._close = dataset.close
            self.X, self.Y = dataset.X, dataset.Y
            self.target_names = dataset.target_names
            self.alphabet = dataset.alphabet
        if self.Y is not None and len(self.Y) != len(self.X):
            raise ValueError(f"{self.path}: X has {len(self.X)} samples but Y has {len(self.Y)}.")
        self.strings = getattr(self.X, "dtype", np.dtype("f")).kind in "USO"

    def _is_plain_hdf5(self, h5py):
        with h5py.File(self.path, "r") as f:
            return "X" in f and isinstance(f["X"], h5py.Dataset)

    def close(self):
        if self._close is not None:
            self._close()
            self._close = None

    def encoder(self, estimator):
        """A function turning a batch of ``X`` into one-hot input for ``estimator``."""
        from .preprocessing import OneHotArray, OneHotDNA, check_alphabet

        alphabet = getattr(estimator, "alphabet_", None) or "ATGC"
        if self.strings:
            encoder = OneHotDNA(alphabet=alphabet,
                                sequence_length=getattr(estimator, "sequence_length_", None))
            return lambda batch: encoder.fit_transform(
                [s.decode() if isinstance(s, bytes) else str(s) for s in batch])
        source = check_alphabet(self.alphabet or "ATGC")
        order = [source.index(base) for base in alphabet]

        def encode(batch):
            batch = np.asarray(batch)
            if batch.ndim != 3 or batch.shape[2] != 4:
                raise ValueError(
                    f"{self.path}: X must be one-hot (n, L, 4) or strings; a batch has shape "
                    f"{batch.shape}."
                )
            return OneHotArray(batch[..., order], alphabet=alphabet)

        return encode


class _Encoded:
    """A read-only view of ``X`` whose slices come out encoded for one model."""

    def __init__(self, X, encode, n):
        self.X, self.encode, self.n = X, encode, n

    def __len__(self):
        return self.n

    def __getitem__(self, item):
        start, stop, _ = item.indices(self.n)
        return self.encode(self.X[start:stop])


def _resolve_names(estimator, data, names_file, n_targets):
    from .targets import read_target_names

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
    from . import load
    from .report import predict_proba_batches, target_classes_or_none, write_report

    estimator = load(args.model)
    data = EvaluationData(args.data)
    try:
        if data.Y is None:
            raise ValueError(f"{args.data} has no labels 'Y': nothing to evaluate against.")
        n = len(data.X) if args.max_samples is None else min(args.max_samples, len(data.X))
        X, Y = data.X, np.asarray(data.Y[:n])
        if Y.ndim == 1:
            Y = Y[:, None]
        progress = not args.quiet
        proba = predict_proba_batches(estimator, _Encoded(X, data.encoder(estimator), n),
                                      batch_size=args.batch_size, progress=progress)
        _check_outputs(estimator, proba, Y.shape[1], args.model)
        other = None
        labels = (os.path.basename(args.model), "other")
        if args.compare:
            other_estimator = load(args.compare)
            other = predict_proba_batches(other_estimator,
                                          _Encoded(X, data.encoder(other_estimator), n),
                                          batch_size=args.batch_size, progress=progress)
            _check_outputs(other_estimator, other, Y.shape[1], args.compare)
            labels = (labels[0], os.path.basename(args.compare))
        names = _resolve_names(estimator, data, args.names, Y.shape[1])
        motifs = None
        if args.motif_samples > 0 and getattr(estimator, "alphabet_", None):
            from .motifs import filter_motifs

            m = min(n, args.motif_samples)
            motifs = filter_motifs(estimator, _Encoded(X, data.encoder(estimator), m),
                                   batch_size=min(args.batch_size, 256), progress=progress)
        table = write_report(
            args.out, Y, proba, names, target_classes_or_none(names),
            min_positives=args.min_positives, curve_targets=args.targets, other_score=other,
            labels=labels, motifs=motifs, title=f"Evaluation of {os.path.basename(args.model)}",
            details={"model": args.model, "data": args.data, "samples": n,
                     **({"compared with": args.compare} if args.compare else {})},
            progress=progress,
        )
    finally:
        data.close()
    scored = table[table["status"] == "ok"]
    print(f"{len(scored)} of {len(table)} targets scored; median ROC AUC "
          f"{scored['roc_auc'].median():.3f}, median PR AUC {scored['pr_auc'].median():.3f}. "
          f"Report: {os.path.join(args.out, 'index.html')}")
    return 0


def run_motifs(args):
    from . import load
    from .motifs import filter_motifs, meme_text, plot_filter_logos
    from .report import _AtomicDirectory

    estimator = load(args.model)
    data = EvaluationData(args.data)
    try:
        n = len(data.X) if args.max_samples is None else min(args.max_samples, len(data.X))
        motifs = filter_motifs(estimator, _Encoded(data.X, data.encoder(estimator), n),
                               threshold=args.threshold, batch_size=min(args.batch_size, 256),
                               progress=not args.quiet)
    finally:
        data.close()
    with _AtomicDirectory(args.out, last="filters.meme") as folder:
        motifs.summary().to_csv(os.path.join(folder, "filters.tsv"), sep="\t", index=False,
                                float_format="%.6g")
        plot_filter_logos(motifs, n_top=args.top).savefig(
            os.path.join(folder, "filter_logos.png"), dpi=110)
        with open(os.path.join(folder, "filters.meme"), "w", encoding="ascii") as f:
            f.write(meme_text(motifs))
    print(f"{int((motifs.n_sites > 0).sum())} of {len(motifs)} filters have sites; wrote "
          f"filters.meme, filters.tsv and filter_logos.png to {args.out}")
    return 0


def _common(parser):
    parser.add_argument("--model", required=True, help="a saved model (.skdeepsea)")
    parser.add_argument("--data", required=True,
                        help=".npz or HDF5 with X (one-hot (n, L, 4) or strings) and Y, or a file "
                             "skdeepsea.data.open_dataset reads (DeepSEA's test.mat, streaming .h5)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--max-samples", type=int, default=None,
                        help="use only the first N samples")
    parser.add_argument("--batch-size", type=int, default=1024, help="samples per batch")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_evaluate_command(commands):
    evaluate = commands.add_parser(
        "evaluate", help="per-target ROC/PR AUC table, figures and an HTML report")
    _common(evaluate)
    evaluate.add_argument("--compare", default=None,
                          help="a second model to compare target by target")
    evaluate.add_argument("--names", default=None,
                          help="target names file (predictor.names), one per line")
    evaluate.add_argument("--min-positives", type=int, default=10,
                          help="fewest positives for a target to be scored (default 10)")
    evaluate.add_argument("--targets", nargs="+", default=None,
                          help="targets (names) whose ROC and PR curves are drawn")
    evaluate.add_argument("--motif-samples", type=int, default=2000,
                          help="sequences scanned for the first-layer filter logos (0: none)")
    evaluate.set_defaults(run=run_evaluate)


def add_motifs_command(commands):
    motifs = commands.add_parser(
        "motifs", help="first-layer filters as PFMs: MEME file, table and sequence logos")
    _common(motifs)
    motifs.add_argument("--threshold", type=float, default=0.5,
                        help="fraction of a filter's max activation a window must exceed")
    motifs.add_argument("--top", type=int, default=12, help="logos drawn (most informative)")
    motifs.set_defaults(run=run_motifs)


def register(commands):
    """Add ``evaluate`` and ``motifs`` to the ``skdeepsea`` command."""
    add_evaluate_command(commands)
    add_motifs_command(commands)

