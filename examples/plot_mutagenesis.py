"""
In silico mutagenesis heatmap
=============================

:func:`skdeepsea.variants.in_silico_mutagenesis` predicts every single-base
substitution of a sequence (recomputing only the convolution outputs each
substitution reaches, as fastISM does), and
:func:`skdeepsea.plotting.plot_mutagenesis` draws one target's scores as a
bases x positions heatmap, the reference base of each position outlined.
A small network trained for a few seconds on sequences with planted JASPAR
motifs should depend on the bases of the planted site.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea.datasets import make_chromatin_dataset
from skdeepsea.plotting import plot_mutagenesis
from skdeepsea.variants import in_silico_mutagenesis

sequences, Y, target_names = make_chromatin_dataset(
    1500, sequence_length=200, center_width=160, sites="consensus", motif_probability=0.3,
    random_state=0,
)
X = OneHotDNA().fit_transform(sequences)
# Targets as a DataFrame: the model keeps their names (``target_names_``).
Y = pd.DataFrame(Y, columns=target_names)
model = DeepSEAClassifier(
    conv_filters=(32,), kernel_size=12, pool_size=4, dropout=(0.0,), fc_units=32,
    optimizer="adam", learning_rate=0.005, batch_size=64, epochs=6, random_state=0,
).fit(X[:1000], Y.iloc[:1000])

# A held-out sequence with a planted CTCF site, the one predicted most confidently;
# in_silico_mutagenesis takes the sequence as a string.
ctcf = target_names.index("CTCF")
held_out = np.flatnonzero(Y["CTCF"].to_numpy()[1000:]) + 1000
best = held_out[np.argmax(model.predict_proba(X[held_out])[:, ctcf])]
result = in_silico_mutagenesis(model, sequences[best], start=20, end=180, targets=["CTCF"])
print(f"P(CTCF) of the sequence: {result.reference[0]:.3f}")

# %%
# The change in probability (``diff``: mutant minus reference) of every
# substitution in the central 160 bases: the planted sites stand out, most
# substitutions inside them lowering the prediction.

fig, ax = plt.subplots(figsize=(12, 2.6))
plot_mutagenesis(result, "CTCF", score="diff", ax=ax)

# %%
# The same scores as a table, one row per substitution, the strongest first.

frame = result.to_frame()
frame.reindex(frame["diff"].abs().sort_values(ascending=False).index).head(10)
