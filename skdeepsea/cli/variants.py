"""The ``variant-effects`` and ``predict`` commands (registration only; work in ``run``)."""

import os
import sys

from ._common import (
    NON_NEGATIVE_INT, POSITIVE_INT, check_output_path, comma_list, existing_file,
)


def register(commands):
    """Add ``variant-effects`` and ``predict`` to the ``skdeepsea`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommands of the ``skdeepsea`` parser.
    """
    effects = commands.add_parser(
        "variant-effects",
        help="score the chromatin effects of the variants of a VCF with a trained model",
        description="Score each ALT allele of a VCF (or a chrom/pos/ref/alt table) the DeepSEA "
                    "way: reference and alternative windows from the genome, both strands, "
                    "diff, logfc, effect (and e-values with --background). Streams to a TSV "
                    "(.tsv, .tsv.gz), HDF5 (.h5) or Parquet (.parquet) file written under a "
                    "temporary name. With --scheduler, the VCF is scored in partitions on a "
                    "Dask cluster; a rerun after an interruption scores only the partitions "
                    "not finished.",
    )
    effects.add_argument("--model", required=True, type=existing_file,
                         help="a model saved with .save (.skdeepsea)")
    effects.add_argument("--vcf", required=True, type=existing_file,
                         help="VCF (plain, gzip or bgzip) or a table with chrom, pos, ref, alt")
    effects.add_argument("--genome", required=True, type=existing_file,
                         help="reference FASTA (plain or bgzip)")
    effects.add_argument("--out", required=True,
                         help="output file: .tsv, .tsv.gz, .h5 or .parquet")
    effects.add_argument("--format", choices=["tsv", "hdf5", "parquet"],
                         help="override the format")
    effects.add_argument("--targets", type=comma_list,
                         help="comma-separated target names (default: all)")
    effects.add_argument("--scores", type=comma_list, default="ref,alt,diff,logfc,abs_diff,effect",
                         help="comma-separated scores to write (default: all six)")
    effects.add_argument("--strand", choices=["mean", "forward", "max"], default="mean",
                         help="diff and logfc per strand, averaged over both (default, as "
                              "DeepSEA), forward only, or the strand with the larger effect")
    effects.add_argument("--contig-ends", choices=["skip", "pad"], default="skip",
                         help="a variant whose 1100 bp window leaves its contig: not scored "
                              "(default, as DeepSEA) or scored with N padding")
    effects.add_argument("--ref-mismatch", choices=["skip", "score"], default="skip",
                         help="a REF that disagrees with the genome: report, do not score "
                              "(default), or score with the VCF's REF")
    effects.add_argument("--max-indel-length", type=NON_NEGATIVE_INT, default=100,
                         help="longer indels are reported, not scored (default: 100)")
    effects.add_argument("--skip-malformed", action="store_true",
                         help="skip and count malformed lines instead of stopping")
    evidence = effects.add_mutually_exclusive_group()
    evidence.add_argument("--background", metavar="VCF", type=existing_file,
                          help="background variants (e.g. common SNPs): adds e-values")
    evidence.add_argument("--deepsea-resources", metavar="FOLDER",
                          help="DeepSEA v0.94's package folder (its resources/ and logistic/): "
                               "adds e-values against its 1000 Genomes background, the "
                               "functional significance score (funsig) and the eQTL, GWAS "
                               "and HGMD probabilities; needs a model of DeepSEA's 919 "
                               "targets, all scored, --strand mean")
    effects.add_argument("--deepsea-background", choices=["1000g", "1000g-af", "1000g-af0.1"],
                         default="1000g",
                         help="with --deepsea-resources: the background of the e-values "
                              "(default 1000g, as DeepSEA; -af: by allele frequency)")
    conservation = effects.add_argument_group(
        "conservation scores (with --deepsea-resources; default: DeepSEA's files under "
        "FOLDER/resources if there, else the functional significance score is computed from "
        "the chromatin e-values alone)")
    conservation.add_argument("--phastcons", metavar="FILE", type=existing_file,
                              help="phastCons: bigWig, or tabix-indexed TSV (chrom, pos, "
                                   "value)")
    conservation.add_argument("--phylop", metavar="FILE", type=existing_file,
                              help="phyloP: bigWig, or tabix-indexed TSV (chrom, pos, value)")
    conservation.add_argument("--gerp", metavar="FILE", type=existing_file,
                              help="GERP as DeepSEA's gerp_scores.tsv.gz: tabix-indexed TSV "
                                   "of chrom, pos, neutral rate, RS score")
    conservation.add_argument("--gerp-rs", metavar="FILE", type=existing_file,
                              help="GERP RS score alone: bigWig, or tabix-indexed TSV (chrom, "
                                   "pos, value)")
    effects.add_argument("--significance-out", metavar="FILE",
                         help="with --deepsea-resources: also write the variants sorted by "
                              "funsig, with the classifier probabilities, to this TSV (as "
                              "DeepSEA's .funsig)")
    effects.add_argument("--chunk-size", type=POSITIVE_INT, default=2000,
                         help="variants scored at a time (bounds memory; default 2000)")
    effects.add_argument("--batch-size", type=POSITIVE_INT, help="sequences per forward pass")
    effects.add_argument("--no-progress", action="store_true", help="no progress bar")
    effects.add_argument("--scheduler", metavar="ADDRESS",
                         help="score on the Dask cluster of this scheduler (e.g. "
                              "tcp://host:8786); the workers must see the model, VCF, genome "
                              "and output folder under the same paths")
    effects.add_argument("--partition-size", type=POSITIVE_INT, default=20_000,
                         help="with --scheduler: VCF lines per task (default 20000)")
    effects.add_argument("--worker-threads", type=POSITIVE_INT, metavar="N",
                         help="with --scheduler: threads each worker computes a partition "
                              "with (NumPy's BLAS, OpenMP, PyTorch; default: its share of its "
                              "machine's cores)")
    effects.set_defaults(run=_run_variant_effects)

    predict = commands.add_parser(
        "predict",
        help="predict the targets of FASTA sequences or of windows centred on BED regions",
        description="Write a TSV of the model's probabilities for each FASTA record, or for "
                    "the window centred on each BED region (with --genome).",
    )
    predict.add_argument("--model", required=True, type=existing_file,
                         help="a model saved with .save")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--fasta", help="FASTA of sequences")
    source.add_argument("--bed", help="BED of regions (needs --genome)")
    predict.add_argument("--genome", help="reference FASTA for --bed")
    predict.add_argument("--targets", type=comma_list,
                         help="comma-separated target names (default: all)")
    predict.add_argument("--out", required=True, help="output TSV")
    predict.set_defaults(run=_run_predict)


def _run_variant_effects(args):
    from .. import load
    from ..genome import Genome
    from ..variants import EValueTransformer, score_variants, write_variant_scores

    inputs = {"--model": args.model, "--vcf": args.vcf, "--genome": args.genome,
              "--background": args.background}
    check_output_path(args.out, inputs)
    if args.significance_out:
        check_output_path(args.significance_out, dict(inputs, **{"--out": args.out}),
                          option="--significance-out")
    if args.worker_threads is not None and not args.scheduler:
        raise ValueError("--worker-threads sets the threads of a Dask cluster's workers; it "
                         "needs --scheduler.")
    significance = _significance(args)
    # On a cluster each worker loads the model from its file; here it is needed for the
    # background only.
    model = load(args.model) if args.background or not args.scheduler else args.model
    targets = args.targets
    options = dict(strand=args.strand, ref_mismatch=args.ref_mismatch,
                   contig_ends=args.contig_ends,
                   max_indel_length=args.max_indel_length,
                   on_malformed="skip" if args.skip_malformed else "error",
                   chunk_size=args.chunk_size, batch_size=args.batch_size)
    with Genome(args.genome) as genome:
        evalues = None
        if args.background:
            print(f"Scoring the background variants of {args.background} ...", file=sys.stderr)
            background = score_variants(model, args.background, genome, targets=targets,
                                        scores=("effect",), **options)
            evalues = EValueTransformer().fit(background)
            print(f"Background: {int(background['scored'].sum())} scored variants.",
                  file=sys.stderr)
        cluster = ({"client": args.scheduler, "partition_size": args.partition_size,
                    "worker_threads": args.worker_threads, "model": args.model}
                   if args.scheduler else {"model": model})
        summary = write_variant_scores(
            variants=args.vcf, genome=genome, out=args.out, format=args.format,
            targets=targets, scores=tuple(args.scores), evalues=evalues,
            significance=significance, significance_out=args.significance_out,
            progress=not args.no_progress, **cluster, **options,
        )
    print(f"Wrote {args.out}: {summary['variants']} variant(s), {summary['scored']} scored, "
          f"{summary['padded']} with N-padded windows.", file=sys.stderr)
    if args.scheduler:
        print(f"  {summary['partitions']} partition(s), {summary['partitions_reused']} "
              "finished by an earlier run", file=sys.stderr)
    for reason, count in sorted(summary["not_scored"].items(), key=lambda x: -x[1])[:10]:
        print(f"  not scored ({count}): {reason}", file=sys.stderr)
    if summary["malformed_skipped"]:
        print(f"  skipped {summary['malformed_skipped']} malformed line(s)", file=sys.stderr)
    if significance is not None:
        # DeepSEA's .out.summary, and what the score was computed from.
        print(f"Functional significance score (from {summary['functional_significance']}):",
              file=sys.stderr)
        for threshold, count in summary["funsig_below"].items():
            print(f"  Number of variants with functional significance score<{threshold}: "
                  f"{count}", file=sys.stderr)
    return 0


def _significance(args):
    """The VariantSignificance of --deepsea-resources and the conservation files, or None."""
    from ..variants import ConservationScores, VariantSignificance

    files = {"phastCons": args.phastcons, "phyloP": args.phylop, "GERP_RS": args.gerp_rs}
    if args.gerp:
        files.update(GERP_neutral=(args.gerp, 3), GERP_RS=(args.gerp, 4))
    given = {name: spec for name, spec in files.items() if spec}
    if args.deepsea_resources is None:
        named = [option for option, value in (
            ("--phastcons", args.phastcons), ("--phylop", args.phylop), ("--gerp", args.gerp),
            ("--gerp-rs", args.gerp_rs), ("--significance-out", args.significance_out))
            if value]
        if named:
            raise ValueError(f"{named[0]} needs --deepsea-resources (the backgrounds and "
                             "classifiers of the functional significance score).")
        return None
    if args.gerp and args.gerp_rs:
        raise ValueError("--gerp holds GERP's RS score already (column 4): give --gerp or "
                         "--gerp-rs, not both.")
    if given:
        conservation = ConservationScores(given)
    elif any(os.path.exists(os.path.join(args.deepsea_resources, "resources", folder))
             for folder in ("phastCons", "phyloP", "Gerp")):
        # DeepSEA's evo_scores.tar.gz extracted in its folder: all its files are needed.
        conservation = ConservationScores.from_deepsea(args.deepsea_resources)
    else:
        conservation = None
    return VariantSignificance.from_deepsea(args.deepsea_resources,
                                            background=args.deepsea_background,
                                            conservation=conservation)


def _run_predict(args):
    from .. import load
    from .._atomic import atomic_path
    from ..variants import predict_bed, predict_fasta

    if args.bed and not args.genome:
        print("skdeepsea predict: error: --bed needs --genome", file=sys.stderr)
        return 2
    check_output_path(args.out, {"--model": args.model, "--fasta": args.fasta,
                                 "--bed": args.bed, "--genome": args.genome})
    model = load(args.model)
    targets = args.targets
    if args.fasta:
        frame = predict_fasta(model, args.fasta, targets=targets)
    else:
        frame = predict_bed(model, args.bed, args.genome, targets=targets)
    with atomic_path(args.out) as temporary:
        frame.to_csv(temporary, sep="\t", index=bool(args.fasta), float_format="%.6g")
    print(f"Wrote {args.out}: {len(frame)} prediction(s).", file=sys.stderr)
    return 0
