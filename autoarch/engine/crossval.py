"""Cross-validated selection of the final model on small data (``crossval_rows``).

A fifth of a few hundred rows held out for validation is a handful of rows, and among fifty
trials several are right on all of them by chance: on ArrowHead (36 series, 8 of them for
validation) 13 of 58 trials scored 1.0, the final model was one of them, and it scored 0.59
on the test series where the nearest neighbours it passed over score 0.80. Below
``crossval_rows`` rows the ensemble is therefore selected again, once the search has
stopped, on out-of-fold outputs of every row: a shortlist of the trials (the members the
validation rows chose, then the others by validation loss, :data:`TRIALS` at most) and the
classical members are each fitted :data:`FOLDS` times from scratch, on all rows but one
fold, for the epochs (trees, iterations) chosen on validation, and predict that fold. The
selection then compares every candidate on all the rows, each predicted by a model that
never saw it, and no epoch was chosen on them. The final model is made from the selection
as before (each member retrained on all rows).
"""

import numpy as np

#: folds of the cross-validation; with the default ``validation_split`` of 0.2 each fold's
#: model fits on as many rows as a trial did, so the trial's epoch count carries over
FOLDS = 5
#: trials shortlisted for it at most
TRIALS = 5


def fold_rows(y, seed):
    """``[(fitting rows, held-out rows)]`` of :data:`FOLDS` shuffled folds over the rows of
    classes ``y``, stratified (every class then keeps rows in each fold's fitting part);
    None where a class has fewer rows than there are folds."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y).reshape(-1)
    if np.unique(y, return_counts=True)[1].min() < FOLDS:
        return None
    splitter = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros((len(y), 1)), y))


def out_of_fold(fit_predict, folds):
    """Every row's output from the model of the fold that held it out: ``fit_predict(fitting
    rows, held-out rows)`` returns the held-out rows' outputs, or None when it could not
    (then the whole is None)."""
    n_rows = sum(len(held_out) for _, held_out in folds)
    outputs = None
    for fitting, held_out in folds:
        predicted = fit_predict(fitting, held_out)
        if predicted is None:
            return None
        predicted = np.asarray(predicted, dtype="float64")
        if outputs is None:
            outputs = np.zeros((n_rows, *predicted.shape[1:]))
        outputs[held_out] = predicted
    return outputs


def shortlist(weights, losses):
    """The trials to cross-validate: those of ``weights`` (the selection on validation rows,
    heaviest first), then the others of ``losses`` (``{trial number: validation loss}``) from
    the lowest, :data:`TRIALS` in all; classical members (string keys) are not among them."""
    chosen = sorted((k for k in weights if not isinstance(k, str)), key=lambda k: -weights[k])
    rest = sorted((k for k in losses if k not in weights), key=lambda k: losses[k])
    return (chosen + rest)[:TRIALS]
