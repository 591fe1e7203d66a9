"""The ``skdeepsea demo`` command: the full-size network on synthetic data, end to end."""

import os
import sys
import time
from numbers import Integral

from .._constraints import HasMethods, Interval, PathLike, parameter_constraints
from ._common import POSITIVE_INT, SEED, check_output_path, number

DEMO_MODEL_FILE = "deepsea-demo.skdeepsea"


def version_line():
    """The versions of skdeepsea and Keras, and the Keras backend in use.

    Returns
    -------
    line : str
        E.g. ``"skdeepsea 0.1.0 (Keras 3.15.1, backend jax)"``.
    """
    import keras

    from .._version import __version__

    return f"skdeepsea {__version__} (Keras {keras.__version__}, backend {keras.backend.backend()})"


@parameter_constraints({
    "n_train": [Interval(Integral, 1, None)],
    "n_test": [Interval(Integral, 3, None)],  # the first 3 are shown
    "epochs": [Interval(Integral, 1, None)],
    "output": [PathLike()],
    "seed": [Interval(Integral, 0, 2**32 - 1)],
    "out": [HasMethods(("write", "flush"), "a text file (with write and flush)")],
})
def run_demo(n_train, n_test, epochs, output, seed, out=sys.stdout):
    """Train the full-size DeepSEA network on synthetic chromatin data and report.

    Parameters
    ----------
    n_train, n_test : int
        Training and held-out sequences (1000 bp each); at least 3 held out
        (the first 3 are shown).
    epochs : int
        Passes over the training sequences and their reverse complements.
    output : str or path-like
        Folder for the saved model.
    seed : int
        Seed of the data and of the fit, from 0 to 2**32 - 1.
    out : file, default=sys.stdout
        Where the report goes.

    Returns
    -------
    aucs : ndarray of shape (n_targets,)
        Held-out ROC AUC of each target.

    Raises
    ------
    ValueError
        ``"run_demo: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type or value, before any work.
    """
    import numpy as np

    from .. import DeepSEAClassifier, OneHotDNA
    from ..datasets import make_chromatin_dataset
    from ..metrics import roc_auc_per_target

    def say(*args):
        print(*args, file=out, flush=True)

    say(version_line())
    # Consensus sites, each motif in its own slot of the centre, in half of the
    # sequences: learnable by the full network within the demo's few minutes
    # (DeepSEA itself saw 4.4 million sequences).
    sequences, Y, names = make_chromatin_dataset(
        n_train + n_test, sequence_length=1000, sites="consensus", motif_probability=0.5,
        random_state=seed,
    )
    say(f"Data: {n_train} training + {n_test} held-out random 1000 bp sequences with the "
        f"consensus sites of JASPAR motifs planted in the central 200 bp; {len(names)} targets.")
    encoder = OneHotDNA().fit(sequences)
    X = encoder.transform(sequences)
    # Adam at 2e-4 (not DeepSEA's SGD) and no dropout: every sequence is seen once, so dropout
    # only slows the escape from the initial plateau (docs/quickstart.md gives the measurements).
    clf = DeepSEAClassifier(
        optimizer="adam", learning_rate=2e-4, dropout=(0.0, 0.0, 0.0), batch_size=16,
        epochs=epochs, random_state=seed, verbose=1,
    )
    say(f"Training the full-size DeepSEA network with Adam, without dropout ({epochs} epoch(s) "
        "over both strands):")
    start = time.perf_counter()
    clf.fit(X[:n_train], Y[:n_train])
    say(f"Trained {clf.model_.count_params():,} parameters in {time.perf_counter() - start:.0f} s.")

    proba = clf.predict_proba(X[n_train:])
    aucs = roc_auc_per_target(Y[n_train:], proba)
    say("\nHeld-out ROC AUC per target (strand-averaged predictions):")
    width = max(len(n) for n in names)
    for name, auc, positives in zip(names, aucs, Y[n_train:].sum(axis=0)):
        say(f"  {name:<{width}}  {auc:.3f}   ({positives} positives)")
    say(f"  {'mean':<{width}}  {np.nanmean(aucs):.3f}")

    os.makedirs(output, exist_ok=True)
    path = os.path.join(output, DEMO_MODEL_FILE)
    clf.save(path)
    say(f"\nSaved the model to {path} (load it with skdeepsea.load).")

    say("\nPredictions for the first 3 held-out sequences (probability, true label):")
    for i in range(3):
        say(f"  sequence {n_train + i}: {sequences[n_train + i][450:550]}... (centre 100 bp)")
        for name, p, truth in zip(names, proba[i], Y[n_train + i]):
            say(f"    {name:<{width}}  {p:.3f}  {truth}")
    return aucs


_N_TEST = number(integer=True, low=3)


def register(commands):
    """Add ``demo`` to the ``skdeepsea`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommands of the ``skdeepsea`` parser.
    """
    demo = commands.add_parser(
        "demo", help="train the full-size DeepSEA network on synthetic data and report accuracy"
    )
    demo.add_argument("--n-train", type=POSITIVE_INT, default=10000, help="training sequences")
    demo.add_argument("--n-test", type=_N_TEST, default=1000,
                      help="held-out sequences (at least 3, the ones shown)")
    demo.add_argument("--epochs", type=POSITIVE_INT, default=1,
                      help="passes over the training data")
    demo.add_argument("--output", default="demo_output", help="folder for the saved model")
    demo.add_argument("--seed", type=SEED, default=0, help="seed of the data and the fit")
    demo.set_defaults(run=_run_demo_command)


def _run_demo_command(args):
    check_output_path(args.output, {}, option="--output", folder=True)  # before the training
    run_demo(args.n_train, args.n_test, args.epochs, args.output, args.seed)
