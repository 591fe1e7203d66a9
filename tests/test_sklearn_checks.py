"""scikit-learn's own estimator checks on a small DeepSEAClassifier.

The checks feed generic numeric data (blobs, iris), not DNA: strands are
neither added nor averaged, since permuting the channels of such data is not a
reverse complement of anything.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeepsea import DeepSEAClassifier

SMALL_FOR_CHECKS = DeepSEAClassifier(
    conv_filters=(8,),
    dropout=(0.0,),
    kernel_size=1,
    pool_size=1,
    fc_units=16,
    optimizer="adam",
    learning_rate=0.02,
    batch_size=32,
    epochs=40,
    average_strands=False,
    add_reverse_complement=False,
    random_state=0,
)

# Each entry: a check this estimator fails on purpose, and why.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [SMALL_FOR_CHECKS], expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
