"""SNV scoring's third strategy, ``method="device"``: everything on the device.

Each SNV's reference window travels once, as uint8, with its ALT base's
one-hot row appended; the compiled step makes the alternative window and the
reverse complements and runs the network once on all of them.
"""

import weakref

import keras
import numpy as np

from .._engine.model import ReverseComplement


class SubstitutedWindows(keras.layers.Layer):
    """SNV windows made on the device: (reference, alternative), stacked on the batch axis.

    The input is a window with one extra row: the ALT base's one-hot row (zeros
    for N), put at ``position`` of the window's first ``L`` rows.

    Parameters
    ----------
    position : int
        The variant's index in the window.
    **kwargs
        Passed to ``keras.layers.Layer``.
    """

    def __init__(self, position, **kwargs):
        super().__init__(**kwargs)
        self.position = int(position)

    def call(self, packed):
        length = packed.shape[1] - 1
        reference, row = packed[:, :length], packed[:, length:]
        at = np.zeros((1, length, 1), dtype=bool)
        at[0, self.position] = True
        alternative = keras.ops.where(at, row, reference)
        return keras.ops.concatenate([reference, alternative], axis=0)

    def compute_output_shape(self, packed_shape):
        batch = None if packed_shape[0] is None else 2 * packed_shape[0]
        return (batch, packed_shape[1] - 1, packed_shape[2])

    def get_config(self):
        return dict(super().get_config(), position=self.position)


_SNV_PREDICTORS = weakref.WeakKeyDictionary()


def snv_predictor(network, alphabet, position, strands=2):
    """The model that predicts SNVs from their reference windows, everything on the device.

    It takes each SNV's reference window with its ALT base's one-hot row
    appended (shape ``(L + 1, C)``, uint8 as stored: the cast happens inside
    the compiled step), makes the alternative window there (the row put at
    ``position``) and, with ``strands=2``, the reverse complements of both
    (:class:`ReverseComplement`), runs the network once on all of them, and
    returns the per-strand outputs. Wrappers are cached per network.

    Parameters
    ----------
    network : keras.Model
        The network (its layers and weights are shared).
    alphabet : str
        Base order of the channels.
    position : int
        The variant's index in the window.
    strands : {1, 2}, default=2
        1: the forward windows only.

    Returns
    -------
    model : keras.Model
        Output of shape ``(n, 2 * strands, n_outputs)``, float32: reference
        and alternative of the forward windows, then of their reverse
        complements.
    """
    key = (alphabet, int(position), int(strands))
    cached = _SNV_PREDICTORS.setdefault(network, {})
    if key not in cached:
        length, channels = network.input_shape[1:]
        packed = keras.Input((length + 1, channels), name="sequence_and_alt")
        windows = SubstitutedWindows(position, name="substituted_windows")(packed)
        if strands == 2:
            complements = ReverseComplement(alphabet, name="reverse_complement")(windows)
            windows = keras.ops.concatenate([windows, complements], axis=0)
        outputs = keras.ops.cast(network(windows), "float32")
        # (2 * strands * b, T) -> (b, 2 * strands, T)
        outputs = keras.ops.transpose(
            keras.ops.reshape(outputs, (2 * strands, -1, outputs.shape[-1])), (1, 0, 2))
        cached[key] = keras.Model(packed, outputs, name=f"{network.name}_snv")
    return cached[key]
