"""The training and inference engine behind :class:`skdeepsea.DeepSEAClassifier`.

A fit, in the order the estimator calls the parts:

- ``params``: every parameter checked before any work;
- ``inputs`` and ``targets``: the sequences (in memory or lazy, ``lazy``) and
  the labels checked and encoded; ``prepare`` gathers them, nothing set on
  the estimator;
- ``batches``: the batch sources, one for training (in-memory and lazy data
  alike: shuffled, fixed shape, uint8) and one for prediction / validation;
- ``model``: the network, its optimizer and loss, and the wrappers that cast
  and reverse complement on the device;
- ``loop``: one Keras ``fit`` over the batches, with one callback for
  history, early stopping and checkpoints;
- ``inference``: the one batched prediction every part of the package uses.
"""
