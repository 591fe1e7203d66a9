"""The ``skdeepsea`` command: a thin layer over the public Python API.

One module per group of subcommands, each with a ``register(commands)``
function that adds its subcommands to the parser; :data:`_COMMANDS` lists
them. Registration stays cheap: heavy imports belong inside the functions
that run a command.

Errors: :func:`main` prints an expected error (bad value, bad or damaged
file, unknown name: the types in ``_common.USER_ERRORS``) of any command as
one line ``skdeepsea <command>: error: <what and where>`` and returns 1;
other exceptions are bugs and keep their traceback, as every error does with
``--debug``.
"""

import argparse
import os
import sys

from . import attribute, data, demo, evaluate, pretrained, train, variants
from ._common import USER_ERRORS, one_line
from .demo import run_demo

__all__ = ["build_parser", "main", "run_demo"]

# Each entry adds subcommands: ``register(commands)`` calls ``commands.add_parser`` and
# sets ``run``, a function of the parsed arguments that returns the exit status (None = 0).
_COMMANDS = [
    demo.register,
    variants.register,
    data.register,
    train.register,
    evaluate.register,
    pretrained.register,
    attribute.register,
]


def main(argv=None):
    """Run the ``skdeepsea`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; None reads ``sys.argv``.

    Returns
    -------
    status : int
        Exit status: 0 on success, 1 for an expected error (printed as one
        line), 2 for a usage error (argparse's), 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    # TensorFlow, imported by Keras for seeding even on other backends, logs at startup.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.version:
        print(demo.version_line())
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"skdeepsea {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"skdeepsea {args.command}: interrupted; outputs not written are left as "
              "they were", file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse's parser, its usage errors on one line (no usage block before them)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    """The ``skdeepsea`` argument parser with every subcommand.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = _Parser(
        prog="skdeepsea", description="DeepSEA as a scikit-learn estimator on Keras 3."
    )
    parser.add_argument("--version", action="store_true", help="print versions and the backend")
    debug_help = "show the Python traceback of an error instead of one line"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    commands = parser.add_subparsers(dest="command")
    for register in _COMMANDS:
        register(commands)
    # Also after the command (`skdeepsea train ... --debug`); SUPPRESS keeps a --debug given
    # before the command from being reset by the subcommand's default.
    for command in {id(p): p for p in commands.choices.values()}.values():
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help=debug_help)
    return parser
