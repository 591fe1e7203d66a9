"""DeepSEAClassifier: the DeepSEA network as a scikit-learn classifier.

The class is the scikit-learn face of the training and inference engine in
``skdeepsea/_engine``: ``fit`` checks every parameter, prepares the data,
builds and compiles the network, runs one training loop and sets the fitted
attributes in one place; ``predict_proba`` calls the one batched inference
function. docs/architecture.md follows a fit from here to the Keras layers.
"""

import dataclasses

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from . import persistence
from ._engine.fitted import FittedState
from ._strands import DEPRECATED, check_strand, renamed_strand
from ._engine.inputs import check_predict_alphabet, check_X, encode_records, unpack_dataset
from .metrics import mean_roc_auc_scorer

DEEPSEA_LEARNING_RATE_DECAY = 8e-7


class DeepSEAClassifier(ClassifierMixin, BaseEstimator):
    """DeepSEA: predict chromatin features from one-hot DNA with a deep CNN.

    The network of Zhou & Troyanskaya (2015) by default: three valid
    convolutions (320, 480 and 960 filters of width 8, ReLU) with max pooling
    (4) after the first two, dropout (0.2, 0.2, 0.5), a 925-unit ReLU layer
    and one output per target. ``architecture`` chooses another network of
    the family: "beluga" (ExPecto's DeepSEA, two convolutions per block) or
    "danq" (a convolution and a bidirectional LSTM); each brings its own
    published sizes unless they are given (see docs/training.md). A
    multilabel indicator matrix ``y`` of shape (n, T) gives T sigmoid outputs
    (the DeepSEA case); binary and multiclass labels work too.

    The regularization enters the training loss as::

        loss = mean_{batch, targets} BCE(y, p)
               + l2 * sum(W ** 2)                      # all kernels
               + l1_sparsity * mean_batch(sum |h|)     # h: the fc_units layer

    and after each update every convolution filter (as a whole) and every
    dense unit's incoming weights are rescaled to L2 norm <= max_kernel_norm.
    See docs/training.md for how each constant matches the Torch7 training
    script, and where it departs from it (the L1 term's layer and averaging).

    Parameters
    ----------
    architecture : {"deepsea", "beluga", "danq"}, default="deepsea"
        The network. "deepsea": blocks of one convolution (defaults 320, 480,
        960 filters of width 8, pooling 4, dropout 0.2, 0.2, 0.5, 925 hidden
        units). "beluga": blocks of two convolutions, dropout before each
        pooling (defaults 320-320, 480-480, 640-640 filters of width 8,
        pooling 4, dropout 0.2, 0.2, 0.5, 2003 hidden units; published for
        2,000 bp). "danq": one convolution (320 filters of width 26), pooling
        13, dropout 0.2, a bidirectional LSTM (``lstm_units`` each way),
        dropout 0.5, 925 hidden units; its authors trained it with RMSprop
        (``optimizer="rmsprop"``). Every architecture takes the
        regularization parameters below.
    l2 : float, default=5e-7
        Weight of the squared L2 norm of all kernels in the loss (Torch7's
        weight decay 1e-6 equals 5e-7 here).
    l1_sparsity : float, default=1e-8
        Weight of the L1 norm of the hidden dense layer's outputs (summed over
        units, averaged over the batch).
    max_kernel_norm : float or None, default=0.9
        Max L2 norm of each filter / dense unit's incoming weights. None: no
        constraint.
    dropout : tuple of float or None, default=None
        Dropout after each convolution block (one rate per block; DanQ one
        more after its LSTM). None: the architecture's pattern for the
        number of blocks, 0.2 at each place but the last and 0.5 there
        (0.2, 0.2, 0.5 for DeepSEA and Beluga; 0.2, 0.5 for DanQ).
    conv_filters : tuple of int or None, default=None
        Filters of each convolution block (Beluga: of both its
        convolutions). None: the architecture's.
    kernel_size : int or None, default=None
        Width of every convolution. None: the architecture's (8; DanQ 26).
    pool_size : int or None, default=None
        Width and step of the max poolings. None: the architecture's (4;
        DanQ 13).
    fc_units : int or None, default=None
        Units of the hidden dense layer. None: the architecture's (925;
        Beluga 2003).
    lstm_units : int or None, default=None
        Units of each direction of DanQ's LSTM; None: 320. Only for
        ``architecture="danq"``.
    optimizer : {"sgd", "adam", "adamw", "rmsprop"}, default="sgd"
        Keras optimizer.
    learning_rate : float or None, default=None
        Learning rate. None: 0.1 for "sgd", 0.001 for the others. SGD with
        0.1 and momentum 0.9 here takes the steps that Torch7's SGD (dampened
        momentum) took with DeepSEA's rate of 1.
    momentum : float, default=0.9
        Momentum of "sgd" and "rmsprop".
    learning_rate_decay : float, default=0.0
        Decay of the learning rate with the step count: at step ``t`` the
        rate is ``learning_rate / (1 + learning_rate_decay * t)``. DeepSEA's
        schedule is ``8e-7`` (``DEEPSEA_LEARNING_RATE_DECAY``); 0 keeps the
        rate constant. Resumed fits continue the schedule where they stopped.
    batch_size : int, default=64
        Samples per gradient step, and per forward pass when predicting.
    epochs : int, default=10
        Epochs to train: passes over the training data (its reverse
        complements included), or ``steps_per_epoch`` batches each.
    steps_per_epoch : int or None, default=None
        Batches per epoch; None: one pass over the data. Validation, early
        stopping and history work per epoch, so at DeepSEA scale an epoch of
        a few thousand steps (the original: 110,000 samples, 6,875 batches of
        16) gives frequent validation. Epochs follow each other through the
        shuffled data without restarting it.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, and keep the weights of the best epoch.
        The validation set is ``validation_data`` given to ``fit``, else
        ``validation_fraction`` of the training data held out.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping when ``fit`` gets no
        ``validation_data`` (samples at random in memory, whole contiguous
        blocks of samples at random when streaming).
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    class_weight : dict, "balanced" or None, default=None
        Binary / multiclass: weights of the classes, as in scikit-learn.
        Multilabel: weights of each target's positives (a dict from target
        index or name), "balanced" giving ``n_negative / n_positive``.
    strand : {"mean", "forward"}, default="mean"
        "mean": average the predictions for each sequence and its reverse
        complement, as DeepSEA's published predictions do (both strands
        computed on the device from one read of each sequence); "forward":
        the sequence as given. The same parameter as variant scoring's,
        mutagenesis' and attribution's.
    add_reverse_complement : bool, default=True
        Train on the reverse complement of every training sequence too (the
        DeepSEA training data holds both strands).
    alphabet : str or None, default=None
        Base order of the one-hot channels. None takes it from the input
        (``OneHotDNA`` output carries its alphabet) or else uses "ATGC".
    input_channels : int, default=4
        Values per position: 4 for one-hot DNA. Other counts (extra tracks,
        or generic numeric features with 1) need ``strand="forward"``
        and ``add_reverse_complement=False``, since only DNA has a reverse
        complement.
    shuffle_buffer : int, default=10000
        For lazy ``X`` (an ``h5py.Dataset``, a ``numpy.memmap``, a data set
        from :func:`skdeepsea.data.open_dataset`), samples read and shuffled
        together: the data are read in contiguous blocks (up to 512 samples,
        or whole storage chunks of the file), the blocks are permuted every
        pass, and each run of blocks adding up to ``shuffle_buffer`` samples
        is shuffled as a whole, with its reverse complements. Memory: two
        buffers of raw samples (1000 bp uint8: 4 KB a sample). An in-memory
        ``X`` is shuffled as a whole every pass.
    mixed_precision : {"bfloat16", "float16"} or None, default=None
        Build the network with Keras' mixed precision policy
        (``"mixed_bfloat16"`` or ``"mixed_float16"``): computations in 16-bit
        floats, weights in float32. For GPUs (bfloat16 on Ampere and newer,
        TPUs; float16 with loss scaling on older GPUs); CPUs gain nothing.
        The global Keras policy is left as it was.
    data_parallel : bool, default=False
        Train on all devices Keras sees (``keras.distribution.list_devices()``:
        every GPU, or every host of a multi-host JAX setup) with Keras'
        ``DataParallel`` distribution: weights replicated, each batch split
        across devices. JAX backend only; ``batch_size`` must be a multiple
        of the device count. The last batch of the validation set drops up to
        ``n_devices - 1`` samples so that it splits evenly (training batches
        are padded to full size). In a multi-process job
        (:func:`skdeepsea.distributed.initialize`) it is required: each
        process reads its share of every batch, process 0 writes the
        checkpoints. See docs/training-at-scale.md.
    checkpoint_dir : str, path-like or None, default=None
        Directory for training checkpoints. Every ``checkpoint_every`` steps
        and at each epoch's end, ``checkpoint.npz`` there is replaced
        atomically with the model's variables, the optimizer state, the step
        and shuffle position, the history and the best weights. A ``fit``
        that finds a checkpoint of the same training there resumes from it
        (after a crash, or with more ``epochs``) and ends after the same
        number of steps as an uninterrupted fit; a checkpoint of another
        training raises ValueError.
    checkpoint_every : int, default=1000
        Steps between checkpoints.
    warm_start : bool, default=False
        When the estimator is fitted already, ``fit`` continues training its
        network (and, when kept, its optimizer state) for ``epochs`` more
        epochs instead of starting anew, as scikit-learn's neural networks
        do. The data must have the same sequence length, targets and base
        order, and the network's parameters (sizes, architecture; the
        optimizer's when its state is kept) must be those it was fitted
        with: a changed one raises ValueError naming it (docs/training.md).
        A checkpoint in ``checkpoint_dir`` takes precedence.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, dropout, shuffling and the early
        stopping split; an int makes ``fit`` reproducible on the CPU for a
        given backend. Seeding resets Keras' global random state.
    verbose : int, default=0
        0 silent, 1 Keras' progress bar, 2 one line per epoch.
    threshold : float or array-like of float, default=0.5
        Decision threshold of :meth:`predict`: a sample is positive for a
        target when its probability exceeds the threshold. One number for all
        targets, or one per target in the order of ``target_names_``
        (multilabel); binary: one number, for the positive class. Multiclass
        predictions are the most probable class, so the threshold must stay
        0.5 there. Set it with ``set_params`` or tune it on held-out data with
        :meth:`tune_thresholds`; it does not change training.
    average_strands : bool, default="deprecated"
        Deprecated in 0.2, removed in 0.3: True is ``strand="mean"``, False
        ``strand="forward"``; given, it overrides ``strand`` with a
        ``FutureWarning``.

    Attributes
    ----------
    model_ : keras.Model
        The trained network.
    classes_ : ndarray
        Class labels (binary / multiclass), or ``arange(n_targets)``
        (multilabel).
    target_type_ : {"multilabel-indicator", "binary", "multiclass"}
        The kind of ``y`` seen in fit (scikit-learn's ``type_of_target``).
    target_names_ : ndarray of str
        Names of the outputs: the columns of a DataFrame ``y``, else the
        classes, else ``"target_0"``, ...
    n_features_in_ : int
        Features seen in fit (sequence_length * input_channels).
    sequence_length_ : int
        Sequence length seen in fit; predict requires the same.
    alphabet_ : str or None
        Channel order seen in fit; predict rejects a ``OneHotArray`` of
        another order (a plain array is taken to be in this order). None
        when ``input_channels != 4``.
    history_ : dict
        Per-epoch losses (and validation losses) of the last fit (of all
        its runs, when resumed from a checkpoint).
    n_steps_ : int
        Gradient steps taken by the last fit (resumed runs included).
    n_iter_ : int
        Epochs run by the last fit (resumed runs included).

    See Also
    --------
    skdeepsea.TargetClassifier : One target of a fitted model as a binary
        classifier (for ``CalibratedClassifierCV``, ``TunedThresholdClassifierCV``).
    skdeepsea.metrics.mean_roc_auc_scorer : The scorer :meth:`score` uses.

    Notes
    -----
    :meth:`score` is the mean ROC AUC over the targets, the DeepSEA paper's
    metric, not the accuracy that scikit-learn's classifiers score: a
    ``GridSearchCV`` or ``cross_val_score`` with ``scoring=None`` ranks models
    by ROC AUC. Name the scoring explicitly (``scoring=mean_roc_auc_scorer``,
    or ``"accuracy"``) to make the choice visible.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea import DeepSEAClassifier, OneHotDNA
    >>> from sklearn.pipeline import make_pipeline
    >>> rng = np.random.default_rng(0)
    >>> seqs = ["".join(rng.choice(list("ACGT"), 40)) for _ in range(40)]
    >>> y = np.array([("GATA" in s) for s in seqs], dtype=int)
    >>> pipe = make_pipeline(
    ...     OneHotDNA(),
    ...     DeepSEAClassifier(conv_filters=(8,), dropout=(0.1,), kernel_size=4,
    ...                       fc_units=8, epochs=2, random_state=0),
    ... ).fit(seqs, y)
    >>> pipe.predict_proba(seqs[:3]).shape
    (3, 2)
    """

    from ._engine.params import PARAMETER_CONSTRAINTS as _parameter_constraints

    def __init__(
        self,
        *,
        architecture="deepsea",
        l2=5e-7,
        l1_sparsity=1e-8,
        max_kernel_norm=0.9,
        dropout=None,
        conv_filters=None,
        kernel_size=None,
        pool_size=None,
        fc_units=None,
        lstm_units=None,
        optimizer="sgd",
        learning_rate=None,
        momentum=0.9,
        learning_rate_decay=0.0,
        batch_size=64,
        epochs=10,
        steps_per_epoch=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        strand="mean",
        add_reverse_complement=True,
        alphabet=None,
        input_channels=4,
        shuffle_buffer=10_000,
        mixed_precision=None,
        data_parallel=False,
        checkpoint_dir=None,
        checkpoint_every=1000,
        warm_start=False,
        random_state=None,
        verbose=0,
        threshold=0.5,
        average_strands=DEPRECATED,
    ):
        self.architecture = architecture
        self.l2 = l2
        self.l1_sparsity = l1_sparsity
        self.max_kernel_norm = max_kernel_norm
        self.dropout = dropout
        self.conv_filters = conv_filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.fc_units = fc_units
        self.lstm_units = lstm_units
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.strand = strand
        self.add_reverse_complement = add_reverse_complement
        self.alphabet = alphabet
        self.input_channels = input_channels
        self.shuffle_buffer = shuffle_buffer
        self.mixed_precision = mixed_precision
        self.data_parallel = data_parallel
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.threshold = threshold
        self.average_strands = average_strands

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags

    # ------------------------------------------------------------------ training

    def fit(self, X, y=None, sample_weight=None, *, validation_data=None):
        """Train the network, from scratch or from the checkpoint in ``checkpoint_dir``.

        In-memory arrays and lazy inputs (an ``h5py.Dataset``, a
        ``numpy.memmap``, a data set from :func:`skdeepsea.data.open_dataset`)
        are two batch sources of one training loop: lazy inputs are read from
        disk in shuffled blocks (see ``shuffle_buffer``) and never loaded whole.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4), or data set
            One-hot sequences (float, uint8 or bool), e.g. from ``OneHotDNA``;
            or a lazy array of shape (n_samples, L, 4); or a data set object
            with ``.X``, ``.Y``, ``.target_names`` and ``.alphabet`` (then ``y``
            is None, and ``target_names_`` and the alphabet come from it); or
            sequence records (Biopython ``Seq`` / ``SeqRecord``, pysam
            ``FastxFile`` records; a list or any iterable), encoded as
            ``OneHotDNA(alphabet=alphabet)`` does. Plain strings need an
            explicit ``OneHotDNA`` step.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            A 0/1 indicator matrix (one sigmoid output per column; a DataFrame's
            columns become ``target_names_``) or binary / multiclass labels. A
            lazy 2-D ``y`` is streamed too (0/1 indicator matrix only).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.
        validation_data : tuple (X_val, y_val) or data set, default=None
            A validation set, in memory or lazy, evaluated after every epoch
            (``val_loss`` in ``history_``); with ``early_stopping=True`` it
            decides when to stop and which weights to keep, instead of a
            ``validation_fraction`` split. It is used as given: no reverse
            complements are added.

        Returns
        -------
        self : DeepSEAClassifier
            The fitted estimator.
        """
        from ._engine.params import check_distribution, check_params, resolve_params
        from ._engine.prepare import prepare_training_data

        params = resolve_params(self.get_params())
        check_params(params)
        X = encode_records(X, self.alphabet, self.input_channels)
        devices = check_distribution(params)
        data = prepare_training_data(params, X, y, sample_weight, validation_data)
        warm_network = self._warm_network(data)
        network, state = self._train(params, data, devices, warm_network)
        return self._set_fitted(network, FittedState.from_training(data, state))

    def _warm_network(self, data):
        """The fitted network to continue training (warm_start), checked against the data.

        Its parameters too: a network built with other sizes, architecture or
        (when its optimizer state is kept) optimizer parameters than the
        estimator's now is refused, naming the changed one, as continuing it
        would train one network while ``get_params`` describes another.
        """
        from ._engine.params import check_warm_start, resolve_params

        if not self.warm_start or not hasattr(self, "model_"):
            return None
        if hasattr(self, "_network_params"):
            check_warm_start(self._network_params, resolve_params(self.get_params()),
                             keeps_optimizer=getattr(self.model_, "optimizer", None) is not None)
        fitted = (self.sequence_length_, self.target_type_, self.alphabet_,
                  list(map(str, self.classes_)))
        given = (data.sequence_length, data.encoder.target_type, data.alphabet,
                 list(map(str, data.encoder.classes)))
        if fitted != given:
            raise ValueError(
                "warm_start=True continues the fitted network, which was trained on (length, "
                f"target type, alphabet, classes) {fitted}; the data give {given}. Set "
                "warm_start=False to train a new network."
            )
        return self.model_

    def _train(self, params, data, devices, warm_network):
        """Build (or resume) the network and run the training loop; return (network, state)."""
        import keras

        from ._backend import enable_compilation_cache
        from ._engine.loop import TrainingState, fit_loop, training_fingerprint
        from ._engine.model import penalties_from
        from ._engine.prepare import training_batches, training_seeds
        from ._engine.processes import barrier, process_share

        enable_compilation_cache()
        share = process_share(devices)  # this process's slice of every batch
        multi = share.count > 1
        seed, shuffle_seed, checkpoint = training_seeds(params, multi)
        if seed is not None:
            keras.utils.set_random_seed(seed)
        batches, validation = training_batches(params, data, shuffle_seed=shuffle_seed,
                                               multiple=len(devices or [None]), share=share)
        fingerprint = training_fingerprint(params, data, batches, validation)
        try:
            if multi:
                _check_processes_agree(params, data, fingerprint, checkpoint, warm_network,
                                       (seed, shuffle_seed))
            with self._distribution_scope(devices):
                network, train_model = self._initialize(params, data, seed, warm_network)
                state = TrainingState(
                    batches, early_stopping=params["early_stopping"],
                    patience=params["n_iter_no_change"],
                    checkpoint_dir=params["checkpoint_dir"],
                    checkpoint_every=params["checkpoint_every"],
                    meta={"fingerprint": fingerprint, "shuffle_seed": shuffle_seed},
                    writer=share.writer, barrier=barrier if multi else None,
                )
                state.set_model(train_model)
                if checkpoint is not None:
                    state.resume(checkpoint, params["checkpoint_dir"])
                with penalties_from(network, train_model.get_layer("penalty_constants")):
                    fit_loop(train_model, batches, validation, state, params["epochs"],
                             params["verbose"] if share.writer else 0)
        finally:
            batches.close()  # the read-ahead threads
        if multi:
            from ._engine.processes import localized

            network = localized(network)  # an ordinary model of this process
        return network, state

    def _initialize(self, params, data, seed, warm_network):
        """The network (new, or the warm-started one) and its compiled training model."""
        from ._engine.model import (
            build_network,
            compile_for_training,
            make_loss,
            make_optimizer,
            training_model,
        )

        if warm_network is not None:
            network = warm_network
        else:
            network = build_network(params, data.sequence_length, data.encoder.n_outputs,
                                    data.encoder.activation, seed)
        augment = data.alphabet if params["add_reverse_complement"] else None
        train_model = training_model(network, augment, params["l2"], params["l1_sparsity"])
        optimizer = getattr(network, "optimizer", None) or make_optimizer(params)
        compile_for_training(network, train_model, optimizer,
                             make_loss(data.encoder.target_type, data.positive_weights))
        optimizer.build(train_model.trainable_variables)
        return network, train_model

    @staticmethod
    def _distribution_scope(devices):
        """Keras' DataParallel scope over ``devices``, or nothing."""
        import contextlib

        import keras

        if devices is None:
            return contextlib.nullcontext()
        # The batch sources feed each process its own share (auto-sharding is for tf.data only).
        return keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False).scope()

    def _set_fitted(self, network, state):
        """Every fitted attribute, in one place: after fit, :meth:`from_keras` and :meth:`load`.

        ``state`` is a ``_engine.fitted.FittedState``: each of its fields
        becomes the attribute of that name with a trailing underscore.
        """
        from ._engine.params import network_record

        self.model_ = network
        self._network_params = network_record(self.get_params())  # what warm_start checks
        for field in dataclasses.fields(state):
            setattr(self, field.name + "_", getattr(state, field.name))
        self.n_features_in_ = state.sequence_length * self.input_channels
        return self

    @classmethod
    def from_keras(cls, network, *, target_names=None, **params):
        """A fitted estimator around a Keras network trained elsewhere.

        The weight importers (:mod:`skdeepsea.pretrained`) make their
        estimators this way; so can a user who has built and trained a network
        of one-hot DNA with Keras. The network is used as given: ``params``
        should describe it (``architecture`` and the sizes), as saving,
        ``warm_start`` and ``get_params`` report them.

        Parameters
        ----------
        network : keras.Model
            Input of shape (batch, L, input_channels), one sigmoid output per
            target, in the base order ``alphabet``.
        target_names : list of str, default=None
            Names of the outputs; None: ``"target_0"``, ...
        **params
            Constructor parameters (``alphabet``, ``strand``, ``batch_size``,
            the sizes, ...), checked as :meth:`fit` checks them.

        Returns
        -------
        estimator : DeepSEAClassifier
            Fitted, multilabel (``target_type_`` "multilabel-indicator"),
            never trained here (``n_steps_`` 0, ``history_`` empty).

        Raises
        ------
        ValueError
            If a parameter is invalid, or the network's input or output does
            not match ``input_channels`` or ``target_names``.
        """
        from ._engine.inputs import fit_alphabet
        from ._engine.params import check_params, resolve_params

        estimator = cls(**params)
        check_params(resolve_params(estimator.get_params()))
        inputs, outputs = tuple(network.inputs[0].shape), tuple(network.outputs[0].shape)
        if len(inputs) != 3 or inputs[1] is None or inputs[2] != estimator.input_channels:
            raise ValueError(f"network has input shape {inputs}; from_keras needs (batch, L, "
                             f"{estimator.input_channels}) with L fixed (input_channels).")
        names = [f"target_{i}" for i in range(outputs[-1])] if target_names is None \
            else [str(name) for name in target_names]
        if len(outputs) != 2 or len(names) != outputs[-1]:
            raise ValueError(f"network has output shape {outputs} but {len(names)} target "
                             "names are given: one output column per target.")
        alphabet = fit_alphabet(estimator.alphabet, None, estimator.input_channels)
        return estimator._set_fitted(network, FittedState.multilabel(names, alphabet, inputs[1]))

    # ------------------------------------------------------------------ prediction

    def predict_proba(self, X):
        """Probabilities of each target or class.

        With ``strand="mean"`` the predictions for each sequence and
        its reverse complement are averaged (both computed on the device from
        one read of the sequence). Lazy inputs (an ``h5py.Dataset``, a
        ``numpy.memmap``, a data set object) are read batch by batch.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4), or data set
            One-hot sequences of the length and alphabet seen in fit, in
            memory or lazy; or sequence records of that length, encoded in
            ``alphabet_`` (see :meth:`fit`).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets) or (n_samples, n_classes)
            Multilabel: the probability of each target. Binary / multiclass:
            the probability of each class, columns in the order of ``classes_``.
        """
        proba = self.forward(X)
        if self.target_type_ == "binary":
            proba = np.hstack([1 - proba, proba])
        return proba

    def _strand(self):
        """``strand``, or the deprecated ``average_strands`` translated (with a FutureWarning)."""
        return renamed_strand(self.strand, "average_strands", self.average_strands,
                              type(self).__name__)

    def output_columns(self, targets=None):
        """The network's output columns for chosen targets, with one unique name each.

        Every analysis that selects outputs (variant scoring, mutagenesis,
        attribution, reports) asks the estimator this, so the columns are
        worked out in one place.

        Parameters
        ----------
        targets : str, int, list of str or int, or None, default=None
            Targets by name or index (:func:`skdeepsea.targets.target_indices`);
            None: all.

        Returns
        -------
        columns : skdeepsea.targets.OutputColumns
            ``indices`` (network output columns) and ``names`` (repeated
            names made unique with ``.1``, ``.2``, as pandas does). A binary
            model has one output, named by its positive class.
        """
        from .targets import OutputColumns, target_indices, unique_target_names

        check_is_fitted(self, "model_")
        names = [str(name) for name in self.target_names_]
        if self.target_type_ == "binary":
            names = names[1:]  # the single sigmoid output is the second class
        n_outputs = int(self.model_.outputs[0].shape[-1])
        if len(names) != n_outputs:
            names = [f"target_{i}" for i in range(n_outputs)]
        names = unique_target_names(names)
        indices = np.array(target_indices(names, targets), dtype=int)
        return OutputColumns(indices, [names[i] for i in indices])

    def forward_iter(self, X, *, targets=None, strand=None, batch_size=None, progress=False):
        """The network's outputs for ``X``, chunk by chunk: the one inference path.

        :meth:`predict_proba` and every analysis of the package predict
        through :meth:`forward` or this method (the network's graph itself
        stays reachable as ``model_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4), or data set
            As :meth:`predict_proba`: in memory or lazy, or sequence records.
        targets : str, int, list of str or int, or None, default=None
            Output columns to return (:meth:`output_columns`); None: all.
        strand : {"mean", "forward"} or None, default=None
            "mean": average each sequence's outputs with its reverse
            complement's (on the device); "forward": the sequence as given;
            None: the estimator's ``strand``.
        batch_size : int or None, default=None
            Sequences per forward pass; None: the estimator's ``batch_size``.
        progress : bool or str, default=False
            Show a progress bar (a string names it).

        Yields
        ------
        start, stop : int
            The rows of ``X`` of this chunk.
        outputs : ndarray of shape (stop - start, n_columns)
            float32 network outputs: sigmoid per target (binary: the positive
            class only), softmax for multiclass.
        """
        from ._backend import enable_compilation_cache
        from ._engine.inference import iter_predictions

        check_is_fitted(self, "model_")
        columns = None if targets is None else self.output_columns(targets).indices
        strand = check_strand(self._strand() if strand is None else strand)
        X, _, data_alphabet, _ = unpack_dataset(X, None, "X")
        X = encode_records(X, self.alphabet_, self.input_channels)
        X, input_alphabet = check_X(X, self.input_channels, sequence_length=self.sequence_length_,
                                    n_features=self.n_features_in_, alphabet=data_alphabet)
        check_predict_alphabet(self.alphabet_, input_alphabet)
        enable_compilation_cache()
        for start, stop, outputs in iter_predictions(
                self.model_, X, batch_size=batch_size or self.batch_size, progress=progress,
                average_strands_alphabet=self.alphabet_ if strand == "mean" else None):
            outputs = outputs.astype(np.float32, copy=False)
            yield start, stop, outputs if columns is None else outputs[:, columns]

    def forward(self, X, *, targets=None, strand=None, batch_size=None, progress=False):
        """The network's outputs for ``X``, as one array (see :meth:`forward_iter`).

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4), or data set
            As :meth:`predict_proba`.
        targets : str, int, list of str or int, or None, default=None
            Output columns to return; None: all.
        strand : {"mean", "forward"} or None, default=None
            None: the estimator's ``strand``.
        batch_size : int or None, default=None
            None: the estimator's ``batch_size``.
        progress : bool or str, default=False
            Show a progress bar.

        Returns
        -------
        outputs : ndarray of shape (n_samples, n_columns)
            float32 network outputs.
        """
        parts = [outputs for _, _, outputs in self.forward_iter(
            X, targets=targets, strand=strand, batch_size=batch_size, progress=progress)]
        if parts:
            return np.concatenate(parts)
        return np.empty((0, len(self.output_columns(targets).indices)), np.float32)

    def predict(self, X):
        """Predicted labels, cut at ``threshold``.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4)
            One-hot sequences, or sequence records (as :meth:`predict_proba`).

        Returns
        -------
        y : ndarray of shape (n_samples, n_targets) or (n_samples,)
            Multilabel: 1 where the probability exceeds the target's
            threshold. Binary: the positive class where its probability
            exceeds the threshold. Multiclass: the most probable class.

        Raises
        ------
        ValueError
            If ``threshold`` does not fit the targets seen in fit.
        """
        thresholds = self._decision_thresholds()
        proba = self.predict_proba(X)
        if self.target_type_ == "multilabel-indicator":
            return (proba > thresholds).astype(int)
        if self.target_type_ == "binary":
            return self.classes_[(proba[:, 1] > thresholds[0]).astype(int)]
        return self.classes_[np.argmax(proba, axis=1)]

    def _decision_thresholds(self):
        """``threshold`` checked against the fitted targets, one number per output column."""
        from ._engine.thresholds import decision_thresholds

        check_is_fitted(self, "model_")
        return decision_thresholds(self.threshold, self.target_type_, len(self.target_names_))

    def score(self, X, y, sample_weight=None):
        """Mean ROC AUC over the targets with both classes in ``y`` (not accuracy).

        The DeepSEA paper's metric, and the default score of model selection
        (``scoring=None``), where scikit-learn's classifiers score accuracy.
        For binary labels the ROC AUC, for multiclass the one-vs-rest mean.
        It does not depend on ``threshold``.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4)
            One-hot sequences, or sequence records.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in every target's ROC AUC (scikit-learn's
            weighted ``roc_auc_score``); the mean over targets is unweighted.
            Routed here by model selection when requested with
            ``set_score_request(sample_weight=True)``.

        Returns
        -------
        score : float
            Mean ROC AUC (0.5 when no target has both classes).

        See Also
        --------
        skdeepsea.metrics.mean_roc_auc_scorer : The same score, as a scorer.
        """
        return mean_roc_auc_scorer(self, X, y, sample_weight=sample_weight)

    def tune_thresholds(self, X, y, *, metric="f1", sample_weight=None):
        """Set ``threshold`` per target to maximise a metric on held-out data.

        Predicts ``X`` once and sets ``threshold`` (with ``set_params``) to the
        thresholds that :func:`skdeepsea.metrics.best_thresholds` finds. Use
        data not seen in training: thresholds tuned on the training data
        overfit. A target whose ``y`` holds one class keeps its threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4)
            Held-out one-hot sequences, or sequence records.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            Their labels: a 0/1 matrix (multilabel) or binary labels.
        metric : {"f1", "youden"}, default="f1"
            What to maximise per target: the F1 score of the positives, or
            Youden's J (true positive rate minus false positive rate).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        self : DeepSEAClassifier
            The estimator, with ``threshold`` set (a float for a binary
            model, a list of floats for a multilabel one).

        Raises
        ------
        ValueError
            For a multiclass model, or labels that do not match the targets.
        """
        from ._engine.thresholds import tuned_thresholds

        threshold = tuned_thresholds(
            y, lambda: self.predict_proba(X), self._decision_thresholds(),
            target_type=self.target_type_, classes=self.classes_,
            target_names=self.target_names_, metric=metric, sample_weight=sample_weight)
        return self.set_params(threshold=threshold)

    def target_classifier(self, target):
        """One target of this fitted multilabel model as a binary classifier.

        Parameters
        ----------
        target : str or int
            The target's name (in ``target_names_``) or index.

        Returns
        -------
        classifier : skdeepsea.TargetClassifier
            A binary view of the target that shares this model (no copy, no
            training), for ``CalibratedClassifierCV`` and
            ``TunedThresholdClassifierCV``.
        """
        from .single_target import TargetClassifier

        return TargetClassifier(self, target=target)

    # ------------------------------------------------------------------ persistence

    def save(self, path, *, include_optimizer=False):
        """Save the fitted estimator to one file (see :func:`skdeepsea.load`).

        The file is a zip archive holding the Keras model (``model.keras``)
        and the estimator's parameters and fitted attributes
        (``estimator.json``). It is written to a temporary name and renamed
        when complete.

        Parameters
        ----------
        path : str or path-like
            Destination, conventionally ending in ``.skdeepsea``.
        include_optimizer : bool, default=False
            Keep the optimizer's state (Adam's moments, SGD's momentum, the
            step count), for continued training with ``warm_start=True``; it
            doubles or triples the file. By default the file holds the
            weights: the size of the model.
        """
        check_is_fitted(self, "model_")
        persistence.save_estimator(self, path, include_optimizer=include_optimizer)

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`, on any Keras backend.

        Parameters
        ----------
        path : str or path-like
            File written by :meth:`save` (:func:`skdeepsea.load` reads the
            published DeepSEA weights too).

        Returns
        -------
        estimator : DeepSEAClassifier
            The fitted estimator.
        """
        params, network, fitted = persistence.read_estimator(path)
        if isinstance(params.get("average_strands"), bool):  # a file of 0.1
            params["strand"] = "mean" if params.pop("average_strands") else "forward"
        return cls(**params)._set_fitted(network, fitted)

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ returns __dict__ itself
        if "model_" in state:
            state["model_"] = persistence.model_to_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state["model_"] = persistence.model_from_bytes(state["model_"])
        super().__setstate__(state)


def _check_processes_agree(params, data, fingerprint, checkpoint, warm_network, seeds):
    """Refuse a multi-process fit whose processes differ in parameters, data or checkpoint."""
    from ._engine.processes import check_agreement, data_digest

    validation = data.validation or (None, None)
    record = dict(
        fingerprint, seeds=list(seeds), random_state=repr(params["random_state"]),
        **{name: params[name] for name in ("epochs", "early_stopping", "n_iter_no_change",
                                           "checkpoint_every", "warm_start")},
        checkpoint_dir=params["checkpoint_dir"] is not None,
        checkpoint_step=None if checkpoint is None else checkpoint[0]["step"],
        X=data_digest(data.X), y=data_digest(data.targets),
        sample_weight=data_digest(data.sample_weight),
        validation_X=data_digest(validation[0]), validation_y=data_digest(validation[1]),
        warm_network=None if warm_network is None else data_digest(
            np.concatenate([np.ravel(w) for w in warm_network.get_weights()])[:, None]),
    )
    check_agreement(record)


def load(path):
    """Load a :class:`DeepSEAClassifier` saved with its ``save`` method.

    Parameters
    ----------
    path : str or path-like
        File written by ``DeepSEAClassifier.save``.

    Returns
    -------
    estimator : DeepSEAClassifier
        The fitted estimator, ready to predict on the current Keras backend.
    """
    return DeepSEAClassifier.load(path)
