"""
ROC and precision-recall curves of a small model
================================================

A small DeepSEA-style network is trained for a few seconds on synthetic
sequences (:func:`~skdeepsea.datasets.make_chromatin_dataset`: random DNA with
JASPAR motifs planted in the centre, one target per motif and per pair of
motifs), then evaluated on held-out sequences the way the DeepSEA paper does:
per-target ROC AUC and PR AUC (:func:`skdeepsea.report.evaluation_table`),
curves of chosen targets, the distribution of the AUCs, and a comparison
with another model target by target.
"""

import matplotlib.pyplot as plt
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea.datasets import make_chromatin_dataset
from skdeepsea.plotting import (
    plot_auc_distribution,
    plot_model_comparison,
    plot_pr_curves,
    plot_roc_curves,
)
from skdeepsea.report import evaluation_table

sequences, Y, target_names = make_chromatin_dataset(
    1500, sequence_length=200, center_width=160, sites="consensus", motif_probability=0.3,
    random_state=0,
)
X = OneHotDNA().fit_transform(sequences)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=500, random_state=0)

# A small network: one convolution, no dropout, Adam; the published sizes are the defaults.
model = DeepSEAClassifier(
    conv_filters=(32,), kernel_size=12, pool_size=4, dropout=(0.0,), fc_units=32,
    optimizer="adam", learning_rate=0.005, batch_size=64, epochs=6, random_state=0,
)
model.fit(X_train, Y_train)
scores = model.predict_proba(X_test)       # strand-averaged probabilities, (500, n_targets)

# %%
# The per-target table: positives and negatives among the held-out
# sequences, ROC AUC and PR AUC. Targets with fewer than ``min_positives``
# positives get no AUC.

table = evaluation_table(Y_test, scores, target_names)
table

# %%
# ROC and precision-recall curves of three targets, chosen by name: two
# single motifs and a pair, which the network must combine.

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
plot_roc_curves(Y_test, scores, ["CTCF", "NRF1", target_names[-1]], target_names, ax=left)
plot_pr_curves(Y_test, scores, ["CTCF", "NRF1", target_names[-1]], target_names, ax=right)

# %%
# The ROC AUC of every target: with a full-size model and DeepSEA's targets
# the same call draws one box per class (DNase, TF, histone).

fig, ax = plt.subplots(figsize=(3.5, 4))
plot_auc_distribution(table, "roc_auc", ax=ax)

# %%
# Two models target by target: the same network trained for one epoch
# against the six-epoch one (``clone`` copies the parameters, not the fit).

one_epoch = clone(model).set_params(epochs=1).fit(X_train, Y_train)
table_one_epoch = evaluation_table(Y_test, one_epoch.predict_proba(X_test), target_names)
fig, ax = plt.subplots(figsize=(4.2, 4.2))
plot_model_comparison(table_one_epoch, table, "roc_auc", labels=("1 epoch", "6 epochs"), ax=ax)
