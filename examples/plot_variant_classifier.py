"""
From chromatin effects to disease: a variant classifier in a Pipeline
=====================================================================

DeepSEA's last step turns each variant's predicted chromatin effects into the
probability that it is a disease variant: a logistic regression on
``|[logfc, diff, conservation]|`` (:class:`skdeepsea.variants.VariantFeatures`).
Here a small network learns planted JASPAR motifs; "pathogenic" variants
break a planted motif, "benign" ones change a base elsewhere; and a
classifier of the features is tuned by ``GridSearchCV`` and scored on held-out
variants. Each variant is scored by the network once, whatever the size of
the grid: the features cache the scores with the model.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import RocCurveDisplay
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea.datasets import load_motifs, make_chromatin_dataset
from skdeepsea.variants import VariantFeatures

LENGTH = 200
sequences, Y, target_names = make_chromatin_dataset(
    2000, sequence_length=LENGTH, center_width=160, sites="consensus", motif_probability=0.3,
    random_state=0,
)
model = DeepSEAClassifier(
    conv_filters=(32,), kernel_size=12, pool_size=4, dropout=(0.0,), fc_units=32,
    optimizer="adam", learning_rate=0.005, batch_size=64, epochs=8, random_state=0,
).fit(OneHotDNA().fit_transform(sequences), pd.DataFrame(Y, columns=target_names))

# %%
# A genome of one contig per variant, each holding a 200 bp window centred on
# the variant (its base at index 99, where DeepSEA puts it) between 50 bp
# flanks. Every window holds a FOS site in FOS's slot (bases 84 to 115, the
# slot that covers the centre); a pathogenic variant changes a base of it, a
# benign one the base at the centre of a window whose site lies beside it.

rng = np.random.default_rng(1)
_, fos = load_motifs()["FOS"]
site = "".join("ACGT"[i] for i in np.argmax(fos, axis=1))
centre = LENGTH // 2 - 1
records, rows, labels = [], [], []
for i in range(240):
    window = list(rng.choice(list("ACGT"), LENGTH))
    pathogenic = i % 2 == 0
    start = int(rng.integers(centre - len(site) + 1, centre + 1) if pathogenic
                else rng.integers(84, centre - len(site) + 1))
    window[start:start + len(site)] = site
    ref = window[centre]
    alt = rng.choice([b for b in "ACGT" if b != ref])
    flanks = ["".join(rng.choice(list("ACGT"), 50)) for _ in range(2)]
    records.append((f"v{i}", flanks[0] + "".join(window) + flanks[1]))
    rows.append((f"v{i}", 50 + centre + 1, ref, alt))
    labels.append(int(pathogenic))
genome = os.path.join(tempfile.mkdtemp(), "genome.fa")
with open(genome, "w") as f:
    f.writelines(f">{name}\n{sequence}\n" for name, sequence in records)
variants = pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt"])
labels = np.array(labels)
variants.head()

# %%
# The Pipeline: DeepSEA's features, standardised, and a logistic regression
# whose regularisation is chosen by cross-validation on the training
# variants, as DeepSEA's classifiers were trained.

train, test = train_test_split(np.arange(len(variants)), test_size=0.3, stratify=labels,
                               random_state=0)
pipe = make_pipeline(VariantFeatures(model, genome), StandardScaler(),
                     LogisticRegression(max_iter=2000))
search = GridSearchCV(pipe, {"logisticregression__C": np.logspace(-3, 1, 9)}, cv=4,
                      scoring="roc_auc").fit(variants.iloc[train], labels[train])
print(f"best C: {search.best_params_['logisticregression__C']:.3g}, "
      f"cross-validated ROC AUC {search.best_score_:.3f}")
print(f"variants scored by the network: {sum(VariantFeatures.cache_info(model).values())} "
      f"(grid of 9 settings x 4 folds + the refit)")

# %%
# On the held-out variants:

fig, ax = plt.subplots(figsize=(4.5, 4.5))
RocCurveDisplay.from_estimator(search, variants.iloc[test], labels[test], ax=ax,
                               name="features + logistic regression")
ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
ax.set_title("Held-out variants")

# %%
# DeepSEA's published classifiers
# -------------------------------
#
# :func:`skdeepsea.variants.load_deepsea_classifiers` reads DeepSEA v0.94's
# eQTL, GWAS and HGMD logistic regressions (its ``logistic/`` folder) as the
# same kind of fitted Pipeline (``StandardScaler`` and ``LogisticRegression``
# with DeepSEA's constants). They are not applied here: their 1,842
# coefficients weigh the ``logfc`` and ``diff`` of DeepSEA's 919 chromatin
# targets, in DeepSEA's order, as predicted by DeepSEA's published weights.
# Features of any other model (this one predicts 5 synthetic targets) mean
# nothing to them, so the package refuses a model whose targets are not
# DeepSEA's. With the published weights and the DeepSEA v0.94 folder::
#
#     from skdeepsea import load
#     from skdeepsea.variants import load_deepsea_classifiers
#
#     deepsea = load("deepsea_predict.pth")          # with predictor.names beside it
#     features = VariantFeatures(deepsea, "hg19.fa").fit_transform(variants)
#     for name, classifier in load_deepsea_classifiers("DeepSEA-v0.94").items():
#         print(name, classifier.predict_proba(features)[:, 1])
#
# or, for a whole VCF with e-values and the functional significance score,
# ``skdeepsea variant-effects --model deepsea_predict.pth --vcf variants.vcf
# --genome hg19.fa --out scores.h5 --deepsea-resources DeepSEA-v0.94``.
