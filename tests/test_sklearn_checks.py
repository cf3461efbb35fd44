"""scikit-learn's own estimator checks, run on real (small, fast) searches.

Two checks are listed as expected failures, for a reason outside autoarch:
``check_methods_sample_order_invariance`` and ``check_methods_subset_invariance`` compare
predictions of permuted rows, or of a subset, with ``rtol=1e-7``, below float32's resolution
(1.2e-7); TensorFlow's CPU kernels may change the last bit of a row's output with the
composition of its batch (seen: 4e-8 on 6 of 80 values; 4.8e-7 on 2 of 20 regression values
from the 2 x 256 MLP a table's first trial is), depending on the sampled architecture. scikit-learn skips ``check_array_api_input`` unless
``SCIPY_ARRAY_API=1`` is set (array-API inputs are not supported: the model runs on
TensorFlow).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from autoarch import AutoClassifier, AutoRegressor

# one trial of five epochs: a fixed, brisk learning rate, so the checks' training-score
# thresholds do not depend on which candidate the one random draw picks
FAST = dict(max_trials=1, epochs=5, strategy="random", final_fit=False,
            early_stopping_patience=None, seed=0, learning_rate=0.01)
FLOAT32_ORDER = ("float32 kernels: a row's last bit may change with its batch's rows, below "
                 "the check's rtol=1e-7")


def expected_failures(estimator):
    return {"check_methods_sample_order_invariance": FLOAT32_ORDER,
            "check_methods_subset_invariance": FLOAT32_ORDER}


@parametrize_with_checks([AutoClassifier(**FAST), AutoRegressor(**FAST)],
                         expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
