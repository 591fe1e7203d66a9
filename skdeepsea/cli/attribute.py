"""The ``attribute`` command: per-base contribution scores of sequences or variants."""

import argparse
import os
import sys
import warnings

from ._common import (
    NON_NEGATIVE_INT, POSITIVE_INT, SEED, check_output_path, comma_list, existing_file, target_keys,
)

_MAX_FIGURES_DEFAULT = 20


def register(commands):
    """Add ``attribute`` to the ``skdeepsea`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommands of the ``skdeepsea`` parser.
    """
    parser = commands.add_parser(
        "attribute",
        help="per-base contribution scores of sequences or variants to chosen targets",
        description="Explain a trained model's outputs base by base (DeepLIFT/SHAP with "
                    "dinucleotide-shuffled references, integrated gradients, or gradient x "
                    "input) for the records of a FASTA file, sequences given inline, or the "
                    "reference and alternative windows of the variants of a VCF. Writes the "
                    "scores to an NPZ or HDF5 file (under a temporary name, then renamed) "
                    "and, with --figures, sequence logos as PNG files.",
    )
    parser.add_argument("--model", required=True, type=existing_file,
                        help="a model saved with .save (.skdeepsea)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--fasta", help="FASTA of sequences of the model's length")
    source.add_argument("--sequences", type=comma_list,
                        help="comma-separated sequences of the model's length")
    source.add_argument("--vcf", help="VCF (or chrom/pos/ref/alt table) of variants; "
                                      "needs --genome")
    parser.add_argument("--genome", help="reference FASTA for --vcf")
    parser.add_argument("--out", required=True, help="output file: .npz, .h5 or .hdf5 (with "
                                                     "--vcf, _ref and _alt are added to the name)")
    parser.add_argument("--targets", type=target_keys,
                        help="comma-separated target names or indices "
                                          "(default: all)")
    parser.add_argument("--sum-targets", action="store_true",
                        help="explain the sum of the chosen targets")
    parser.add_argument("--method", default="deep_lift_shap",
                        choices=["deep_lift_shap", "integrated_gradients", "gradient_x_input"])
    parser.add_argument("--output", default="logit", choices=["logit", "probability"],
                        help="explain logits (default) or probabilities")
    strand = parser.add_mutually_exclusive_group()
    strand.add_argument("--strand", default="forward", choices=["forward", "mean"],
                        help="forward strand, or the mean with the reverse complement")
    # The former name, hidden: it warns, and goes in the next release.
    strand.add_argument("--strands", choices=["forward", "both"], help=argparse.SUPPRESS)
    parser.add_argument("--n-shuffles", type=POSITIVE_INT, default=20,
                        help="shuffled references per sequence (default 20)")
    parser.add_argument("--n-steps", type=POSITIVE_INT, default=50,
                        help="integrated gradients' quadrature points (default 50)")
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=64,
                        help="pairs per gradient step")
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the shuffles")
    parser.add_argument("--figures", metavar="DIR", help="also draw sequence logos as PNG "
                                                         "files in DIR")
    parser.add_argument("--max-figures", type=NON_NEGATIVE_INT, default=_MAX_FIGURES_DEFAULT,
                        help=f"logos drawn at most (default {_MAX_FIGURES_DEFAULT})")
    parser.add_argument("--flank", type=NON_NEGATIVE_INT, default=20,
                        help="bases drawn each side of a variant (default 20)")
    parser.set_defaults(run=_run_attribute)


def _run_attribute(args):
    from .. import load
    from .._atomic import atomic_files
    from ..attribution import attribute, write_attributions
    from .._strands import FORMER_STRANDS
    from ..variants import attribute_variants

    if args.vcf and not args.genome:
        print("skdeepsea attribute: error: --vcf needs --genome", file=sys.stderr)
        return 2
    inputs = {"--model": args.model, "--fasta": args.fasta, "--vcf": args.vcf,
              "--genome": args.genome}
    stem, suffix = os.path.splitext(args.out)
    for out in ([f"{stem}_ref{suffix}", f"{stem}_alt{suffix}"] if args.vcf else [args.out]):
        check_output_path(out, inputs)
    if not args.out.lower().endswith((".npz", ".h5", ".hdf5")):
        raise ValueError(f"--out {args.out}: use a .npz, .h5 or .hdf5 name.")
    if args.figures:
        check_output_path(args.figures, inputs, option="--figures", folder=True)
    if args.strands is not None:
        args.strand = FORMER_STRANDS.get(args.strands, args.strands)
        warnings.warn(f"--strands is deprecated and will be removed in the next release; "
                      f"write --strand {args.strand}.", FutureWarning, stacklevel=2)
    model = load(args.model)
    options = dict(targets=args.targets, method=args.method, output=args.output,
                   strand=args.strand, sum_targets=args.sum_targets,
                   n_shuffles=args.n_shuffles, n_steps=args.n_steps,
                   batch_size=args.batch_size, random_state=args.seed)
    if args.method == "gradient_x_input":
        options.pop("n_shuffles")
    if args.vcf:
        from ..genome import Genome

        with Genome(args.genome) as genome:
            frame, ref, alt = attribute_variants(model, args.vcf, genome, **options)
        if ref is None:
            print(f"skdeepsea attribute: no variant of {args.vcf} could be scored",
                  file=sys.stderr)
            return 1
        # The two files are one output: committed together or not at all.
        folder, name = os.path.split(os.path.abspath(stem))
        with atomic_files(folder) as work:
            for label, result in (("ref", ref), ("alt", alt)):
                write_attributions(result, os.path.join(work, f"{name}_{label}{suffix}"))
        kept = frame[frame["scored"]]
        print(f"Wrote {stem}_ref{suffix} and {stem}_alt{suffix}: {len(kept)} variant(s) of "
              f"{len(frame)}, {len(ref.targets)} target(s), {args.method}.", file=sys.stderr)
        if args.figures:
            with atomic_files(args.figures) as work:
                _variant_figures(ref, alt, kept, args, work)
        return 0
    names, sequences = _read_sequences(args)
    result = attribute(model, sequences, **options)
    write_attributions(result, args.out)
    print(f"Wrote {args.out}: {len(sequences)} sequence(s), {len(result.targets)} target(s), "
          f"{args.method}.", file=sys.stderr)
    if args.figures:
        with atomic_files(args.figures) as work:
            _sequence_figures(result, names, args, work)
    return 0


def _read_sequences(args):
    if args.sequences:
        sequences = [s.upper() for s in args.sequences]
        return [f"sequence_{i}" for i in range(len(sequences))], sequences
    from ..genome import read_fasta

    return read_fasta(args.fasta)


def _safe(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))


def _save(figure, directory, name):
    figure.savefig(os.path.join(directory, f"{_safe(name)}.png"), format="png", dpi=120)


def _sequence_figures(result, names, args, directory):
    from ..plotting.attribution import plot_attribution_logo

    count = 0
    for i, name in enumerate(names):
        for k, target in enumerate(result.targets):
            if count >= args.max_figures:
                break
            scores = result.scores[i, k] * (result.sequences[i] if result.hypothetical else 1)
            figure = plot_attribution_logo(scores, result.alphabet, title=f"{name}: {target}")
            _save(figure, directory, f"{name}_{target}")
            count += 1
    print(f"Drew {count} logo(s) in {args.figures}.", file=sys.stderr)


def _variant_figures(ref, alt, variants, args, directory):
    from ..plotting.attribution import plot_variant_attributions

    count = 0
    for i, (_, row) in enumerate(variants.iterrows()):
        for target in ref.targets:
            if count >= args.max_figures:
                break
            figure = plot_variant_attributions(ref, alt, i, target=target, flank=args.flank)
            _save(figure, directory, f"{row['chrom']}_{row['pos']}_{row['ref']}_"
                                        f"{row['alt']}_{target}")
            count += 1
    print(f"Drew {count} logo(s) in {args.figures}.", file=sys.stderr)
