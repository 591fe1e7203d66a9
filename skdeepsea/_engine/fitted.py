"""What a fit leaves on a DeepSEAClassifier besides the network: one record for fit, import and load.

``DeepSEAClassifier._set_fitted(network, state)`` is the one method that sets
fitted attributes; training (:meth:`FittedState.from_training`), the weight
importers (:meth:`FittedState.multilabel`, through
``DeepSEAClassifier.from_keras``) and ``.skdeepsea`` files
(:meth:`FittedState.from_json`) each make a ``FittedState`` for it, and
:meth:`FittedState.to_json` writes one. A new fitted attribute is a new field
here, and so it is saved, loaded and imported alike.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class FittedState:
    """Every fitted attribute of a DeepSEAClassifier but ``model_``.

    ``n_features_in_`` is ``sequence_length * input_channels`` (a parameter),
    so it is derived, not stored.

    Parameters
    ----------
    target_type : {"multilabel-indicator", "binary", "multiclass"}
        ``target_type_``.
    classes : ndarray
        ``classes_``.
    target_names : ndarray of str
        ``target_names_``.
    alphabet : str or None
        ``alphabet_``.
    sequence_length : int
        ``sequence_length_``.
    history : dict, default={}
        ``history_``: per-epoch losses.
    n_steps : int, default=0
        ``n_steps_``: gradient steps taken.
    n_iter : int, default=0
        ``n_iter_``: epochs run.
    """

    target_type: str
    classes: np.ndarray
    target_names: np.ndarray
    alphabet: str | None
    sequence_length: int
    history: dict = dataclasses.field(default_factory=dict)
    n_steps: int = 0
    n_iter: int = 0

    @classmethod
    def from_training(cls, data, state):
        """The record of a fit: ``data`` a ``prepare.TrainingData``, ``state`` a ``loop.TrainingState``."""
        return cls(
            target_type=data.encoder.target_type, classes=np.asarray(data.encoder.classes),
            target_names=np.asarray(data.encoder.target_names), alphabet=data.alphabet,
            sequence_length=int(data.sequence_length), history=state.history,
            n_steps=int(state.step), n_iter=int(state.epochs_done),
        )

    @classmethod
    def multilabel(cls, target_names, alphabet, sequence_length):
        """The record of a network trained elsewhere: one sigmoid output per name, not trained here."""
        names = np.asarray([str(name) for name in target_names])
        return cls(target_type="multilabel-indicator", classes=np.arange(len(names)),
                   target_names=names, alphabet=alphabet, sequence_length=int(sequence_length))

    @classmethod
    def of(cls, estimator):
        """The record of a fitted estimator's attributes (for :meth:`to_json`)."""
        return cls(**{field.name: getattr(estimator, field.name + "_")
                      for field in dataclasses.fields(cls)})

    def to_json(self):
        """A JSON-ready dict (the ``fitted`` entry of a ``.skdeepsea`` file)."""
        record = {field.name + "_": getattr(self, field.name) for field in dataclasses.fields(self)}
        record.update(
            classes_=self.classes.tolist(), classes_dtype=self.classes.dtype.str,
            target_names_=self.target_names.tolist(),
            history_={"__dict_items__": [[k, list(v)] for k, v in self.history.items()]},
        )
        return record

    @classmethod
    def from_json(cls, record):
        """The record :meth:`to_json` wrote; files of 0.1.0 lack ``n_steps_`` / ``n_iter_``.

        Those files' counts are taken from their history (epochs) and, as
        ``n_steps_`` was not written, 0 steps.
        """
        history = record.get("history_") or {}
        if "__dict_items__" in history:
            history = {k: list(v) for k, v in history["__dict_items__"]}
        return cls(
            target_type=record["target_type_"],
            classes=np.array(record["classes_"], dtype=np.dtype(record["classes_dtype"])),
            target_names=np.array(record["target_names_"]),
            alphabet=record["alphabet_"], sequence_length=int(record["sequence_length_"]),
            history=history, n_steps=int(record.get("n_steps_", 0)),
            n_iter=int(record.get("n_iter_", len(history.get("loss", [])))),
        )
