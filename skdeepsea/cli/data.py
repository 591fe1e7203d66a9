"""The ``convert-bundle`` and ``build-dataset`` commands (registration only; work in ``run``)."""

import os

from ..preprocessing import DEFAULT_ALPHABET
from ._common import POSITIVE_INT, SEED, check_output_path, existing_file


def register(commands):
    """Add ``convert-bundle`` and ``build-dataset`` to the ``skdeepsea`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommands of the ``skdeepsea`` parser.
    """
    convert = commands.add_parser(
        "convert-bundle",
        help="convert the DeepSEA training bundle (train.mat, valid.mat, test.mat) into "
             "streaming files to train from",
        description="Convert the DeepSEA bundle, or one of its .mat files, into sample-major, "
                    "chunked, bit-packed HDF5 streaming files (train.h5, valid.h5, test.h5). "
                    "Done once: training then reads consecutive samples cheaply.",
    )
    convert.add_argument("source", help="a .mat file, or the bundle's folder")
    convert.add_argument("output", help="the .h5 file for one .mat file, or a folder")
    convert.add_argument("--alphabet", default=DEFAULT_ALPHABET,
                         help="base order to store (default: ATGC, the estimator's)")
    convert.add_argument("--target-names", metavar="FILE", type=existing_file,
                         help="predictor.names: one Cell|Feature|Treatment name per target")
    convert.add_argument("--no-pack", action="store_true",
                         help="store uint8 one-hot instead of one bit per value")
    convert.add_argument("--chunk-rows", type=POSITIVE_INT, default=1024,
                         help="samples per HDF5 chunk")
    convert.add_argument("--compression", choices=["lzf", "gzip"],
                         help="HDF5 compression (smaller files, slower reads)")
    convert.set_defaults(run=_run_convert)

    build = commands.add_parser(
        "build-dataset",
        help="build DeepSEA-style training/validation/test files from a genome and BED peaks",
        description="Cut the genome into bins, centre a window on each, label each bin by the "
                    "peaks of every profile (1 when more than half of the bin is inside a "
                    "peak), keep bins with a positive label and write train.h5, valid.h5 and "
                    "test.h5 (held-out chromosomes) as streaming files.",
    )
    build.add_argument("genome", type=existing_file,
                       help="indexed (or indexable) FASTA of the reference genome")
    build.add_argument("output", help="folder for train.h5, valid.h5, test.h5")
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument("--peaks", nargs="+", metavar="BED", type=existing_file,
                        help="one BED file per profile; the file name (without .bed, "
                             ".narrowPeak, .gz) names the target")
    source.add_argument("--peak-table", metavar="TSV", type=existing_file,
                        help="a table of two tab-separated columns, name and BED path (relative "
                             "to the table's folder), one profile per line")
    build.add_argument("--valid-chromosomes", nargs="*", default=["chr7"], metavar="CHROM",
                       help="held out for validation (default: chr7; none: give the flag alone)")
    build.add_argument("--test-chromosomes", nargs="*", default=["chr8", "chr9"],
                       metavar="CHROM", help="held out for testing (default: chr8 chr9)")
    build.add_argument("--keep", choices=["any", "tf"], default="any",
                       help="keep bins with any positive target (default) or, as DeepSEA, "
                            "with a positive TF target")
    build.add_argument("--tf-targets", nargs="+", metavar="NAME",
                       help="the TF profiles for --keep tf (default: by name: not DNase, not "
                            "a histone mark)")
    build.add_argument("--bin-size", type=POSITIVE_INT, default=200, help="bin width in bp")
    build.add_argument("--sequence-length", type=POSITIVE_INT, default=1000,
                       help="window width in bp")
    build.add_argument("--alphabet", default=DEFAULT_ALPHABET, help="base order to store")
    build.add_argument("--seed", type=SEED, default=0, help="seed of the training-set shuffle")
    build.add_argument("--no-shuffle", action="store_true",
                       help="keep training samples in genome order")
    build.add_argument("--no-pack", action="store_true", help="store uint8 one-hot")
    build.set_defaults(run=_run_build)


def _run_convert(args):
    from ..data import convert_bundle

    if not os.path.exists(args.source):
        raise FileNotFoundError(f"no such file or folder: {args.source}")
    written = convert_bundle(
        args.source, args.output, alphabet=args.alphabet, target_names=args.target_names,
        packed=not args.no_pack, chunk_rows=args.chunk_rows, compression=args.compression,
        progress=True,
    )
    for path in written:
        print(f"Wrote {path}")


def _run_build(args):
    from ..data import build_dataset, read_peak_table

    for split in ("train", "valid", "test"):  # build_dataset checks its own inputs
        check_output_path(os.path.join(args.output, f"{split}.h5"),
                          {"--peak-table": args.peak_table}, option=f"output {split}.h5")
    peaks = read_peak_table(args.peak_table) if args.peak_table else args.peaks
    summary = build_dataset(
        args.genome, peaks, args.output, bin_size=args.bin_size,
        sequence_length=args.sequence_length, valid_chromosomes=args.valid_chromosomes,
        test_chromosomes=args.test_chromosomes, keep=args.keep, tf_targets=args.tf_targets,
        alphabet=args.alphabet, shuffle=not args.no_shuffle, random_state=args.seed,
        packed=not args.no_pack, progress=True,
    )
    for split, path in summary["paths"].items():
        print(f"Wrote {path}: {summary['n_samples'][split]} samples, "
              f"{len(summary['target_names'])} targets")
