"""An estimator configured by a whole spec: its task, strategy, budget and training keys.

The ``autoarch`` command and the end-to-end benchmark both run specs this way, so a spec
means the same thing wherever it runs.
"""

from autoarch.estimators.base import AutoClassifier, AutoRegressor


def estimator_from_spec(spec, *, strategy=None, max_trials=None, epochs=None, time_limit=None,
                        isolate_trials=None, directory=None, verbose=0):
    """An unfitted :class:`AutoClassifier`/:class:`AutoRegressor` for a loaded ``spec``;
    the keyword arguments override the spec's own values when given."""
    budget, training = spec.budget, spec.training
    classification = (spec.task or "classification") == "classification"
    return (AutoClassifier if classification else AutoRegressor)(
        spec=spec.document, strategy=strategy or spec.strategy,
        strategy_options=None if strategy else spec.strategy_options,
        max_trials=max_trials or budget.get("max_trials", 10),
        time_limit=time_limit if time_limit is not None else budget.get("time_limit"),
        epochs=epochs or budget.get("epochs", 20),
        objective=spec.objective if spec.objective not in ("max", "min") else None,
        directory=directory, seed=spec.seed if spec.seed is not None else 0,
        batch_size=training.get("batch_size", 32),
        validation_split=training.get("validation_split", 0.2),
        search_data_fraction=budget.get("search_data_fraction", 1.0),
        search_epochs=budget.get("search_epochs"),
        early_stopping_patience=budget.get("early_stopping_patience", 3),
        curve_stopping=budget.get("curve_stopping", True),
        final_fit=budget.get("final_fit", True),
        max_consecutive_failures=budget.get("max_consecutive_failures", 5),
        distribution=training.get("distribution", "auto"),
        isolate_trials=isolate_trials or training.get("isolate_trials", False),
        trials_per_worker=training.get("trials_per_worker", 25), verbose=verbose)
