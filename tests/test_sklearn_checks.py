"""scikit-learn's own estimator checks, run on real (small, fast) searches.

Every check passes, so no check is listed as an expected failure. scikit-learn skips
``check_array_api_input`` unless ``SCIPY_ARRAY_API=1`` is set (array-API inputs are not
supported: the model runs on TensorFlow).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from autoarch import AutoClassifier, AutoRegressor

FAST = dict(max_trials=1, epochs=5, strategy="random", final_fit=False,
            early_stopping_patience=None, seed=0)


@parametrize_with_checks([AutoClassifier(**FAST), AutoRegressor(**FAST)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
