"""The ``skdeepsea train`` command: fit a DeepSEAClassifier from data files and save it."""

import argparse
import contextlib
import io
import os
import sys
import time

from ..preprocessing import DEFAULT_ALPHABET
from ._common import NON_NEGATIVE, POSITIVE_INT, SEED, check_output_path, existing_file, number

# Where DeepSEAClassifier(checkpoint_dir=...) keeps its checkpoint (see its docstring).
CHECKPOINT_FILE = "checkpoint.npz"


def _deepsea_learning_rate_decay():
    from ..classifier import DEEPSEA_LEARNING_RATE_DECAY

    return DEEPSEA_LEARNING_RATE_DECAY


# The command's own options; every other option is a DeepSEAClassifier parameter of the
# same name, passed on only when given (argument_default=SUPPRESS), so the estimator's
# defaults stay the defaults.
_COMMAND_OPTIONS = ("data", "valid", "out", "target_names", "include_optimizer", "multiprocess",
                    "coordinator", "num_processes", "process_id", "coordinator_timeout")


def register(commands):
    """Add ``train`` to the ``skdeepsea`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommands of the ``skdeepsea`` parser.
    """
    train = commands.add_parser(
        "train",
        help="train a DeepSEAClassifier from streaming .h5 files or the DeepSEA bundle",
        description="Train DeepSEA's network from a streaming file (convert-bundle, "
                    "build-dataset, skdeepsea.data.write_dataset) or the DeepSEA bundle's "
                    "train.mat, streamed from disk in shuffled batches with their reverse "
                    "complements, validated after every epoch on --valid, and save the fitted "
                    "estimator to --out (written under a temporary name, renamed when complete). "
                    "With --checkpoint-dir, a run that finds a checkpoint of the same training "
                    "there resumes it: after a crash, or with more --epochs. Options not given "
                    "keep DeepSEAClassifier's defaults.",
        argument_default=argparse.SUPPRESS,
    )
    train.add_argument("data", type=existing_file,
                       help="training data: a streaming .h5 file or the bundle's train.mat")
    train.add_argument("--valid", metavar="FILE", type=existing_file, default=None,
                       help="validation data (valid.h5, valid.mat), evaluated after every epoch")
    train.add_argument("--out", required=True, help="the .skdeepsea file to write")
    train.add_argument("--alphabet", default=DEFAULT_ALPHABET,
                       help="base order the model takes its input in (default: ATGC)")
    train.add_argument("--target-names", metavar="FILE", type=existing_file, default=None,
                       help="predictor.names: one name per target, for files without names "
                            "(the DeepSEA bundle)")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                       help="0 silent, 1 a progress bar (default), 2 one line per epoch (logs)")

    schedule = train.add_argument_group("schedule")
    schedule.add_argument("--epochs", metavar="N", type=POSITIVE_INT,
                          help="epochs to train, resumed ones included (default 10)")
    schedule.add_argument("--steps-per-epoch", metavar="N", type=POSITIVE_INT,
                          help="batches per epoch (default: one pass over the data)")
    schedule.add_argument("--batch-size", metavar="N", type=POSITIVE_INT,
                          help="samples per gradient step (default 64)")
    schedule.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "rmsprop"),
                          help="Keras optimizer (default sgd, as DeepSEA)")
    schedule.add_argument("--learning-rate", metavar="RATE", type=number(low=0, strict=True),
                          help="learning rate (default 0.1 for sgd, 0.001 for the others)")
    schedule.add_argument("--momentum", metavar="M", type=number(low=0, high=1),
                          help="momentum of sgd and rmsprop (default 0.9)")
    schedule.add_argument(
        "--learning-rate-decay", metavar="DECAY",
        type=number(low=0, words={"deepsea": _deepsea_learning_rate_decay}),
        help="rate / (1 + decay * step); 'deepsea': DeepSEA's 8e-7 (default 0: constant)",
    )
    schedule.add_argument("--shuffle-buffer", metavar="N", type=POSITIVE_INT,
                          help="samples shuffled together (default 10000)")
    schedule.add_argument("--no-reverse-complement", dest="add_reverse_complement",
                          action="store_false",
                          help="do not add reverse complements (the bundle holds both strands)")
    schedule.add_argument("--early-stopping", action="store_true",
                          help="stop when the validation loss stops improving and keep the best "
                               "epoch's weights (validation: --valid, else --validation-fraction "
                               "of the training data)")
    schedule.add_argument("--patience", metavar="N", dest="n_iter_no_change", type=POSITIVE_INT,
                          help="epochs without improvement before stopping (default 5)")
    schedule.add_argument("--validation-fraction", metavar="FRACTION",
                          type=number(low=0, high=0.9, strict=True),
                          help="held out for --early-stopping without --valid (default 0.1)")
    schedule.add_argument("--random-state", metavar="SEED", type=SEED,
                          help="seed of the weights, dropout and shuffling")

    regularization = train.add_argument_group("regularization")
    regularization.add_argument("--l2", metavar="WEIGHT", type=NON_NEGATIVE,
                                help="weight of the squared L2 norm of the kernels (default 5e-7)")
    regularization.add_argument("--l1-sparsity", metavar="WEIGHT", type=NON_NEGATIVE,
                                help="weight of the L1 norm of the hidden layer's outputs "
                                     "(default 1e-8)")
    regularization.add_argument("--max-kernel-norm", metavar="NORM",
                                type=number(low=0, strict=True, words={"none": None}),
                                help="max L2 norm of each filter and unit; 'none': no constraint "
                                     "(default 0.9)")
    regularization.add_argument("--dropout", nargs="+", metavar="RATE",
                                type=number(low=0, high=1),
                                help="dropout after each convolution (default 0.2 0.2 0.5)")

    network = train.add_argument_group(
        "network", "sizes not given are the architecture's (the defaults below: DeepSEA's)")
    network.add_argument("--architecture", choices=("deepsea", "beluga", "danq"),
                         help="the network: deepsea (default), beluga (ExPecto's) or danq")
    network.add_argument("--lstm-units", metavar="N", type=POSITIVE_INT,
                         help="units of each direction of DanQ's LSTM (danq: 320)")
    network.add_argument("--conv-filters", nargs="+", metavar="N", type=POSITIVE_INT,
                         help="filters of each convolution (default 320 480 960)")
    network.add_argument("--kernel-size", metavar="N", type=POSITIVE_INT,
                         help="width of every convolution (default 8)")
    network.add_argument("--pool-size", metavar="N", type=POSITIVE_INT,
                         help="max-pooling width and step (default 4)")
    network.add_argument("--fc-units", metavar="N", type=POSITIVE_INT,
                         help="units of the hidden dense layer (default 925)")

    hardware = train.add_argument_group("hardware and checkpoints")
    hardware.add_argument("--mixed-precision", choices=("bfloat16", "float16"),
                          help="compute in 16-bit floats, weights in float32 (GPUs, TPUs)")
    hardware.add_argument("--data-parallel", action="store_true",
                          help="split each batch over all devices (JAX backend)")
    hardware.add_argument("--checkpoint-dir", metavar="DIR",
                          help="write checkpoints here, and resume the training they hold")
    hardware.add_argument("--checkpoint-every", metavar="N", type=POSITIVE_INT,
                          help="steps between checkpoints (default 1000)")
    hardware.add_argument("--include-optimizer", action="store_true", default=False,
                          help="keep the optimizer's state in --out, to continue training it "
                               "with warm_start (a larger file: Adam's doubles it twice over)")

    processes = train.add_argument_group(
        "several processes (JAX backend)",
        "one process per host (or per GPU), all started with the same arguments; each reads its "
        "share of every batch from the same files, process 0 writes the checkpoints and --out. "
        "The process id, count and coordinator come from these options or from the variables "
        "torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) or srun (SLURM_PROCID, "
        "SLURM_NTASKS, SLURM_STEP_NODELIST) set. Implies --data-parallel.")
    processes.add_argument("--multiprocess", action="store_true", default=False,
                           help="join a multi-process job described by the launcher's variables")
    processes.add_argument("--coordinator", metavar="HOST:PORT", default=None,
                           help="address of process 0, where the processes meet (implies "
                                "--multiprocess)")
    processes.add_argument("--num-processes", metavar="N", type=POSITIVE_INT, default=None,
                           help="processes in the job (implies --multiprocess)")
    processes.add_argument("--process-id", metavar="I", type=number(integer=True, low=0),
                           default=None, help="this process's id, 0 to N-1 (implies "
                                              "--multiprocess)")
    processes.add_argument("--coordinator-timeout", metavar="SECONDS",
                           type=number(low=0, strict=True), default=300,
                           help="seconds to wait for the coordinator and the other processes "
                                "(default 300)")
    train.set_defaults(run=run_train)


def _estimator_params(args):
    """The DeepSEAClassifier parameters given on the command line."""
    params = {key: value for key, value in vars(args).items()
              if key not in _COMMAND_OPTIONS + ("command", "run", "version", "debug")}
    for key in ("conv_filters", "dropout"):
        if key in params:
            params[key] = tuple(params[key])
    return params


def _describe(dataset):
    return (f"{dataset.path}: {len(dataset):,} samples of {dataset.sequence_length} bp, "
            f"{dataset.n_targets} targets")


def run_train(args, out=None):
    """Train a DeepSEAClassifier as ``args`` say, print its progress and save it.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``train`` arguments.
    out : file or None, default=None
        Where the report goes; None: ``sys.stdout`` at call time.

    Returns
    -------
    status : int
        0 on success.

    Raises
    ------
    ValueError, OSError, KeyError
        A data file, a parameter or the checkpoint refused (``main`` prints
        the message on one line).
    """
    from .. import DeepSEAClassifier
    from ..data import open_dataset
    from ..targets import read_target_names

    out = sys.stdout if out is None else out
    writer, multiprocess = _join_processes(args)
    if not writer:  # process 0 reports and writes --out; the others train quietly
        out = io.StringIO()
    checkpoint_dir = getattr(args, "checkpoint_dir", None)
    check_output_path(args.out, {
        "data": args.data, "--valid": args.valid, "--target-names": args.target_names,
        "--checkpoint-dir": checkpoint_dir and os.path.join(checkpoint_dir, CHECKPOINT_FILE),
    })
    with contextlib.ExitStack() as files:
        # The output folder first: a path that cannot be written fails now, not after training.
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        train = files.enter_context(open_dataset(args.data, alphabet=args.alphabet))
        valid = None if args.valid is None else files.enter_context(
            open_dataset(args.valid, alphabet=args.alphabet))
        if args.target_names is not None:
            names = [str(name) for name in read_target_names(args.target_names)]
            if len(names) != train.n_targets:
                raise ValueError(f"{args.target_names} holds {len(names)} names but "
                                 f"{args.data} has {train.n_targets} targets.")
            train.target_names = names
        print(f"Training data {_describe(train)}.", file=out)
        print(f"Validation data {_describe(valid)}." if valid is not None else
              "No validation data (--valid): no validation loss unless --early-stopping "
              "holds out part of the training data.", file=out)
        params = _estimator_params(args)
        if "checkpoint_dir" in params:
            checkpoint = os.path.join(params["checkpoint_dir"], CHECKPOINT_FILE)
            if os.path.exists(checkpoint):
                print(f"Resuming the training saved in {checkpoint}.", file=out)
        estimator = DeepSEAClassifier(**params)
        start = time.perf_counter()
        estimator.fit(train, validation_data=valid)
    elapsed = time.perf_counter() - start
    if writer:
        estimator.save(args.out, include_optimizer=args.include_optimizer)
        _print_summary(estimator, elapsed, args.out, out)
    if multiprocess:
        from .._engine.processes import barrier

        barrier("saved")  # the others end once process 0 has written --out
    return 0


def _join_processes(args):
    """Join the job the options or the launcher describe: (this one writes, several processes)."""
    if not (args.multiprocess or any(getattr(args, name) is not None
                                     for name in ("coordinator", "num_processes", "process_id"))):
        return True, False
    from ..distributed import initialize, is_main_process

    cluster = initialize(args.coordinator, args.num_processes, args.process_id,
                         timeout=args.coordinator_timeout)
    if cluster["num_processes"] == 1:
        return True, False
    args.data_parallel = True
    return is_main_process(), True


def _print_summary(estimator, elapsed, path, out):
    """Per-epoch losses, then steps, epochs, best and last validation loss and the model file."""
    history = estimator.history_
    losses, val_losses = history.get("loss", []), history.get("val_loss")
    print("\nepoch  loss      val_loss", file=out)
    for epoch, loss in enumerate(losses, start=1):
        val = f"{val_losses[epoch - 1]:.6f}" if val_losses else "-"
        print(f"{epoch:5d}  {loss:.6f}  {val}", file=out)
    epochs = f"{len(losses)} epoch{'' if len(losses) == 1 else 's'}"
    print(f"\nTrained {estimator.n_steps_:,} steps in {epochs} (this run: {elapsed:.0f} s).",
          file=out)
    if val_losses:
        best = min(range(len(val_losses)), key=val_losses.__getitem__)
        kept = " (its weights kept: early stopping)" if estimator.early_stopping else ""
        print(f"Validation loss: best {val_losses[best]:.6f} at epoch {best + 1}{kept}, last "
              f"{val_losses[-1]:.6f}.", file=out)
    print(f"Saved the model to {path} (load it with skdeepsea.load).", file=out)
