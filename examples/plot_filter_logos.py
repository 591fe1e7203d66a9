"""
What the first-layer filters learned
====================================

:func:`skdeepsea.motifs.filter_motifs` turns each filter of the first
convolution into a position frequency matrix, counting the windows that
activate it most (Basset's method), and
:func:`skdeepsea.plotting.plot_filter_logos` draws the most informative ones.
Here the network is a small one trained for a few seconds on sequences with
JASPAR motifs planted in them, so its filters should recover parts of those
motifs; :func:`skdeepsea.motifs.motif_similarity` says which.
"""

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea.datasets import load_motifs, make_chromatin_dataset
from skdeepsea.motifs import filter_motifs, motif_similarity
from skdeepsea.plotting import plot_filter_logos

sequences, Y, target_names = make_chromatin_dataset(
    1500, sequence_length=200, center_width=160, sites="consensus", motif_probability=0.3,
    random_state=0,
)
X = OneHotDNA().fit_transform(sequences)
model = DeepSEAClassifier(
    conv_filters=(32,), kernel_size=12, pool_size=4, dropout=(0.0,), fc_units=32,
    optimizer="adam", learning_rate=0.005, batch_size=64, epochs=6, random_state=0,
).fit(X, Y)

motifs = filter_motifs(model, X, threshold=0.6)
motifs.summary().sort_values("information_content", ascending=False).head(8)

# %%
# The eight most informative filters with at least 20 sites; each title
# gives the filter's consensus, its number of sites and its information
# content.

figure = plot_filter_logos(motifs, n_top=8, min_sites=20)

# %%
# Each planted motif and the filter that matches it best (Pearson
# correlation of the overlapping columns, over offsets and both strands).

pfms = motifs.frequencies()
for name, (jaspar_id, pfm) in load_motifs().items():
    best = max(range(len(pfms)), key=lambda i: motif_similarity(pfms[i], pfm)[0])
    correlation, offset, strand = motif_similarity(pfms[best], pfm)
    print(f"{name:6s} {jaspar_id}: {motifs.names[best]}, r = {correlation:.2f} ({strand} strand)")
