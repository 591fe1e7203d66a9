"""
Sequence logos of the built-in motifs
=====================================

:func:`skdeepsea.datasets.load_motifs` holds the JASPAR matrices that
:func:`~skdeepsea.datasets.make_chromatin_dataset` plants in its sequences;
:func:`skdeepsea.plotting.plot_logo` draws a position frequency matrix as a
sequence logo (logomaker), in bits by default.
"""

import matplotlib.pyplot as plt

from skdeepsea.datasets import load_motifs
from skdeepsea.plotting import plot_logo

motifs = load_motifs()
fig, axes = plt.subplots(len(motifs), 1, figsize=(6, 1.6 * len(motifs)))
for ax, (name, (jaspar_id, pfm)) in zip(axes, motifs.items()):
    plot_logo(pfm, ax=ax, title=f"{name} ({jaspar_id})")

# %%
# ``information=False`` draws the probabilities themselves, each column
# summing to one.

fig, ax = plt.subplots(figsize=(6, 1.8))
plot_logo(motifs["CTCF"][1], ax=ax, title="CTCF, probabilities", information=False)
