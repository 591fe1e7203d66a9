"""The Keras side of the estimator: network, optimizer, loss, and the device-side wrappers.

The estimator's ``model_`` is the plain network of its ``architecture``
(:func:`skdeepsea.network.build_architecture`; float input of shape (L, C)),
compiled with its optimizer and loss. Training and strand-averaged prediction
run it inside thin wrapper models that share its layers and weights:

- the training model takes ``{"sequence": x, "reverse": flags}`` and reverse
  complements the flagged samples before the network (augmentation);
- the strand-averaged predictor takes ``x`` and averages the network's
  outputs for ``x`` and its reverse complement.

Both take batches as stored (uint8 one-hot data): a Keras functional model
converts its inputs to its input dtype inside the compiled step, so the cast,
like the reverse complement, happens on the device.
"""

import contextlib
import weakref

import keras
import numpy as np

from .._architectures import SIZE_PARAMS
from ..losses import WeightedBinaryCrossentropy
from ..network import build_architecture
from ..preprocessing import complement_channels
from .params import DEFAULT_LEARNING_RATE, MIXED_PRECISION


class ReverseComplement(keras.layers.Layer):
    """Reverse complement one-hot sequences, all of them or those flagged.

    Parameters
    ----------
    alphabet : str
        Base order of the channels.
    **kwargs
        Passed to ``keras.layers.Layer``.
    """

    def __init__(self, alphabet, **kwargs):
        super().__init__(**kwargs)
        self.alphabet = alphabet
        self.channels = complement_channels(alphabet)

    def call(self, sequence, reverse=None):
        flipped = keras.ops.flip(keras.ops.take(sequence, self.channels, axis=2), axis=1)
        if reverse is None:
            return flipped
        flag = keras.ops.reshape(keras.ops.cast(reverse, "bool"), (-1, 1, 1))
        return keras.ops.where(flag, flipped, sequence)

    def compute_output_shape(self, sequence_shape, reverse_shape=None):
        return sequence_shape

    def get_config(self):
        return dict(super().get_config(), alphabet=self.alphabet)


def build_network(params, sequence_length, n_outputs, activation, seed):
    """The network for the estimator's parameters, in their precision policy.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params()``): ``architecture``, and
        sizes left at None take the architecture's defaults.
    sequence_length : int
        Input length.
    n_outputs : int
        Output units.
    activation : {"sigmoid", "softmax"}
        Output activation.
    seed : int or None
        Seed of initializers and dropout.

    Returns
    -------
    model : keras.Model
        Uncompiled.
    """
    policy = MIXED_PRECISION.get(params["mixed_precision"])
    with _dtype_policy(policy):
        model = build_architecture(
            params["architecture"], sequence_length, n_outputs,
            input_channels=params["input_channels"], output_activation=activation,
            l2=params["l2"], l1_sparsity=params["l1_sparsity"],
            max_kernel_norm=params["max_kernel_norm"], seed=seed,
            **{name: params[name] for name in SIZE_PARAMS},
        )
        if policy is not None:
            model = _float32_layers(model, params["l1_sparsity"])
    return model


@contextlib.contextmanager
def _dtype_policy(policy):
    """Keras' global dtype policy set to ``policy`` (None: unchanged) for the block."""
    previous = keras.config.dtype_policy()
    if policy is not None:
        keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _float32_layers(model, l1_sparsity):
    """Mixed precision: the output layer in float32, as Keras advises (16-bit sigmoids
    round probabilities to 2-3 digits); on TensorFlow the L1-penalised ``fc`` layer too,
    since TensorFlow cannot add its 16-bit penalty to the float32 ones."""
    names = {"output"}
    if keras.backend.backend() == "tensorflow" and l1_sparsity:
        names.add("fc")
    config = model.get_config()
    for layer in config["layers"]:
        if layer["config"]["name"] in names:
            layer["config"]["dtype"] = "float32"
    return keras.Model.from_config(config)


def make_optimizer(params):
    """The Keras optimizer of the estimator's parameters.

    Parameters
    ----------
    params : dict
        The estimator's parameters.

    Returns
    -------
    optimizer : keras.optimizers.Optimizer
    """
    rate = params["learning_rate"] or DEFAULT_LEARNING_RATE[params["optimizer"]]
    if params["learning_rate_decay"]:
        # lr / (1 + decay * step), DeepSEA's schedule with decay=8e-7.
        rate = keras.optimizers.schedules.InverseTimeDecay(
            rate, decay_steps=1, decay_rate=params["learning_rate_decay"]
        )
    if params["optimizer"] == "sgd":
        return keras.optimizers.SGD(rate, momentum=params["momentum"])
    if params["optimizer"] == "rmsprop":
        return keras.optimizers.RMSprop(rate, momentum=params["momentum"])
    if params["optimizer"] == "adamw":
        return keras.optimizers.AdamW(rate)
    return keras.optimizers.Adam(rate)


def make_loss(target_type, positive_weights=None):
    """The training loss for a target type.

    Parameters
    ----------
    target_type : {"multilabel-indicator", "binary", "multiclass"}
        Kind of targets.
    positive_weights : array-like or None, default=None
        Multilabel: weight of each target's positives.

    Returns
    -------
    loss : keras.losses.Loss
    """
    if target_type == "multiclass":
        return keras.losses.SparseCategoricalCrossentropy()
    if positive_weights is not None:
        return WeightedBinaryCrossentropy(positive_weights)
    return keras.losses.BinaryCrossentropy()


class PenaltyConstants(keras.layers.Layer):
    """``l2`` and ``l1_sparsity`` as non-trainable weights of the training model.

    The network's penalties read them while training (:func:`penalties_from`), so the
    compiled training step takes them as inputs instead of constants: fits that differ
    only in them (a grid search over the regularization) share one compilation through
    JAX's compilation cache. The layer passes its input through unchanged.

    Parameters
    ----------
    l2, l1_sparsity : float
        The constants.
    **kwargs
        Passed to ``keras.layers.Layer``.
    """

    def __init__(self, l2, l1_sparsity, **kwargs):
        super().__init__(**kwargs)
        self.l2 = self.add_weight(shape=(), initializer=keras.initializers.Constant(l2),
                                  trainable=False, name="l2")
        self.l1_sparsity = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(l1_sparsity), trainable=False,
            name="l1_sparsity")

    def call(self, sequence):
        return sequence


class _Penalty(keras.regularizers.Regularizer):
    """``factor * sum(x ** 2)`` (L2) or ``factor * sum(|x|)`` (L1), the factor a variable."""

    def __init__(self, factor, squared):
        self.factor, self.squared = factor, squared

    def __call__(self, x):
        if self.squared:
            if _FOLDED is not None and isinstance(x, keras.Variable):
                return _FOLDED.value(x, self.factor)
            # A dot product reads the weights once; squaring first writes a copy of them
            # (188 MB for the full-size dense kernel, at every training step).
            flat = keras.ops.reshape(x, (-1,))
            total = keras.ops.vdot(flat, flat)
        else:
            total = keras.ops.sum(keras.ops.absolute(x))
        return keras.ops.cast(self.factor, x.dtype) * total


class _InPlaceMaxNorm(keras.constraints.Constraint):
    """Keras' ``MaxNorm`` on the torch backend, computed in place.

    ``w * clip(norm, 0, max_value) / (epsilon + norm)``, Keras' formula, with the
    norms over the leading axes (a filter, a dense unit's incoming weights) summed a
    slice of rows at a time and ``w`` scaled in place: one read of the weights and
    one in-place scaling, where Keras writes a squared copy, a scaled copy and copies
    that back (the full-size dense kernel is 188 MB; PyTorch's column reductions of
    it are also slower than these row-slice products). The optimizer's ``assign`` of
    the result is a copy onto itself, which PyTorch skips.
    """

    _CHUNK = 1 << 21  # elements of a slice of rows (8 MB): its squares stay in the cache

    def __init__(self, keras_constraint):
        self.max_value = float(keras_constraint.max_value)

    @staticmethod
    def leading_axes(constraint, ndim):
        """Whether ``constraint`` norms over leading axes only (every kernel's layout)."""
        axes = constraint.axis if isinstance(constraint.axis, (list, tuple)) else [constraint.axis]
        axes = sorted(a % ndim for a in axes)
        return axes == list(range(len(axes))) and len(axes) < ndim

    def __call__(self, w):
        import torch

        value = w.value
        with torch.no_grad():
            columns = value.shape[-1]
            matrix = value.reshape(-1, columns)  # a view: the reduced axes lead
            squares = torch.zeros(columns, dtype=value.dtype, device=value.device)
            rows = max(1, self._CHUNK // columns)
            scratch = torch.empty((min(rows, len(matrix)), columns), dtype=value.dtype,
                                  device=value.device)
            ones = torch.ones(len(scratch), dtype=value.dtype, device=value.device)
            for chunk in matrix.split(rows):
                product = torch.mul(chunk, chunk, out=scratch[: len(chunk)])
                squares.addmv_(product.T, ones[: len(chunk)])
            norms = squares.sqrt_()
            value.mul_(norms.clamp(0, self.max_value) / (keras.backend.epsilon() + norms))
        return value


class _FoldedL2:
    """The L2 penalties of one torch training step, their gradient left to the step.

    Each penalised kernel's ``factor * sum(w ** 2)`` is computed without a gradient
    (for the reported loss) and its gradient, ``2 * factor * w``, added in place to
    the kernel's gradient before the optimizer's update: weight decay, the same
    gradient, without autograd's two products and sum over every kernel.
    """

    def __init__(self):
        self.kernels = []

    def value(self, variable, factor):
        import torch

        with torch.no_grad():
            flat = variable.value.reshape(-1)
            total = torch.dot(flat, flat)
        self.kernels.append((variable, factor))
        return keras.ops.cast(factor, variable.dtype) * total

    def add_gradients(self):
        import torch

        with torch.no_grad():
            for variable, factor in self.kernels:
                value = variable.value
                value.grad.add_(value, alpha=2 * float(keras.ops.convert_to_numpy(factor)))


_FOLDED = None  # the _FoldedL2 of the torch training step being run, else None
_FAST_TORCH_STEP = True  # False: Keras' generic training step and constraints (tests compare)


@contextlib.contextmanager
def _folding_l2():
    global _FOLDED
    _FOLDED = _FoldedL2()
    try:
        yield _FOLDED
    finally:
        _FOLDED = None


@contextlib.contextmanager
def penalties_from(network, constants):
    """The network's L2 and L1 penalties read ``constants`` for the block, then are restored.

    Only the penalties that the network has are replaced (``l2=0`` builds none); outside the
    block the network holds Keras' own regularizers, which is what its config and saved
    files record. On the torch backend the kernels' ``MaxNorm`` constraints are computed in
    place for the block (:class:`_InPlaceMaxNorm`).
    """
    swapped = []
    in_place = _FAST_TORCH_STEP and keras.backend.backend() == "torch"
    for layer in network.layers:
        kernel = getattr(layer, "kernel", None)
        if isinstance(getattr(kernel, "regularizer", None), keras.regularizers.L2):
            swapped.append((kernel, "regularizer", kernel.regularizer))
            kernel.regularizer = _Penalty(constants.l2, squared=True)
        if (in_place and isinstance(getattr(kernel, "constraint", None),
                                    keras.constraints.MaxNorm)
                and _InPlaceMaxNorm.leading_axes(kernel.constraint, len(kernel.shape))):
            swapped.append((kernel, "constraint", kernel.constraint))
            kernel.constraint = _InPlaceMaxNorm(kernel.constraint)
        if isinstance(layer.activity_regularizer, keras.regularizers.L1):
            swapped.append((layer, "activity_regularizer", layer.activity_regularizer))
            layer.activity_regularizer = _Penalty(constants.l1_sparsity, squared=False)
    try:
        yield
    finally:
        for owner, name, original in swapped:
            setattr(owner, name, original)


class _TrainingModel(keras.Model):
    """The functional training model; on torch, a train step with the L2 penalty folded.

    Keras' torch train step differentiates every kernel's ``l2 * sum(w ** 2)``
    through autograd. This one (:meth:`_torch_train_step`) takes the penalties'
    values without a gradient and adds their gradient to the kernels' gradients
    (:class:`_FoldedL2`); otherwise it is Keras' step. Without loss scaling only
    (mixed float16 keeps Keras' step).
    """

    def train_step(self, *args):  # (data) on torch and TensorFlow, (state, data) on JAX
        if (_FAST_TORCH_STEP and keras.backend.backend() == "torch"
                and self.optimizer is not None and self.optimizer.loss_scale_factor is None
                and not isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)):
            return self._torch_train_step(*args)
        return super().train_step(*args)

    def _torch_train_step(self, data):
        """Keras' torch ``train_step`` (keras/src/backend/torch/trainer.py), L2 folded."""
        import torch

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        self.zero_grad()
        with _folding_l2() as folded:
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                      training=True)
        self._loss_tracker.update_state(
            loss, sample_weight=next(i for i in keras.tree.flatten(x) if i is not None).shape[0])
        if self.trainable_weights:
            loss.backward()
            variables = self.trainable_weights[:]
            with torch.no_grad():
                folded.add_gradients()
                self.optimizer.apply([v.value.grad for v in variables], variables)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def training_model(network, alphabet, l2, l1_sparsity):
    """The model ``fit`` trains: the network, behind on-device reverse complements.

    Parameters
    ----------
    network : keras.Model
        The network (its layers and weights are shared).
    alphabet : str or None
        Base order of the reverse complements; None: no augmentation.
    l2, l1_sparsity : float
        The regularization constants, held by a :class:`PenaltyConstants` layer.

    Returns
    -------
    model : keras.Model
        Input ``{"sequence": x, "reverse": flags}`` (or ``x`` without augmentation).
    """
    sequence = keras.Input(network.input_shape[1:], name="sequence")
    x = PenaltyConstants(l2, l1_sparsity, name="penalty_constants")(sequence)
    if alphabet is None:
        return _TrainingModel(sequence, network(x), name=f"{network.name}_training")
    reverse = keras.Input((), dtype="uint8", name="reverse")
    oriented = ReverseComplement(alphabet, name="reverse_complement")(x, reverse)
    return _TrainingModel({"sequence": sequence, "reverse": reverse}, network(oriented),
                          name=f"{network.name}_training")


def compile_for_training(network, train_model, optimizer, loss):
    """Compile the training model, and the network with the same optimizer and loss.

    The network shares the optimizer object (its step count, schedule and
    slots), so ``model_.optimizer`` and ``model_.evaluate`` describe the
    training that was run.
    """
    train_model.compile(optimizer=optimizer, loss=loss)
    network.compile(optimizer=train_model.optimizer, loss=loss)


_PREDICTORS = weakref.WeakKeyDictionary()


def predictor(network, alphabet=None):
    """The model that predicts: the network, or its strand-averaged wrapper.

    Wrappers are cached per network, so their compiled predict step is reused.

    Parameters
    ----------
    network : keras.Model
        The network.
    alphabet : str or None, default=None
        Base order for strand averaging; None: the network alone.

    Returns
    -------
    model : keras.Model
    """
    if alphabet is None:
        return network
    cached = _PREDICTORS.setdefault(network, {})
    if alphabet not in cached:
        sequence = keras.Input(network.input_shape[1:], name="sequence")
        backward = network(ReverseComplement(alphabet, name="reverse_complement")(sequence))
        forward = network(sequence)
        cached[alphabet] = keras.Model(
            sequence, keras.layers.Average(dtype="float32")([forward, backward]),
            name=f"{network.name}_strand_averaged",
        )
    return cached[alphabet]


def trained_steps(network):
    """Gradient steps the network's optimizer has taken (0 when uncompiled)."""
    optimizer = getattr(network, "optimizer", None)
    if optimizer is None:
        return 0
    return int(np.asarray(keras.ops.convert_to_numpy(optimizer.iterations)))
