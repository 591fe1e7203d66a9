"""What ``fit`` trains on: the checked inputs, encoded targets, weights and validation set.

:func:`prepare_training_data` reads nothing but shapes and types of lazy
inputs, and sets nothing on the estimator: a failure leaves it as it was.
:func:`training_batches` then splits off the validation set (when early
stopping needs one) and returns the batch sources of the training loop.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import compute_sample_weight

from .lazy import RowsView, chunk_rows, default_block_size, is_dataset, is_lazy, make_blocks
from .batches import OrderedBatches, TrainBatches
from .inputs import check_X, fit_alphabet, streamed, unpack_dataset
from .params import check_geometry
from .encoding import TargetEncoder
from ..preprocessing import check_alphabet


@dataclass
class TrainingData:
    """The checked training data of one fit.

    Attributes
    ----------
    X : ndarray or lazy array of shape (n, L, C)
        Sequences (uint8 or float32 in memory).
    targets : ndarray or lazy array
        Encoded targets.
    sample_weight : ndarray of shape (n,) or None
        Per-sample weights (class weights folded in).
    encoder : TargetEncoder
        How the targets were encoded.
    alphabet : str or None
        Base order of the channels.
    validation : tuple (X_val, targets_val) or None
        Given validation data, checked and encoded.
    positive_weights : ndarray of shape (T,) or None
        Multilabel ``class_weight``: the weight of each target's positives.
    """

    X: object
    targets: object
    sample_weight: object
    encoder: TargetEncoder
    alphabet: object
    validation: object
    positive_weights: object

    @property
    def sequence_length(self):
        """Length of the sequences."""
        return int(self.X.shape[1])


def prepare_training_data(params, X, y, sample_weight, validation_data):
    """Check and encode the inputs of ``fit``.

    Parameters
    ----------
    params : dict
        The estimator's (checked) parameters.
    X, y, sample_weight, validation_data
        As given to ``fit``.

    Returns
    -------
    data : TrainingData
    """
    X, y, data_alphabet, names = unpack_dataset(X, y, "X")
    if y is None:
        raise ValueError("DeepSEAClassifier requires y to be passed, but the target y is None.")
    channels = params["input_channels"]
    X, input_alphabet = check_X(X, channels, alphabet=data_alphabet)
    alphabet = fit_alphabet(params["alphabet"], input_alphabet, channels)
    if not is_lazy(y):
        check_finite_targets(y, "y")
    encoder = TargetEncoder()
    targets = encoder.fit_transform(np.asarray(y) if is_lazy(y) and y.ndim < 2 else y, names)
    if len(targets) != len(X):
        raise ValueError(f"X has {len(X)} samples but y has {len(targets)}.")
    check_geometry(params, X.shape[1])
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float32)
        if sample_weight.shape != (len(X),):
            raise ValueError(
                f"sample_weight must have shape ({len(X)},), got {sample_weight.shape}."
            )
        if not np.isfinite(sample_weight).all():
            i = int(np.flatnonzero(~np.isfinite(sample_weight))[0])
            raise ValueError(f"sample_weight[{i}] is {sample_weight[i]}; weights must be finite.")
        if sample_weight.sum() <= 0:
            raise ValueError("sample_weight sums to zero (or less): nothing to learn from.")
    if params["class_weight"] is not None and encoder.target_type != "multilabel-indicator":
        class_weights = compute_sample_weight(params["class_weight"], np.asarray(y).ravel())
        sample_weight = class_weights if sample_weight is None else sample_weight * class_weights
    validation = None
    if validation_data is not None:
        validation = _validation_pair(validation_data, channels, X.shape[1], encoder, alphabet)
    positive_weights = encoder.positive_weights(targets, params["class_weight"])
    return TrainingData(X, targets, sample_weight, encoder, alphabet, validation,
                        positive_weights)


def check_finite_targets(y, where):
    """Refuse NaN or infinite targets, naming the first sample that holds one.

    Parameters
    ----------
    y : array-like
        Targets in memory.
    where : str
        How to name ``y`` in the message.
    """
    values = np.asarray(y)
    if values.dtype.kind not in "fc":
        if values.dtype.kind != "O":
            return
        values = np.asarray(values.tolist(), dtype=object)
        missing = np.array([isinstance(v, float) and not np.isfinite(v)
                            for v in values.ravel()]).reshape(values.shape)
    else:
        missing = ~np.isfinite(values)
    if missing.any():
        first = tuple(int(k) for k in np.argwhere(missing)[0])
        where_in = f"{where}[{first[0]}]" + (f", target {first[1]}" if len(first) > 1 else "")
        raise ValueError(f"{where_in} is {values[first]}; targets must be finite labels.")


def _validation_pair(validation_data, channels, sequence_length, encoder, train_alphabet):
    """The validation set checked against the training data: length, base order, targets."""
    where = "validation_data"
    if is_dataset(validation_data):
        X_val, y_val, alphabet, names = unpack_dataset(validation_data, None, where)
        if getattr(validation_data, "path", None) is not None:
            where = f"the validation file {validation_data.path}"  # what --valid names too
    elif isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
        (X_val, y_val), alphabet = validation_data, None
        names = getattr(y_val, "columns", None)
    else:
        raise ValueError(
            "validation_data must be a tuple (X_val, y_val) or a data set object, got "
            f"{type(validation_data).__name__}."
        )
    X_val, declared = check_X(X_val, channels, sequence_length=sequence_length, alphabet=alphabet)
    if train_alphabet and declared and check_alphabet(declared) != train_alphabet:
        raise ValueError(f"{where} is encoded in alphabet {declared!r}, but the training data "
                         f"in {train_alphabet!r}.")
    if not is_lazy(y_val):
        check_finite_targets(y_val, f"{where}'s y")
    y_val = encoder.transform(y_val, f"{where}'s y", names=names)
    if len(y_val) != len(X_val):
        raise ValueError(f"validation_data has {len(X_val)} samples in X but {len(y_val)} in y.")
    return X_val, y_val


def training_batches(params, data, *, shuffle_seed, multiple, share=None):
    """The training and validation batch sources of a fit.

    In memory, the whole array is one block (a full shuffle every pass) and
    early stopping holds out random samples; a lazy X is read in blocks and
    early stopping holds out whole blocks.

    Parameters
    ----------
    params : dict
        The estimator's parameters.
    data : TrainingData
        The checked data.
    shuffle_seed : int
        Seed of the shuffling and of the validation split.
    multiple : int
        Device count of data-parallel training (validation batches split evenly).
    share : Share or None, default=None
        This process's slice of every batch, in a multi-process job.

    Returns
    -------
    train : TrainBatches
    validation : OrderedBatches or None
    """
    X, targets, weight, val = data.X, data.targets, data.sample_weight, data.validation
    lazy = streamed(X) or is_lazy(targets)
    blocks = (make_blocks(len(X), default_block_size(len(X), chunk_rows(X))) if lazy
              else None)
    if val is None and params["early_stopping"]:
        if lazy:
            blocks, val = _hold_out_blocks(X, targets, blocks, params, shuffle_seed)
        else:
            X, targets, weight, val = _hold_out_samples(X, targets, weight, params, shuffle_seed)
    if blocks is None:
        blocks = make_blocks(len(X), len(X))
    augment = data.alphabet is not None and params["add_reverse_complement"]
    train = TrainBatches(
        X, targets, weight, blocks, batch_size=params["batch_size"],
        shuffle_buffer=params["shuffle_buffer"], seed=shuffle_seed, augment=augment,
        steps_per_epoch=params["steps_per_epoch"], target_dtype=data.encoder.dtype, share=share,
    )
    validation = None
    if val is not None:
        validation = OrderedBatches(
            val[0], params["batch_size"], targets=val[1], target_dtype=data.encoder.dtype,
            pad=False, multiple=multiple, training_inputs=augment, read_ahead=streamed(val[0]),
            share=share,
        )
    return train, validation


def _hold_out_samples(X, targets, weight, params, seed):
    """Split off ``validation_fraction`` of the samples, at random."""
    arrays = [X, targets] + ([weight] if weight is not None else [])
    split = train_test_split(*arrays, test_size=params["validation_fraction"], random_state=seed)
    weight = split[4] if weight is not None else None
    return split[0], split[2], weight, (split[1], split[3])


def _hold_out_blocks(X, targets, blocks, params, seed):
    """Split off ``validation_fraction`` of the blocks of a lazy X, at random."""
    if len(blocks) < 2:
        raise ValueError(
            f"early_stopping with validation_fraction needs at least 2 samples; X has {len(X)}."
        )
    rng = np.random.default_rng([seed, 2])
    n_val = min(len(blocks) - 1, max(1, round(params["validation_fraction"] * len(blocks))))
    held = np.zeros(len(blocks), dtype=bool)
    held[rng.choice(len(blocks), n_val, replace=False)] = True
    return blocks[~held], (RowsView(X, blocks[held]), RowsView(targets, blocks[held]))


def training_seeds(params, multi):
    """The seeds of a fit, and the checkpoint it resumes from.

    Parameters
    ----------
    params : dict
        The resolved parameters.
    multi : bool
        A multi-process job: seeds not fixed by ``random_state`` are process
        0's, so every process builds the same weights and batch order.

    Returns
    -------
    seed : int or None
        Keras' seed for the weights and dropout; None: not fixed.
    shuffle_seed : int
        The batch order's (a resumed run keeps its checkpoint's).
    checkpoint : tuple or None
        ``_checkpoint.read_checkpoint`` of ``checkpoint_dir``.
    """
    from sklearn.utils import check_random_state

    from .._checkpoint import read_checkpoint
    from .processes import broadcast_seed

    rng = check_random_state(params["random_state"])
    seed = None if params["random_state"] is None else int(rng.randint(2**31 - 1))
    if seed is None and multi:
        seed = broadcast_seed(np.random.SeedSequence().entropy % (2**31 - 1))
    checkpoint = None
    if params["checkpoint_dir"] is not None:
        checkpoint = read_checkpoint(params["checkpoint_dir"])
    if checkpoint is not None:
        shuffle_seed = checkpoint[0]["shuffle_seed"]
    elif params["random_state"] is not None:
        shuffle_seed = int(rng.randint(2**31 - 1))
    else:
        shuffle_seed = int(np.random.SeedSequence().entropy % (2**31 - 1))
        if multi:
            shuffle_seed = broadcast_seed(shuffle_seed)
    return seed, shuffle_seed, checkpoint
