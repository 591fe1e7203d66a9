"""The ``skdeepsea import-weights`` command (registration stays free of heavy imports)."""

import argparse
import os
import sys
import warnings

from ..preprocessing import DEFAULT_ALPHABET
from ._common import POSITIVE_INT, check_output_path, existing_file


def register(commands):
    """Add ``import-weights`` to the ``skdeepsea`` subcommands.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommand registry of the ``skdeepsea`` parser.
    """
    parser = commands.add_parser(
        "import-weights",
        help="import the published DeepSEA, Beluga or DanQ weights into a .skdeepsea model",
        description=(
            "Import deepsea_predict.pth / deepsea_variant_effects.pth (the model zoo's PyTorch "
            "conversion), deepsea.cpu (the DeepSEA v0.94 Torch7 model), deepsea.beluga.pth "
            "(Beluga) or DanQ_bestmodel.hdf5 (DanQ's Keras 0.2 file) into a fitted "
            "DeepSEAClassifier and save it. Any command that takes --model also accepts these "
            "files directly; importing once saves the conversion and the checksum each time."
        ),
    )
    parser.add_argument("src", metavar="SRC", type=existing_file, help="the weights file")
    parser.add_argument(
        "--names", default=None, type=existing_file,
        help="predictor.names (one Cell|Feature|Treatment per output); default: the one beside SRC",
    )
    parser.add_argument("--out", required=True, help="the .skdeepsea file to write")
    parser.add_argument(
        "--alphabet", default=DEFAULT_ALPHABET, help="base order of the model's input (default ATGC)"
    )
    strands = parser.add_mutually_exclusive_group()
    strands.add_argument(
        "--strand", choices=("mean", "forward"), default=None,
        help="mean: average predictions over the sequence and its reverse complement; forward: "
             "the given strand only (default: as the source file)",
    )
    # The former spellings, hidden: they warn, and go in 0.3.
    strands.add_argument("--average-strands", dest="average_strands", action="store_const",
                         const=True, default=None, help=argparse.SUPPRESS)
    strands.add_argument("--no-average-strands", dest="average_strands", action="store_const",
                         const=False, help=argparse.SUPPRESS)
    parser.add_argument(
        "--relu", action="store_true",
        help="plain ReLU instead of Torch's Threshold(0, 1e-6) (outputs differ slightly)",
    )
    parser.add_argument(
        "--sequence-length", type=POSITIVE_INT, default=None,
        help="input length of the network (default: 1000 for DeepSEA and DanQ, 2000 for Beluga)"
    )
    parser.add_argument(
        "--pool-size", type=POSITIVE_INT, default=None,
        help="DanQ (.hdf5) only: its max pooling width, not stored in the file (default 13)",
    )
    parser.add_argument(
        "--backward-direction", choices=("forward", "reversed"), default=None,
        help="DanQ (.hdf5) only: how its second LSTM reads the sequence; 'forward' as seya's "
             "published Bidirectional computed it (default), 'reversed' a true backward LSTM",
    )
    parser.add_argument(
        "--no-verify", action="store_true",
        help="skip the size/checksum check against the published files (your own conversion)",
    )
    parser.set_defaults(run=run_import_weights)


def run_import_weights(args, out=None):
    """Import the weights named in ``args`` and save the estimator.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``import-weights`` arguments.
    out : file or None, default=None
        Where the summary goes; None: ``sys.stdout`` at call time.

    Returns
    -------
    status : int
        0 on success.
    """
    from ..pretrained import is_danq_file, load_danq, load_deepsea
    from ..targets import target_classes

    out = sys.stdout if out is None else out
    if args.average_strands is not None:
        args.strand = "mean" if args.average_strands else "forward"
        option = "--average-strands" if args.average_strands else "--no-average-strands"
        warnings.warn(f"{option} is deprecated and will be removed in 0.3; write --strand "
                      f"{args.strand}.", FutureWarning, stacklevel=2)
    check_output_path(args.out, {"SRC": args.src, "--names": args.names})
    danq = is_danq_file(args.src)  # told by its content (HDF5), not its name
    if danq:
        misplaced = ["--relu"] if args.relu else []
        kind, src = "DeepSEA and Beluga weights", f"{args.src} is DanQ's (an HDF5 file)"
    else:
        misplaced = [option for option, value in (("--pool-size", args.pool_size),
                                                  ("--backward-direction",
                                                   args.backward_direction))
                     if value is not None]
        kind, src = "DanQ's weights (an HDF5 file)", f"{args.src} is not DanQ's"
    if misplaced:
        raise ValueError(f"{misplaced[0]} is for {kind} only; {src}.")
    if danq:  # no checksum is published, no ReLU option
        clf = load_danq(
            args.src,
            args.names,
            alphabet=args.alphabet,
            strand=args.strand,
            sequence_length=args.sequence_length or 1000,
            pool_size=args.pool_size or 13,
            backward_direction=args.backward_direction or "forward",
        )
    else:
        clf = load_deepsea(
            args.src,
            args.names,
            alphabet=args.alphabet,
            strand=args.strand,
            sequence_length=args.sequence_length,
            activation="relu" if args.relu else "threshold",
            verify=not args.no_verify,
        )
    directory = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(directory, exist_ok=True)
    clf.save(args.out)
    classes = target_classes(clf.target_names_)
    counts = ", ".join(f"{int((classes == c).sum())} {c}" for c in ("DNase", "TF", "histone"))
    print(
        f"Imported {args.src}: {clf.model_.count_params():,} parameters, "
        f"{len(clf.target_names_)} outputs ({counts}), input {clf.sequence_length_} bp in "
        f"{clf.alphabet_} order, strands {'averaged' if clf.strand == 'mean' else 'not averaged'}.",
        file=out,
    )
    print(f"Saved to {args.out} (load it with skdeepsea.load).", file=out)
    return 0
