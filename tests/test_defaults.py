"""The default path: budgets that mean what they say, ensembles of trials as one Keras model,
order-aware candidates for flat signals, a bag-of-n-grams text encoder and a log transform for
skewed regression targets."""

import io
import os
import time
import zipfile

import keras
import keras_tuner as kt
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.datasets import load_breast_cancer, load_digits

from autoarch import AutoClassifier
from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace, RegressionHead, TextBlock
from autoarch.blocks.base import Block, choice
from autoarch.blocks.text import words
from autoarch.config import DEFAULT_LIMITS
from autoarch.engine.journal import Journal
from autoarch.engine.search import RETRAINING_MARGIN, ModelSearch
from autoarch.ensemble import ensemble_model, greedy_selection, loss as ensemble_loss
from autoarch.ensemble import score as ensemble_score
from autoarch.export import export_model
from autoarch.inputs import SignalInput, TabularInput, TextInput, infer_kind
from autoarch.report import members_line

TINY = dict(strategy="random", seed=0, early_stopping_patience=None, curve_stopping=False,
            isolate_trials=False)


def _tiny_space():
    return ModelSpace([DenseBlock(num_layers=1, units=[4, 8, 16], dropout=0.0, batch_norm=False,
                                  activation=["relu", "tanh"]),
                       ClassificationHead(num_classes=2, dropout=0.0)])


def _tiny_data(rows=120):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3)).astype("float32")
    return {"input": x}, (x[:, 0] + x[:, 1] > 0).astype("int32")


# -- budgets -----------------------------------------------------------------------------------
def test_max_trials_stops_at_its_count_and_the_journal_says_so(tmp_path):
    x, y = _tiny_data()
    search = ModelSearch(_tiny_space(), max_trials=3, epochs=1, directory=tmp_path,
                         **TINY).fit(x, y)
    assert search.study.n_finished == 3
    summary = [r for r in Journal(tmp_path).read() if r["event"] == "summary"]
    assert len(summary) == 1 and summary[0]["stopped_by"] == "max_trials"
    assert summary[0]["trials"] == 3 and summary[0]["total_seconds"] > 0


def test_an_estimators_patience_of_zero_never_stops_early(tmp_path):
    """None in an estimator keeps the default patience (3); 0 turns early stopping off."""
    x, y = _tiny_data()
    runs = {}
    for patience in (1, 0):
        clf = AutoClassifier(max_trials=1, epochs=6, learning_rate=1e-9, final_fit=False,
                             ensemble_size=1, **{**TINY, "early_stopping_patience": patience})
        runs[patience] = clf.fit(x["input"], y).search_results_[0]["metrics"]["epochs_run"]
    assert runs == {1: 2, 0: 6}  # nothing improves at this learning rate


def test_time_limit_alone_searches_until_the_time_is_spent_and_returns_in_time(tmp_path):
    """No max_trials: the search goes on until the time is spent, the final fit included."""
    x, y = _tiny_data()
    limit = 15.0
    # Hundreds of configurations, so a fast machine does not exhaust them before the limit.
    space = ModelSpace([DenseBlock(num_layers=1, units=list(range(4, 260)), dropout=0.0,
                                   batch_norm=False, activation=["relu", "tanh"]),
                        ClassificationHead(num_classes=2, dropout=0.0)])
    started = time.monotonic()
    search = ModelSearch(space, time_limit=limit, epochs=1, directory=tmp_path,
                         **TINY).fit(x, y)
    elapsed = time.monotonic() - started
    assert search.summary["max_trials"] is None  # no trial count in force, default or not
    assert search.summary["stopped_by"] == "time_limit" and search.study.n_finished > 2
    assert elapsed <= limit * 1.1 + 5, elapsed


def test_the_time_limit_counts_from_the_call_preparing_the_data_included(tmp_path):
    """A table's column ranking (a gradient boosting model and its permutation importance)
    runs before the first trial, on the search's clock."""
    frame, y = _table_with_noise(10000)
    kind = TabularInput("input").fit(frame)
    space = ModelSpace([*kind.default_blocks(), ClassificationHead(num_classes=2)],
                       inputs={"input": kind})
    started = time.monotonic()
    search = ModelSearch(space, time_limit=8, epochs=1, directory=tmp_path, ensemble_size=1,
                         **TINY).fit({"input": frame}, y)
    elapsed = time.monotonic() - started
    assert next(space.all_blocks()).importance is not None  # the ranking ran
    assert search.summary["total_seconds"] >= elapsed - 0.3, (elapsed, search.summary)


def test_the_final_refit_is_kept_inside_the_time_limit(tmp_path):
    """Long trials (50 epochs do not fit): the search stops early enough for the winner's
    retraining, and the whole fit returns within the limit + 10% + a few seconds."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    limit = 12.0
    started = time.monotonic()
    search = ModelSearch(ModelSpace([DenseBlock(), ClassificationHead(num_classes=2)]),
                         time_limit=limit, epochs=50, directory=tmp_path, ensemble_size=1,
                         **TINY).fit({"input": x}, y)
    elapsed = time.monotonic() - started
    assert elapsed <= limit * 1.1 + 5, elapsed
    assert search.summary["final_model"].startswith(f"trial {search.study.best_trial.number}")


def test_a_deadline_within_an_epoch_stops_after_the_batch_that_passes_it():
    """Trials and retrainings stop at their deadline within an epoch (one slow epoch had
    overrun the final model's time by 21 s), and Keras still validates the epoch so far;
    at an epoch's end otherwise (the supernets' phases checkpoint whole epochs)."""
    from autoarch.engine.trainer import Deadline

    x = np.random.default_rng(0).normal(size=(640, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    seen = {}
    for mid_epoch in (True, False):
        deadline = Deadline(time.monotonic() - 1.0, mid_epoch=mid_epoch)  # already passed
        batches, history = _fit_counting_batches(x, y, deadline, epochs=3,
                                                 validation_split=0.25)
        seen[mid_epoch] = (batches, len(history["val_loss"]), deadline.cut)
    assert seen[True][0] <= 2 and seen[True][1:] == (1, True)  # one batch, validated
    assert seen[False] == (48, 1, False)  # the whole first epoch: 480 rows in tens


def test_a_deadline_keeps_room_for_the_passes_over_the_validation_rows_after_it():
    """After the cut Keras validates the epoch so far and the trial predicts its validation
    rows: a conv net cut on 20,000 images spent 20 s on them past a 40 s limit. So the cut
    comes that much earlier: two forward passes estimated from the epoch's later steps, or
    twice the last validation pass once one was made."""
    from autoarch.engine.trainer import Deadline

    x = np.random.default_rng(0).normal(size=(6000, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    runs = {}
    for rows in (0, 10 ** 12):  # rows to predict after the stop: none, or too many for an hour
        deadline = Deadline(time.monotonic() + 3600, mid_epoch=True, predict_rows=rows,
                            batch_size=10)
        batches, history = _fit_counting_batches(x[:5000], y[:5000], deadline, epochs=1,
                                                 validation_data=(x[5000:], y[5000:]))
        runs[rows] = (batches, deadline.cut, len(history["val_loss"]))
        assert deadline.validation_seconds > 0
        assert deadline.after_stop() == (2 * deadline.validation_seconds if rows else 0.0)
    assert runs[0] == (500, False, 1)  # the whole epoch: nothing kept room for
    assert runs[10 ** 12][1:] == (True, 1) and runs[10 ** 12][0] < 100  # cut, validated


def _fit_counting_batches(x, y, deadline, **fit_args):
    """A logistic regression of ``x``'s three columns fitted by Keras in batches of ten under
    ``deadline``: ``(batches trained, history)``."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    batches = []
    counter = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batches.append(batch))
    history = model.fit(x, y, batch_size=10, verbose=0, callbacks=[counter, deadline],
                        **fit_args).history
    return len(batches), history


class _SlowToBuild(Block):
    """A candidate whose building takes a second and a half (as a wide table's 6.6 million
    weights took 2.9 s)."""

    kind = "slow_to_build"

    def build(self, hp, inputs):
        time.sleep(1.5)
        return inputs


def test_a_trial_s_seconds_count_from_its_task_building_included(tmp_path):
    """A trial's ``seconds_left`` counts from when its task arrives: counted from the start
    of ``fit``, a wide table's first trial trained past the search's time limit by its
    building's 2.9 s. Given a second and building for one and a half, the trial stops after
    its first batch."""
    from autoarch.config import Budget, Training
    from autoarch.engine.trainer import TrialTrainer
    from autoarch.inputs import SequenceInput

    x = np.random.default_rng(0).normal(size=(64, 3, 1)).astype("float32")
    y = (x[:, 0, 0] > 0).astype("int32")
    space = ModelSpace([_SlowToBuild(), ClassificationHead(num_classes=2)],
                       inputs={"input": SequenceInput("input").fit(x)})
    trainer = TrialTrainer(space, ({"input": x}, y), ({"input": x}, y),
                           ("val_accuracy", "max"), Budget(early_stopping_patience=0,
                                                           curve_stopping=False), Training())
    params = space.hyperparameters().values
    info = {}
    metrics = trainer.run({"params": params, "seed": 0, "epochs": 500, "seconds_left": 1.0,
                           "model_path": str(tmp_path / "m.keras"),
                           "predictions_path": str(tmp_path / "m.npy")},
                          lambda *args: None, info)
    assert metrics["setup_seconds"] >= 1.5
    assert info["stopped"] == "time_limit reached within an epoch"
    assert metrics["epochs_run"] == 1 and metrics["epoch_cut"]


def test_neither_limit_means_the_documented_default():
    from autoarch.config import Budget

    assert Budget().limits() == (DEFAULT_LIMITS["max_trials"], DEFAULT_LIMITS["time_limit"])
    assert Budget(time_limit=30).limits() == (None, 30)
    assert Budget(max_trials=4).limits() == (4, None)


# -- ensembles ---------------------------------------------------------------------------------
def _member(seed, inputs=3, outputs=4):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((inputs,), name="input"),
                             keras.layers.Dense(outputs, activation="softmax")])


def test_ensemble_output_is_the_weighted_average_of_its_members():
    members = [_member(1), _member(2), _member(3)]
    weights = [0.5, 0.3, 0.2]
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    expected = sum(w * m.predict(x, verbose=0) for w, m in zip(weights, members))
    got = ensemble_model(members, weights).predict(x, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_an_ensemble_saves_its_trained_members_without_their_optimizers(tmp_path):
    """A trained member's optimizer state (Adam: twice its weights) is no part of the
    ensemble: the archive holds the members' weights and the ensemble's own optimizer."""
    import h5py

    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    members = [_member(1), _member(2)]
    for member in members:
        member.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        member.fit(x, np.arange(32) % 4, epochs=1, verbose=0)
    model = ensemble_model(members, [0.5, 0.5])
    expected = sum(0.5 * m.predict(x, verbose=0) for m in members)
    export_model(model, str(tmp_path / "m.keras"))
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        saved = []
        weights.visititems(lambda name, item: saved.append(name)
                           if isinstance(item, h5py.Dataset) else None)
    optimizers = {name.split("optimizer/")[0] for name in saved if "optimizer/" in name}
    assert optimizers == {""}  # the ensemble's alone, none inside a member
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert loaded.compiled and not loaded.get_layer("member_0").compiled


@pytest.mark.parametrize("fmt", ["keras", "savedmodel", "tflite"])
def test_ensemble_exports_and_reloads_with_the_same_predictions(tmp_path, fmt):
    model = ensemble_model([_member(1), _member(2)], [0.6, 0.4])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    target = str(tmp_path / {"keras": "m.keras", "savedmodel": "saved", "tflite": "m.tflite"}[fmt])
    export_model(model, target, fmt)
    if fmt == "keras":
        got = keras.models.load_model(target, safe_mode=True).predict(x, verbose=0)
    elif fmt == "savedmodel":
        loaded = tf.saved_model.load(target)
        got = loaded.serve(x).numpy()
    else:
        runner = tf.lite.Interpreter(model_path=target).get_signature_runner()
        got = np.concatenate([next(iter(runner(**{name: x[i:i + 1]}).values()))
                              for i in range(len(x))
                              for name in [next(iter(runner.get_input_details()))]])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_greedy_selection_keeps_what_helps_and_never_scores_below_the_best_member():
    y = np.array([0, 1, 0, 1])
    confident_wrong_on_one = np.array([[.9, .1], [.1, .9], [.9, .1], [.9, .1]])  # 3/4
    other_view = np.array([[.6, .4], [.4, .6], [.4, .6], [.2, .8]])  # 3/4
    members = {"a": confident_wrong_on_one, "b": other_view}
    weights, score = greedy_selection(members, y, True, size=4)
    assert set(weights) == {"a", "b"} and sum(weights.values()) == pytest.approx(1.0)
    blend = sum(w * members[k] for k, w in weights.items())
    assert score == pytest.approx(ensemble_score(blend, y, True))  # the weighted average's
    assert -score[1] < min(ensemble_loss(m, y, True) for m in members.values())
    perfect = np.array([[1., 0.], [0., 1.], [1., 0.], [0., 1.]])
    weights, score = greedy_selection({"a": confident_wrong_on_one, "p": perfect}, y, True, 5)
    assert weights == {"p": 1.0} and score[0] == 1.0
    regression, _ = greedy_selection({"low": np.array([0., 0.]), "high": np.array([2., 2.])},
                                     np.array([1., 1.]), False, 2)
    assert regression == {"low": 0.5, "high": 0.5}


def test_selection_minimises_log_loss_rather_than_counting_right_rows():
    """One member right on all 20 rows by a hair (0.51), one right on 19 with confidence and
    wrong on one: accuracy would take the first; log loss takes the second, alone (blending
    in the first only adds loss)."""
    y = np.array([0, 1] * 10)
    by_a_hair = np.where(y[:, None] == np.arange(2), 0.51, 0.49)
    confident = np.where(y[:, None] == np.arange(2), 0.95, 0.05)
    confident[0] = [0.4, 0.6]
    weights, score = greedy_selection({"by_a_hair": by_a_hair, "confident": confident}, y,
                                      True, size=5)
    assert weights == {"confident": 1.0} and score[0] == 0.95


@keras.saving.register_keras_serializable(package="tests")
class TakeColumn(keras.layers.Layer):
    def __init__(self, column, **kwargs):
        super().__init__(**kwargs)
        self.column = column

    def call(self, x):
        return x[:, self.column:self.column + 1]

    def get_config(self):
        return {**super().get_config(), "column": self.column}


class OneColumn(Block):
    """A candidate that sees only one column: two such candidates know different halves."""

    kind = "one_column"

    def search_space(self):
        return {"column": choice(0, 1)}

    def build(self, hp, inputs):
        return TakeColumn(self.declare(hp)["column"])(inputs)


def _two_column_search(directory, **settings):
    """y depends on two columns and each of the two trials sees one."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    space = ModelSpace([OneColumn(), DenseBlock(num_layers=1, units=8, dropout=0.0,
                                                batch_norm=False, activation="relu"),
                        ClassificationHead(num_classes=2, dropout=0.0)],
                       training={"learning_rate": 0.05})
    search = ModelSearch(space, max_trials=2, epochs=15, directory=directory,
                         **{**TINY, "strategy": "grid"}, **settings).fit({"input": x}, y)
    return search, x, y


def test_a_search_ensembles_trials_that_know_different_things(tmp_path):
    """Together the trials beat either; without final_fit the members are the trials' own
    models."""
    search, x, y = _two_column_search(tmp_path, final_fit=False)
    best_single = search.study.best_value
    members = {m["trial"]: m["weight"] for m in search.ensemble["members"]}
    assert set(members) == {0, 1} and sum(members.values()) == pytest.approx(1.0, abs=1e-3)
    assert search.ensemble["validation_score"][0] > best_single
    assert search.summary["final_model"] == "ensemble"
    parts = [keras.models.load_model(tmp_path / "trials" / f"trial_{n}.keras", safe_mode=True)
             for n in members]
    expected = sum(members[n] * m.predict(x, verbose=0) for n, m in zip(members, parts))
    np.testing.assert_allclose(search.best_model.predict(x, verbose=0), expected, rtol=1e-3,
                               atol=1e-4)
    accuracy = np.mean((search.best_model.predict(x, verbose=0)[:, 0] > 0.5) == y)
    assert accuracy > max(np.mean((m.predict(x, verbose=0)[:, 0] > 0.5) == y) for m in parts)


def test_ensemble_members_are_retrained_on_all_rows_and_join_their_trial_models(tmp_path):
    """With final_fit (the default) each member is its trial retrained on training +
    validation rows beside the trial's own model, the two sharing the member's weight."""
    search, x, y = _two_column_search(tmp_path)
    members = search.ensemble["members"]
    assert [m["retrained"] for m in members] == [True, True]
    inner = [layer for layer in search.best_model.layers if isinstance(layer, keras.Model)]
    assert len(inner) == 4  # per member: its retraining, then its trial model
    trial_models = [keras.models.load_model(tmp_path / "trials" / f"trial_{m['trial']}.keras",
                                            safe_mode=True) for m in members]
    for i, trial in enumerate(trial_models):
        retrained, kept = (layer.predict(x, verbose=0) for layer in inner[2 * i:2 * i + 2])
        np.testing.assert_allclose(kept, trial.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
        assert not np.allclose(retrained, kept)  # new weights, not the trial's
    expected = sum(m["weight"] / 2 * model.predict(x, verbose=0)
                   for m, model in zip([m for m in members for _ in range(2)], inner))
    np.testing.assert_allclose(search.best_model.predict(x, verbose=0), expected, rtol=1e-3,
                               atol=1e-4)
    accuracy = np.mean((search.best_model.predict(x, verbose=0)[:, 0] > 0.5) == y)
    assert accuracy > max(np.mean((m.predict(x, verbose=0)[:, 0] > 0.5) == y) for m in inner)


def test_the_time_kept_for_the_final_model_is_for_the_ensembles_members(tmp_path):
    """The reserve covers the trials the final model would retrain now: the ensemble's
    members, not the best few by score (a member ranked below them went untrained on the
    validation rows); without an ensemble, the best trial's; none for a retraining longer
    than a third of the limit, which the final model could not make."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    space = ModelSpace([OneColumn(), DenseBlock(num_layers=1, units=choice(2, 8), dropout=0.0,
                                                batch_norm=False, activation="relu"),
                        ClassificationHead(num_classes=2, dropout=0.0)],
                       training={"learning_rate": 0.05})
    search = ModelSearch(space, max_trials=4, epochs=8, directory=tmp_path,
                         **{**TINY, "strategy": "grid"}).fit({"input": x}, y)
    members = [m["trial"] for m in search.ensemble["members"]]
    assert len(search.study.trials) == 4 and len(members) < 3  # one trial per column
    assert sorted(search._to_retrain()) == sorted(members)
    assert all(m["retrained"] for m in search.ensemble["members"])
    search._deadline = search._started + 1000.0  # a third of it does not bind the reserve
    refits = {n: search._refit_seconds(search.study.trials[n]) for n in range(4)}
    assert all(s > 0 for s in refits.values())
    assert search._reserve() == pytest.approx(
        sum(refits[n] for n in members) + search._classical_refit_seconds() + 2.0)
    search.config.ensemble_size = 1
    best = search.study.best_trial.number
    assert search._to_retrain() == [best]
    assert search._reserve() == pytest.approx(refits[best] + search._classical_refit_seconds() +
                                              2.0)
    # a retraining longer than a third of the limit could not be made: no room is kept
    search._deadline = search._started + 3 * (refits[best] / 2 +
                                               search._classical_refit_seconds() + 2.0)
    assert search._reserve() == pytest.approx(search._classical_refit_seconds() + 2.0)


def _reviews(noise):
    """240 four-word reviews, labelled 1 where two or more of their words are negative; each
    label flipped with probability ``noise``."""
    rng = np.random.default_rng(0)
    words_ = np.array(["good", "bad", "fine", "poor", "nice", "awful", "okay", "meh"])
    texts = np.array([" ".join(rng.choice(words_, 4)) for _ in range(240)], dtype=object)
    labels = np.array([int(sum(w in ("bad", "poor", "awful") for w in t.split()) > 1) ^
                       int(noise > 0 and rng.random() < noise) for t in texts])
    return texts, labels


def test_past_the_deadline_the_final_selection_needs_no_retraining(tmp_path):
    """A last text trial told after the deadline leaves the final selection less than no
    time: members were left out until none was left, and ``max()`` of nothing raised (a
    40 s search on 30,000 texts). A selection that needs no retraining (one member, or
    the linear members alone) now stands."""
    texts, labels = _reviews(noise=0.0)
    space = ModelSpace([TextBlock(), ClassificationHead(num_classes=2)],
                       inputs={"input": TextInput("input").fit(texts)})
    search = ModelSearch(space, max_trials=2, epochs=2, time_limit=900, directory=tmp_path,
                         ensemble_size=8, final_fit=False, **TINY).fit({"input": texts},
                                                                       labels)
    search.config.budget.final_fit = True  # as if the final model were still to be made
    assert search._refit_needed() and search._classical
    search._deadline = time.monotonic() - 5.0
    weights, _ = search._ensemble(final=True)
    assert weights and search._members_seconds(weights) == 0.0


def test_text_members_are_chosen_among_trials_whose_retrainings_fit_in_the_time_left(
        tmp_path):
    """Texts need their members retrained (a text trial model is 1.5-2.5 points below its
    retraining): where their retrainings do not fit, the selection leaves out the member
    whose absence leaves the best selection that fits (not the slowest for its weight, which
    once dropped 42 s of a text ensemble 2.5 s too long); a member not retrained in time is
    left out and the rest selected again; a trial keeps room for its own retraining should it
    join them, and none starts that could not train one epoch in the time it would have."""
    texts, labels = _reviews(noise=0.15)
    kind = TextInput("input").fit(texts)
    space = ModelSpace([TextBlock(), ClassificationHead(num_classes=2)], inputs={"input": kind})
    search = ModelSearch(space, max_trials=4, epochs=3, time_limit=900, directory=tmp_path,
                         ensemble_size=8, final_fit=False, text_linear=False,  # trials only
                         **TINY).fit({"input": texts}, labels)
    search.config.budget.final_fit = True  # as if the final model were still to be made
    weights = search._ensemble()[0]
    assert len(weights) >= 2 and search._refit_needed()
    seconds = {n: search._refit_seconds(search.study.trials[n]) for n in weights}
    assert all(s > 0 for s in seconds.values())
    # the heaviest member retrains slowest for its weight, and the retrainings have a
    # little less time than they need: leaving out any other member makes them fit
    heaviest = max(weights, key=weights.get)
    search.study.trials[heaviest].metrics["setup_seconds"] += 600.0
    seconds[heaviest] += 600.0
    assert max(weights, key=lambda n: seconds[n] / weights[n]) == heaviest
    needed = RETRAINING_MARGIN * sum(seconds.values())
    search._deadline = search._started + 3 * (needed - 0.01 + 2.0)
    fitted, fitted_score = search._ensemble()
    assert sum(search._refit_seconds(search.study.trials[n]) for n in fitted) <= \
        search._retraining_seconds()
    predictions = {t.number: np.load(os.path.join(search._trials_dir,
                                                  f"trial_{t.number}.val.npy"))
                   for t in search.study.trials}
    every = {t.number: search._refit_seconds(t) for t in search.study.trials}
    val_y = search._trainer.val[1]
    without = {n: greedy_selection({k: v for k, v in predictions.items() if k != n}, val_y,
                                   True, 8) for n in weights}
    fits = [score[-1] for chosen, score in without.values()
            if len(chosen) < 2 or
            RETRAINING_MARGIN * sum(every[k] for k in chosen) <= needed - 0.01]
    assert fitted_score[-1] == pytest.approx(max(fits))
    assert heaviest in fitted and fitted_score[-1] > without[heaviest][1][-1]
    # with a long limit (a third of it does not bind the reserve): room for a trial and its
    # retraining on a fifth more rows, 2.25 times its time; none shorter than one epoch
    search._started = time.monotonic() - 1000.0
    search._deadline = time.monotonic() + 100.0
    reserve = search._reserve()
    left = search._deadline - reserve - time.monotonic()
    assert search._trial_seconds() == pytest.approx(left / 2.25, abs=0.1)
    # the first epoch, which traces the model, is timed apart from the rest
    assert all(0 < t.metrics["first_epoch_seconds"] < t.metrics["fit_seconds"]
               for t in search.study.trials)
    # a trial is its set-up, its first epoch and its validation predictions (a pass)
    assert all(t.metrics["validation_seconds"] > 0 for t in search.study.trials)
    quickest = min(t.metrics["setup_seconds"] + t.metrics["first_epoch_seconds"] +
                   t.metrics["validation_seconds"] for t in search.study.trials)
    search._deadline = time.monotonic() + reserve + 2.25 * quickest / 2
    assert search._out_of_time()
    search._deadline = time.monotonic() + reserve + 2.25 * quickest * 2 + 1.0
    assert not search._out_of_time()
    # a member that could not be retrained in the time left is selected again without
    search._deadline = time.monotonic() + 1000.0
    weights, score = search._ensemble(final=True)
    untrained = min(weights, key=weights.get)
    record = [{"trial": n, "weight": w, "retrained": n != untrained} for n, w in weights.items()]
    kept, kept_score = search._reselected(weights, score, record)
    rest = {n: v for n, v in predictions.items() if n in weights and n != untrained}
    assert (kept, kept_score) == greedy_selection(rest, val_y, True, 8)
    assert untrained not in kept and [m["weight"] for m in record if m["trial"] == untrained] == [0]
    assert "trial %d (not retrained in the time left)" % untrained in members_line(record)
    record = [{**m, "retrained": True} for m in record]  # all retrained: nothing changes
    assert search._reselected(weights, score, record) == (weights, score)
    search.config.ensemble_size = 1  # without an ensemble, nothing to leave out
    assert search._ensemble() == ({}, None)


def test_a_lone_best_trial_is_its_retraining_averaged_with_its_trial_model(tmp_path):
    """One objective: the best trial retrained on all rows, averaged with its own model;
    several: one model, the retraining alone (the search measured one model's size)."""
    x, y = load_breast_cancer(return_X_y=True)
    space = ModelSpace([DenseBlock(num_layers=1, units=8, dropout=0.0, batch_norm=False,
                                   activation="relu"),
                        ClassificationHead(num_classes=2, dropout=0.0)])
    search = ModelSearch(space, max_trials=1, epochs=2, directory=tmp_path / "one",
                         ensemble_size=1, **TINY).fit({"input": x.astype("float32")}, y)
    assert search.summary["final_model"] == \
        "trial 0 retrained on all rows, averaged with its trial model"
    inner = [layer for layer in search.best_model.layers if isinstance(layer, keras.Model)]
    trial = keras.models.load_model(tmp_path / "one" / "trials" / "trial_0.keras")
    np.testing.assert_allclose(inner[1].predict(x, verbose=0), trial.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(search.best_model.predict(x, verbose=0),
                               (inner[0].predict(x, verbose=0) + inner[1].predict(x, verbose=0))
                               / 2, rtol=1e-4, atol=1e-6)
    search = ModelSearch(space, max_trials=1, epochs=2, directory=tmp_path / "two",
                         objectives=["val_accuracy", "params"],
                         **TINY).fit({"input": x.astype("float32")}, y)
    assert search.summary["final_model"] == "trial 0 retrained on all rows"
    assert not any(isinstance(layer, keras.Model) for layer in search.best_model.layers)


def test_a_retraining_that_fits_its_own_rows_worse_than_the_trial_model_is_dropped(tmp_path):
    """A retraining saw the validation rows, so it should predict them at least as well as
    the trial's model, which did not; one that ends its epochs in a bad state does worse
    (the README's first command met one: 0.958 test accuracy averaged, 0.984 without it).
    A real retraining passes the check; the same candidate untrained, standing for a failed
    one, is dropped, and the journal says so."""
    x, y = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    space = ModelSpace([DenseBlock(num_layers=1, units=8, dropout=0.0, batch_norm=False,
                                   activation="relu"),
                        ClassificationHead(num_classes=2, dropout=0.0)])
    search = ModelSearch(space, max_trials=1, epochs=10, directory=tmp_path, ensemble_size=1,
                         **TINY).fit({"input": x.astype("float32")}, y)
    trial = search.study.trials[0]
    assert trial.value > 0.9  # a trial model that learned
    _, trained, inputs, complete = search._trained_on(trial)
    assert complete and not search._fits_worse(trial, trained, inputs)
    model, view = search._trainer.build(trial.params, trial.seed)
    untrained = search._trainer.fitting(model, view)[0]
    assert search._fits_worse(trial, untrained, inputs)
    (note,) = [r for r in Journal(tmp_path).read() if r["event"] == "retraining_dropped"]
    assert note["trial"] == 0 and note["validation_loss"] > note["trial_validation_loss"]


# -- default spaces ----------------------------------------------------------------------------
def test_a_flat_signal_gets_order_aware_candidates():
    digits = load_digits().data  # (N, 64): pixels given flat
    kind = infer_kind(digits)
    assert kind is SignalInput
    choice = SignalInput("input").fit(digits).default_blocks()[0]
    assert {b.kind for b in choice.options} == {"dense", "conv1d", "conv"}  # 64 is a square
    waveform = np.cumsum(np.random.default_rng(0).normal(size=(50, 40)), axis=1)
    options = SignalInput("input").fit(waveform).default_blocks()[0].options
    assert {b.kind for b in options} == {"dense", "conv1d"}
    # a table of columns in different units is not a signal
    assert infer_kind(load_breast_cancer().data) is TabularInput


def test_a_bag_of_words_dense_or_sparse_is_a_table_and_fits():
    """A vectorizer's counts (a scikit-learn pipeline's sparse output) share one scale like
    a signal's samples but are mostly zeros: a table. A sparse matrix is made dense (up to a
    bound: test_estimators' clear errors)."""
    from scipy import sparse

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    counts = rng.poisson(0.01, (300, 200))
    counts[:, :10] += rng.poisson(0.6 * y[:, None], (300, 10))  # the words of class 1
    assert infer_kind(counts.astype("float64")) is TabularInput
    x = sparse.csr_matrix(counts)
    clf = AutoClassifier(max_trials=1, epochs=1, **TINY).fit(x, y)
    assert clf.input_kinds_["input"].kind == "tabular"
    np.testing.assert_array_equal(clf.predict(x), clf.predict(counts))
    assert clf.score(x, y) > 0.8


def test_a_table_wider_than_the_rankings_bound_keeps_every_column():
    """Ranking a table's columns costs its columns times its rows (2,000 columns took 101 s
    of a 60 s search): a wider table than ``MAX_COLUMNS`` is not ranked."""

    from autoarch.blocks.table import MAX_COLUMNS

    rng = np.random.default_rng(0)
    for columns, ranked in ((MAX_COLUMNS, True), (MAX_COLUMNS + 1, False)):
        frame = pd.DataFrame(rng.normal(size=(120, columns))).add_prefix("c")
        y = (frame["c0"] > 0).astype(int).to_numpy()
        kind = TabularInput("input").fit(frame)
        blocks = kind.default_blocks()
        space = ModelSpace([*blocks, ClassificationHead(num_classes=2)], inputs={"input": kind})
        space.adapt(space.arrays({"input": frame}), y)
        assert (blocks[0].importance is not None) == ranked
        keep = {p.name: p for p in space.hyperparameters().space}.get("features/keep")
        assert (keep is not None and keep.values == ["all", "informative"]) == ranked


def test_image_and_signal_spaces_start_with_the_proven_convolutional_stack():
    """The first trial of images, and of digits given flat, is the pooled 2 x 2 stack of
    64 filters; a flat count that is no square starts with the 1-D stack (a choice's first
    trial chooses the first option that has one, and takes its values)."""
    digits = load_digits().data
    spaces = {}
    for name, x in {"image": digits.reshape(-1, 8, 8, 1), "flat": digits,
                    "wave": np.cumsum(np.random.default_rng(0).normal(size=(50, 40)), axis=1)
                    }.items():
        kind = infer_kind(x)("input").fit(x.astype("float32"))
        spaces[name] = ModelSpace([*kind.default_blocks(), ClassificationHead(num_classes=10)],
                                  inputs={"input": kind})
    [image] = spaces["image"].first_trials()
    assert {k: image[k] for k in ("conv_1/num_blocks", "conv_1/filters", "conv_1/pooling",
                                  "dense_1/units", "training/learning_rate")} == \
        {"conv_1/num_blocks": 2, "conv_1/filters": 64, "conv_1/pooling": "max",
         "dense_1/units": 128, "training/learning_rate": 1e-3}
    [flat] = spaces["flat"].first_trials()
    assert flat["signal_block/block"] == "conv_1" and flat["conv_1/filters"] == 64
    [wave] = spaces["wave"].first_trials()
    assert wave["signal_block/block"] == "conv1d_1" and wave["conv1d_1/kernel_size"] == 5
    clf = AutoClassifier(max_trials=1, epochs=1, isolate_trials=False, final_fit=False).fit(
        digits[:200], load_digits().target[:200])
    assert clf.best_params_["signal_block/block"] == "conv_1"
    assert clf.best_params_["conv_1/num_layers"] == 2


def test_a_flat_signal_trains_through_each_candidate():
    x, y = load_digits(return_X_y=True)
    x, y = x[:200], y[:200]
    kind = SignalInput("input").fit(x)
    space = ModelSpace([*kind.default_blocks(), ClassificationHead(num_classes=10)],
                       inputs={"input": kind})
    options = next(p for p in space.hyperparameters().space
                   if p.name == "signal_block/block").values
    assert len(options) == 3
    for option in options:
        hp = kt.HyperParameters()
        hp.Fixed("signal_block/block", option)
        model = space.build(hp)
        history = model.fit(x.astype("float32"), y, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][-1])
    clf = AutoClassifier(max_trials=1, epochs=1, isolate_trials=False).fit(x, y)
    assert clf.input_kind_ == "signal" and clf.predict(x[:3]).shape == (3,)


def test_the_text_bag_encoder_learns_word_pairs(tmp_path):
    """Labels that only a pair of words decides: 'not good' is 0, 'good' alone is 1."""
    rng = np.random.default_rng(0)
    fillers = ["the", "film", "was", "plot", "acting", "really", "quite"]
    texts, labels = [], []
    for i in range(300):
        picked = list(rng.choice(fillers, 4))
        negative = i % 2 == 0
        picked.insert(2, "not good" if negative else "good")
        texts.append(" ".join(picked).capitalize() + ".")
        labels.append(0 if negative else 1)
    texts, labels = np.array(texts, dtype=object), np.array(labels)
    block = TextBlock(encoder="bag", hidden=0, dropout=0.0)
    block.adapt(texts)
    assert "not good" in block.bag_vocabulary and "good" in block.bag_vocabulary
    space = ModelSpace([block, ClassificationHead(num_classes=2, dropout=0.0)],
                       training={"learning_rate": 0.05})
    search = ModelSearch(space, max_trials=1, epochs=10, validation_split=0.25,
                         directory=tmp_path, **TINY)
    search.fit({"input": texts}, labels)
    assert search.study.best_value >= 0.95
    # its words are scikit-learn's (x86-64 is two words) and it reloads in safe mode
    assert words("An x86-64 CPU's cache") == ["an", "x86", "64", "cpu", "s", "cache"]
    path = tmp_path / "bag.keras"
    search.best_model.save(path)
    sample = tf.constant([["Not good, the plot."], ["Good acting!"]])
    np.testing.assert_allclose(keras.models.load_model(path, safe_mode=True).predict(sample),
                               search.best_model.predict(sample), rtol=1e-5)


def test_the_bag_is_scikit_learns_sublinear_tf_idf_without_the_unknown_ngrams_slot():
    """The bag's rows equal TfidfVectorizer(sublinear_tf=True)'s (unit length, then scaled):
    n-grams outside the vocabulary take no share of a row's length."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = np.array(["the cat sat on the mat", "the dog ate the cat food",
                      "a mat for a dog", "cat cat cat and a dog"], dtype=object)
    block = TextBlock(encoder="bag", hidden=0, dropout=0.0, bag_tokens=6)
    block.adapt(texts)
    inputs = keras.Input((1,), dtype="string", name="input")
    model = keras.Model(inputs, block.build(kt.HyperParameters(), inputs))
    unseen = ["the cat and the zebra", "zebra zebra"]
    got = model.predict(tf.constant([[t] for t in unseen]), verbose=0) / block.bag_scale
    reference = TfidfVectorizer(tokenizer=words, lowercase=False, token_pattern=None,
                                ngram_range=(1, 2), max_features=6, sublinear_tf=True)
    expected = reference.fit(list(texts)).transform(unseen).toarray()
    assert list(reference.get_feature_names_out()) == block.bag_vocabulary
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.allclose(np.linalg.norm(got[0]), 1.0) and not got[1].any()


def test_texts_written_without_spaces_are_bags_of_their_characters(tmp_path):
    """Chinese, Japanese or Thai sentences have no spaces: each of their characters is a
    word, alike in scikit-learn's bag and inside the model; a whole sentence was one word,
    seen once, and the classifier guessed."""
    from autoarch.blocks.layers import separate_words

    assert words("这个产品很好，我喜欢！") == list("这个产品很好我喜欢")
    assert words("Mixed 中文 and x86-64") == ["mixed", "中", "文", "and", "x86", "64"]
    samples = ["日本語のテキストです。カタカナー", "ภาษาไทยง่ายไหม", "An x86-64 CPU's cache",
               "ｶﾀｶﾅ half", "မြန်မာ"]
    in_model = tf.strings.split(separate_words(tf.constant(samples))).to_list()
    assert [[w.decode() for w in row] for row in in_model] == [words(s) for s in samples]

    rng = np.random.default_rng(0)
    liked, disliked = ["很好", "喜欢", "满意", "推荐"], ["很差", "失望", "退货", "糟糕"]
    fillers = ["这个", "产品", "我们", "今天", "快递", "包装", "价格"]
    texts, labels = [], np.arange(400) % 2
    for label in labels:
        picked = [*rng.choice(fillers, 5), rng.choice(liked if label else disliked)]
        rng.shuffle(picked)
        texts.append("".join(picked))
    clf = AutoClassifier(max_trials=1, epochs=5, directory=tmp_path, **TINY)
    clf.fit(texts[:300], labels[:300])
    assert clf.score(texts[300:], labels[300:]) >= 0.95


def test_the_default_text_space_starts_with_three_encoders_that_err_apart(tmp_path):
    """Its first trials are the proven ones (the SGD bag, a word convolution, the bag
    through a hidden layer), the rest the strategy's."""
    texts = np.array([f"{w} item {i}" for i in range(40) for w in ("good", "bad")][:60],
                     dtype=object)
    labels = np.array([0 if t.startswith("good") else 1 for t in texts])
    clf = AutoClassifier(max_trials=4, epochs=2, directory=tmp_path, **TINY).fit(texts, labels)
    points = [r["params"] for r in clf.search_results_]
    first, second, third, fourth = points
    assert first["text_1/encoder"] == "bag" and first["text_1/hidden"] == 0
    assert first["training/optimizer"] == "sgd" and first["training/learning_rate"] == 0.01
    assert first["classification_head_1/loss"] == "hinge"  # a linear SVM's loss, searched
    assert second["text_1/encoder"] == "conv" and second["text_1/filters"] == 128
    assert third["text_1/encoder"] == "bag" and third["text_1/hidden"] == 64
    for point in (second, third):
        assert point["training/optimizer"] == "adam"
        assert point["classification_head_1/loss"] == "crossentropy"
    assert fourth not in points[:3]
    # a text's retraining stands alone: the validation rows' n-grams are what it gains
    assert "retrained on all rows" in clf.search_summary_["final_model"] or clf.ensemble_
    assert "averaged" not in clf.search_summary_["final_model"]
    inner = [layer for layer in clf.best_model_.layers if isinstance(layer, keras.Model)]
    assert len(inner) == len((clf.ensemble_ or {}).get("members", []))  # one per member


def test_the_squared_hinge_follows_its_formula_on_softmax_and_sigmoid_outputs():
    from autoarch.blocks.layers import HINGE_MARGIN, squared_hinge

    logits = np.array([[2.0, -1.0, 10.0], [0.5, 0.2, 0.1], [40.0, 0.0, -3.0]])
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([2, 1, 0])
    gap = logits[np.arange(3), labels] - np.array([2.0, 0.5, 0.0])  # true minus best other
    expected = np.maximum(0, 1 - gap / HINGE_MARGIN) ** 2
    got = keras.ops.convert_to_numpy(squared_hinge(labels, probs.astype("float32")))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert got[2] == 0 and got[0] == pytest.approx(0.25, rel=1e-3)  # margins 40 and 8 of 16
    odds = np.array([3.0, -2.0, 1.0])
    sig = 1 / (1 + np.exp(-odds))
    got = keras.ops.convert_to_numpy(squared_hinge(np.array([1, 1, 0]),
                                                   sig.reshape(-1, 1).astype("float32")))
    np.testing.assert_allclose(got, np.maximum(0, 1 - odds * [1, 1, -1] / HINGE_MARGIN) ** 2,
                               rtol=1e-4)


def test_a_hinge_head_learns_keeps_its_softmax_and_reloads(tmp_path):
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    space = ModelSpace([ClassificationHead(num_classes=10, dropout=0.0, loss="hinge")],
                       inputs={"input": SignalInput("input").fit(x)},
                       training={"learning_rate": 1e-2})
    keras.utils.set_random_seed(0)
    model = space.build(space.hyperparameters())
    model.fit(x[:1200], y[:1200], epochs=15, batch_size=32, verbose=0)  # 0.92; 5 epochs: 0.89
    probs = model.predict(x[1200:], verbose=0)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert (probs.argmax(1) == y[1200:]).mean() > 0.85
    path = str(tmp_path / "hinge.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(reloaded.predict(x[1200:], verbose=0), probs, atol=1e-6)
    assert reloaded.evaluate(x[1200:], y[1200:], verbose=0)[0] > 0  # its loss came back too
    with pytest.raises(ValueError, match="unknown loss 'svm'.*crossentropy, hinge"):
        ModelSpace([ClassificationHead(num_classes=10, loss="svm")],
                   inputs=space.inputs).build(kt.HyperParameters())


# -- regression targets ------------------------------------------------------------------------
def _skewed_regression(rows=400):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3)).astype("float32")
    y = np.exp(10 + x @ np.array([0.8, -0.5, 0.3]) + rng.normal(0, 0.05, rows))  # prices
    return x, y.astype("float64")


def test_skewed_positive_targets_get_the_log_transform_as_a_choice():
    x, y = _skewed_regression()
    head = RegressionHead()
    head.adapt_targets(y)
    assert head.search_space()["target_transform"]["values"] == ["standardize", "log"]
    head.adapt_targets(y - y.mean())  # negative values: no log
    assert head.search_space()["target_transform"] == "standardize"


def test_a_log_transformed_head_predicts_in_the_targets_units(tmp_path):
    x, y = _skewed_regression()
    space = ModelSpace([DenseBlock(num_layers=1, units=32, dropout=0.0, batch_norm=False),
                        RegressionHead(dropout=0.0, target_transform="log")],
                       training={"learning_rate": 0.01})
    search = ModelSearch(space, max_trials=1, epochs=30, directory=tmp_path, ensemble_size=1,
                         **TINY).fit({"input": x}, y)
    assert search.study.objective.name == "val_mean_squared_error"
    predicted = search.best_model.predict(x, verbose=0).reshape(-1)
    assert np.median(np.abs(predicted / y - 1)) < 0.15  # within 15% of the price, typically
    reloaded = keras.models.load_model(tmp_path / "trials" / "trial_0.keras", safe_mode=True)
    assert reloaded.layers[-1].__class__.__name__ == "Expm1"


def test_log_transform_of_negative_targets_is_a_clear_error():
    x, y = _skewed_regression()
    space = ModelSpace([DenseBlock(num_layers=1), RegressionHead(target_transform="log")])
    search = ModelSearch(space, max_trials=1, epochs=1, **TINY)
    with pytest.raises(RuntimeError, match="no trial completed"):
        search.fit({"input": x}, y - y.mean())
    assert "needs targets >= 0" in search.study.trials[0].message


# -- tables ------------------------------------------------------------------------------------
def test_piecewise_linear_encoding_follows_its_formula():
    from autoarch.blocks.piecewise import PiecewiseLinear, quantile_edges

    assert quantile_edges([1, 2, 3, 4, 5], 4) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert quantile_edges([7, 7, 7], 4) == []
    layer = PiecewiseLinear([[0.0, 1.0, 3.0], [-1.0, 1.0]])
    x = np.array([[0.5, 0.0, 9.0], [2.0, 5.0, 9.0], [-4.0, -1.0, 9.0]], dtype="float32")
    got = keras.ops.convert_to_numpy(layer(x))
    # feature 0: bins [0, 1], [1, 3]; feature 1: bin [-1, 1] and an empty pad bin; the third
    # column is not encoded
    expected = [[0.5, 0.0, 0.5, 0.0], [1.0, 0.5, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    copy = PiecewiseLinear.from_config(layer.get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(copy(x)), expected, atol=1e-6)
    # compact: each feature's own bins only, the pad bin gone (and so from a saved config)
    compact = PiecewiseLinear([[0.0, 1.0, 3.0], [-1.0, 1.0], []], compact=True)
    kept = [[row[0], row[1], row[2]] for row in expected]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(compact(x)), kept, atol=1e-6)
    assert compact.compute_output_shape((None, 3)) == (None, 3)
    copy = PiecewiseLinear.from_config(compact.get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(copy(x)), kept, atol=1e-6)


def test_clip_features_bounds_the_first_columns_to_the_training_range():
    from autoarch.blocks.piecewise import ClipFeatures

    layer = ClipFeatures([-1.0, 0.0], [2.0, 0.0])
    x = np.array([[-5.0, 3.0, 9.0], [0.5, -2.0, -9.0], [7.0, 0.0, 1.0]], dtype="float32")
    expected = [[-1.0, 0.0, 9.0], [0.5, 0.0, -9.0], [2.0, 0.0, 1.0]]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected)
    copy = ClipFeatures.from_config(layer.get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(copy(x)), expected)


def test_quantile_normal_maps_columns_to_normal_scores_like_scikit_learn():
    from scipy.stats import norm
    from sklearn.preprocessing import QuantileTransformer

    from autoarch.blocks.piecewise import QuantileNormal, normal_knots

    rng = np.random.default_rng(0)
    skewed, counts = rng.lognormal(0, 1.5, 3000), rng.integers(0, 3, 3000).astype(float)
    edges, scores = normal_knots(skewed)
    assert normal_knots([4.0, 4.0]) == ([], [])
    # ties: the levels 0 and 0.5 both fall on the value 0, which scores their mean, 0.25
    assert normal_knots([0] * 20 + [1] * 10, 2) == ([0.0, 1.0], pytest.approx(
        list(norm.ppf([0.25, 0.999]))))
    layer = QuantileNormal([(edges, scores), normal_knots(counts), ([], [])])
    x = np.stack([skewed, counts, skewed, np.full(3000, 7.0)], 1).astype("float32")
    got = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(np.array(
        [[e, 0, 0, 0] for e in edges], dtype="float32")))[:, 0], scores, atol=1e-5)
    order = np.argsort(skewed)
    assert np.all(np.diff(got[order, 0]) >= -1e-6) and np.abs(got[:, 0]).max() < 3.1
    assert abs(got[:, 0].mean()) < 0.02 and abs(got[:, 0].std() - 1) < 0.03
    reference = QuantileTransformer(output_distribution="normal", n_quantiles=65).fit_transform(
        skewed[:, None])[:, 0]
    inside = np.abs(reference) < 2  # they differ only in the outer bins, toward the clip
    np.testing.assert_allclose(got[inside, 0], reference[inside], atol=0.05)
    assert np.allclose(got[:, 2], 0.0) and np.allclose(got[:, 3], 7.0)  # no knots; passed on
    copy = QuantileNormal.from_config(layer.get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(copy(x)), got, atol=1e-6)


def _table_with_noise(rows=600):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"income": rng.lognormal(10, 1, rows), "age": rng.integers(18, 90, rows),
                          "city": rng.choice(["a", "b", "c"], rows),
                          "noise": rng.normal(size=rows),
                          "state": rng.choice([f"s{i}" for i in range(40)], rows),
                          "tenure": rng.integers(0, 10, rows).astype(float)})
    frame.loc[::7, "tenure"] = np.nan
    y = ((frame.income > np.median(frame.income)) & (frame.age < 50) |
         (frame.city == "c")).astype(int).to_numpy()
    return frame, y


def test_a_tables_free_text_column_is_a_bag_of_words_and_an_identifier_gets_no_slots(tmp_path):
    """A review-like column (a text of its own per row) is read as a tf-idf bag, which the
    networks learn from; one-hot, every test text would be a category never seen. An
    identifier column gets one-hot slots only for values seen twice."""

    from autoarch.inputs.tabular import MISSING

    rng = np.random.default_rng(0)
    topics = [[f"topic{k}word{i}" for i in range(8)] for k in range(3)]
    fillers = ["the", "a", "was", "with", "and", "of", "very", "some"]
    y = rng.integers(0, 3, 400)
    frame = pd.DataFrame({
        "review": [" ".join(rng.choice(topics[label] if rng.random() < 0.5 else fillers)
                            for _ in range(8)) for label in y],
        "order_id": [f"order{i}" if i % 10 else "order0" for i in range(400)],
        "noise": rng.normal(size=400), "shop": rng.choice(["north", "south"], 400)})
    frame.loc[3, "review"] = None  # a missing text is an empty one
    kind = TabularInput("input").fit(frame.iloc[:300])
    assert set(kind.texts) == {"review"} and set(kind.vocabularies) == {"order_id", "shop"}
    assert kind.vocabularies["order_id"] == ["order0"]  # seen in ten rows; the rest once
    assert 0 < len(kind.texts["review"][0]) <= 2000
    assert len(kind.layout()["review"]) == len(kind.texts["review"][0])
    clf = AutoClassifier(max_trials=2, epochs=10, boosted_trees=False, table_linear=False,
                         ensemble_size=1, directory=str(tmp_path / "search"),
                         **{**TINY, "early_stopping_patience": 3}).fit(frame.iloc[:300], y[:300])
    # one-hot of unseen texts: chance (about 0.33)
    assert clf.score(frame.iloc[300:], y[300:]) > 0.8
    path = clf.export(str(tmp_path / "m.keras"))["path"]
    sample = {c: tf.constant(v) for c, v in clf.space_.arrays(
        {"input": frame.iloc[300:305]}).items()}
    np.testing.assert_allclose(
        keras.models.load_model(path, safe_mode=True).predict(sample, verbose=0),
        clf.best_model_.predict(sample, verbose=0), rtol=1e-5, atol=1e-6)
    assert MISSING not in clf.space_.arrays({"input": frame.iloc[:5]})["review"]


def test_a_column_of_many_values_gets_slots_only_for_the_most_frequent_of_those_seen_twice():
    """Names or codes of hundreds of values (a pet's name, an aircraft type): a value seen
    once gets no slot, and at most ``MAX_SLOTS`` of the others do, the most frequent; a
    column of up to ``MANY_VALUES`` values keeps them all."""

    from autoarch.inputs.tabular import MAX_SLOTS, MANY_VALUES

    rng = np.random.default_rng(0)
    names = [f"name{i}" for i in range(300) for _ in range(10)] + [f"once{i}" for i in range(800)]
    codes = [f"code{i}" for i in range(MAX_SLOTS + 200) for _ in range(3 + 2 * (i < 50))]
    codes += [f"single{i}" for i in range(3800 - len(codes))]
    few = [f"few{i}" for i in range(MANY_VALUES)] * 15
    frame = pd.DataFrame({"name": rng.permutation(names), "few": few[:3800],
                          "code": rng.permutation(codes)})
    kind = TabularInput("input").fit(frame)
    assert kind.vocabularies["name"] == sorted(f"name{i}" for i in range(300))
    assert len(kind.vocabularies["few"]) == MANY_VALUES
    code = kind.vocabularies["code"]
    assert len(code) == MAX_SLOTS and {f"code{i}" for i in range(50)} <= set(code)


def test_a_tables_dates_are_the_words_of_their_parts_whether_strings_or_datetimes():
    """A date column (ISO 8601 strings, as CSV files give them, or a datetime dtype) is the
    bag of its year, month, weekday and hour as words, so a weekday effect is learned;
    one-hot, every test date would be a category never seen."""

    rng = np.random.default_rng(0)
    when = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2000, 400), unit="D") \
        + pd.to_timedelta(rng.integers(0, 24, 400), unit="h")
    y = (when.weekday >= 5).astype(int)  # weekends
    frame = pd.DataFrame({"sold": when.strftime("%Y-%m-%dT%H:%M:%S"),
                          "noise": rng.normal(size=400)})
    kind = TabularInput("input").fit(frame)
    assert kind.dates == {"sold": "ISO8601"} and "sold" in kind.texts
    words = kind.arrays(frame)["sold"].reshape(-1)
    assert words[0] == f"y{when[0].year} m{when[0].month} w{when[0].weekday()} h{when[0].hour}"
    np.testing.assert_array_equal(words, kind.arrays(frame.assign(sold=when))["sold"].ravel())
    # spreadsheets' month-first and day-first dates read the same (each in its own format)
    for written in ("%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M"):
        other = frame.assign(sold=when.strftime(written).str.replace(r"^0", "", regex=True))
        fitted = TabularInput("input").fit(other)
        assert list(fitted.dates) == ["sold"]
        np.testing.assert_array_equal(words, fitted.arrays(other)["sold"].ravel())
    codes = pd.DataFrame({"code": rng.choice(["12/7", "3-45", "2020", "A-12"], 400),
                          "blank": [""] * 400})
    assert TabularInput("input").fit(codes).dates == {}
    assert list(kind.arrays(frame.head(2).assign(sold=["not a date", None]))["sold"].ravel()) \
        == ["", ""]
    clf = AutoClassifier(max_trials=2, epochs=10, boosted_trees=False, table_linear=False,
                         ensemble_size=1, **{**TINY, "early_stopping_patience": 3})
    clf.fit(frame.iloc[:300], y[:300])
    assert clf.score(frame.iloc[300:], y[300:]) > 0.9  # weekends: 2 in 7, so 0.71 by chance


def test_numbers_written_as_text_are_numbers_and_codes_stay_categories():
    """A CSV column with one blank reads as strings (IBM's telco churn ``TotalCharges``);
    so do prices with currency signs, and rain with "T" for a trace. Read as numbers, they
    are learned from; zip codes and ratings written as text, and numbers beside several codes,
    stay categories. A decimal comma (``1,5``) is read as one."""

    from autoarch import AutoRegressor

    rng = np.random.default_rng(0)
    charges = rng.uniform(20, 8000, 400).round(2)
    frame = pd.DataFrame({
        "total_charges": [" " if i % 50 == 0 else str(c) for i, c in enumerate(charges)],
        "price": [f"${c:,.2f}" for c in rng.uniform(1, 5000, 400)],
        "zip": rng.choice(["95838", "95823", "95815", "95608"], 400),
        "rating": rng.choice(["1", "2", "3", "4", "5"], 400),
        "rain": [str(r) if i % 4 else "T" for i, r in enumerate(rng.uniform(0, 2, 400).round(2))],
        "hours": [str(h) if i % 4 else rng.choice(["<1", "5+"])
                  for i, h in enumerate(rng.uniform(1, 5, 400).round(1))]})
    y = np.log(charges) + rng.normal(0, 0.05, 400)
    kind = TabularInput("input").fit(frame)
    assert kind.written == {"total_charges", "price", "rain"} and kind.numeric == kind.written
    assert np.isnan(kind.arrays(frame)["rain"][::4]).all()  # the trace: its missing indicator
    values = kind.arrays(frame)["total_charges"].reshape(-1)
    assert np.isnan(values[::50]).all() and np.allclose(values[1:50], charges[1:50])
    assert kind.arrays(frame.head(1).assign(price="$1,234.50"))["price"][0, 0] == 1234.5
    # a decimal comma, as spreadsheets in many locales write numbers: 1,5 is not 15 beside 2
    commas = pd.DataFrame({"share": [f"{v:.2f}".replace(".", ",").removesuffix(",00")
                                     for v in rng.uniform(0, 10, 400)]})
    assert (commas["share"].str.contains(",") & ~commas["share"].str.contains(r"\.")).any()
    read = TabularInput("input").fit(commas)
    assert read.commas == {"share"} and kind.commas == set()  # "$1,234.50": a thousand
    np.testing.assert_allclose(read.arrays(commas)["share"].reshape(-1),
                               commas["share"].str.replace(",", ".").astype(float), rtol=1e-6)
    reg = AutoRegressor(max_trials=2, epochs=10, boosted_trees=False, ensemble_size=1,
                        **{**TINY, "early_stopping_patience": 3}).fit(frame.iloc[:300], y[:300])
    assert reg.score(frame.iloc[300:], y[300:]) > 0.8  # as categories: nothing to learn


def test_what_training_never_set_adds_nothing_later():
    """A numeric column complete in the training rows has a missing indicator that was 0 in
    every one of them, and a category column whose every value has a slot an unknown slot
    that was 0 too: a network's weights on them never moved from their random start. A
    value missing or unseen there later leaves them 0 (a missing number predicts as the
    training mean does); a column that had such values keeps its indicator or slot."""
    from autoarch.inputs.tabular import KeepFeatures

    layer = KeepFeatures([1, 0, 1])
    got = keras.ops.convert_to_numpy(layer(np.array([[2.0, 3.0, 4.0]], "float32")))
    np.testing.assert_array_equal(got, [[2.0, 0.0, 4.0]])
    assert KeepFeatures.from_config(layer.get_config()).keep == [1.0, 0.0, 1.0]

    frame, y = _table_with_noise(300)
    frame.loc[::9, "income"] = np.nan  # a column the label depends on, with missing values
    frame["order"] = [f"order{i}" if i % 10 else "order0" for i in range(300)]  # an identifier
    kind = TabularInput("input").fit(frame)
    assert kind.incomplete == {"income", "tenure"} and kind.unknown == {"order"}
    inputs = kind.keras_inputs()
    encoder = keras.Model(inputs, kind.encode(inputs))
    new = frame.head(2).assign(age=np.nan, income=np.nan, city=["zzz", None], order="new")
    encoded = keras.ops.convert_to_numpy(encoder({k: tf.constant(v) for k, v in
                                                  kind.arrays(new).items()}))
    layout = kind.layout()
    assert (encoded[:, layout["age"][1]] == 0).all()  # complete in training
    assert (encoded[:, layout["income"][1]] == 1).all()
    assert (encoded[:, layout["city"]] == 0).all()  # every city had its slot
    assert (encoded[:, layout["order"][0]] == 1).all()  # the unknown slot, set in training
    assert sum(isinstance(layer, KeepFeatures) for layer in encoder.layers) == 1
    before = TabularInput("input").fit(frame)
    del before.incomplete, before.unknown  # as pickled by a version that kept every place
    assert not any(isinstance(layer, KeepFeatures) for layer in keras.Model(
        inputs, before.encode(inputs)).layers)

    clf = AutoClassifier(max_trials=1, epochs=3, boosted_trees=False, table_linear=False,
                         **TINY).fit(frame, y)
    rows, stats = frame.head(40), clf.input_kinds_["input"].stats

    def moved(column):
        """How far a missing value moves the predictions from the training mean's."""
        return np.abs(clf.predict_proba(rows.assign(**{column: np.nan})) -
                      clf.predict_proba(rows.assign(**{column: stats[column][0]}))).max()

    assert moved("age") < 1e-6
    assert moved("income") > 1e-4  # its indicator, learned from, still speaks


def test_a_column_without_values_ranks_last_and_the_search_runs():
    """HistGradientBoosting, the ranking model, fails on a column with no value in the rows it
    fits (scikit-learn 1.9); such a column (all missing, or all but a few rows that the split
    may leave out) carries nothing, and the table still searches."""
    from autoarch.blocks.table import column_importance

    frame, y = _table_with_noise(200)
    frame["empty"] = np.nan
    frame["nearly"] = np.where(np.arange(200) == 3, 1.0, np.nan)
    kind = TabularInput("input").fit(frame)
    arrays = kind.arrays(frame)
    ranked = column_importance(arrays, kind.numeric, y, classification=True)
    assert ranked["empty"] == (0.0, 0.0) and ranked["nearly"] == (0.0, 0.0)
    assert ranked["income"][0] > 0.05
    clf = AutoClassifier(max_trials=1, epochs=1, **TINY).fit(frame, y)
    assert clf.predict(frame).shape == (200,)


def test_the_ranking_model_grows_fewer_iterations_the_more_classes_it_has():
    """Each iteration of the ranking's gradient boosting grows a tree per class (past two):
    with 50 classes its 100 iterations had taken 54 s of a 60 s search. Capped at
    ``RANKING_TREES`` trees, the many classes' ranking still finds the informative column."""
    from autoarch.blocks.table import RANKING_TREES, column_importance, ranking_iterations

    assert ranking_iterations(1) == ranking_iterations(2) == ranking_iterations(5) == 100
    assert ranking_iterations(10) * 10 == RANKING_TREES and ranking_iterations(50) == 10
    rng = np.random.default_rng(0)
    columns = {f"c{i}": rng.normal(size=3000) for i in range(6)}
    y = np.digitize(columns["c2"], np.quantile(columns["c2"], np.linspace(0, 1, 41)[1:-1]))
    ranked = column_importance(columns, set(columns), y, classification=True)
    assert max(ranked, key=lambda name: ranked[name][0]) == "c2"


def test_table_features_keep_the_columns_that_matter_and_encode_numbers_as_choices(tmp_path):
    from autoarch.blocks.periodic import PeriodicEmbedding
    from autoarch.blocks.piecewise import ClipFeatures, PiecewiseLinear, QuantileNormal
    from autoarch.blocks.table import SelectFeatures, TableFeatures
    from autoarch.engine.data import make_dataset

    frame, y = _table_with_noise()
    kind = TabularInput("input").fit(frame)
    blocks = kind.default_blocks()
    assert blocks[0].kind == "table_features" and blocks[0].importance is None
    space = ModelSpace([*blocks, ClassificationHead(num_classes=2)], inputs={"input": kind})
    arrays = space.arrays({"input": frame})
    space.adapt(arrays, y)  # ranks the columns on these rows
    features = blocks[0]
    assert features.kept("informative") == {"income", "age", "city"}
    assert features.kept("all") == set(frame.columns)
    assert features.learned()["column_importance"][-1][3] is False  # the last: noise
    params = {p.name: p for p in space.hyperparameters().space}
    assert params["features/keep"].values == ["all", "informative"]
    assert params["features/scale"].values == ["quantile", "standard"]
    data, unlabelled = make_dataset(arrays, y, 64), make_dataset(arrays, None, 64)
    assert params["features/embedding"].values == ["piecewise", "periodic"]
    assert params["features/embedding"].conditions[0].name == "features/encode"
    for keep, encode, scale, embedding in (
            ("informative", False, "quantile", None),
            ("informative", True, "standard", "piecewise"),
            ("all", False, "standard", None), ("all", True, "quantile", "periodic")):
        hp = kt.HyperParameters()
        hp.Fixed("features/keep", keep)
        hp.Fixed("features/encode", encode)
        hp.Fixed("features/scale", scale)
        if embedding:
            hp.Fixed("features/embedding", embedding)
        model = space.build(hp)
        kinds = {type(layer) for layer in model.layers}
        assert (PiecewiseLinear in kinds) == (embedding == "piecewise")
        if embedding == "piecewise":  # each column's own bins, none padded
            (layer,) = [la for la in model.layers if isinstance(la, PiecewiseLinear)]
            assert layer.compact and layer.output.shape[-1] == sum(
                max(0, len(kind.edges[c]) - 1) for c in ("income", "age"))
        assert (PeriodicEmbedding in kinds) == (embedding == "periodic")
        assert any(isinstance(layer, QuantileNormal) for layer in model.layers) == \
            (scale == "quantile")
        assert any(isinstance(layer, ClipFeatures) for layer in model.layers) == \
            (scale == "standard")
        selects = [layer for layer in model.layers if isinstance(layer, SelectFeatures)]
        assert len(selects) == (keep == "informative")
        if selects:  # income and age standardized, their missing indicators, city one-hot
            seen = keras.Model(model.inputs, selects[0].output).predict(unlabelled, verbose=0)
            assert seen.shape == (len(frame), 2 + 2 + 4)
            mean, std = kind.stats["income"]
            np.testing.assert_allclose(seen[:, 0], (frame.income - mean) / std, rtol=1e-4)
            np.testing.assert_allclose(seen[:, 5:].argmax(1), frame.city.map(  # unknown first
                {"a": 0, "b": 1, "c": 2}), atol=0)
        assert np.isfinite(model.fit(data, epochs=1, verbose=0).history["loss"][-1])
        # beyond the training range a model predicts as at its edge, on either scale
        far, edge = frame.copy(), frame.copy()
        far["income"], edge["income"] = frame.income.max() * 100, frame.income.max()
        np.testing.assert_allclose(*(model.predict(make_dataset(space.arrays(
            {"input": f}), None, 64), verbose=0) for f in (far, edge)), atol=1e-6)
    path = str(tmp_path / "m.keras")  # the last, with the periodic embedding
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(reloaded.predict(unlabelled, verbose=0),
                               model.predict(unlabelled, verbose=0), atol=1e-6)
    export_model(model, str(tmp_path / "m.tflite"), "tflite")  # sin, cos and einsum convert
    runner = tf.lite.Interpreter(model_path=str(tmp_path / "m.tflite")).get_signature_runner()
    rows = space.arrays({"input": frame.iloc[:3]})
    got = [next(iter(runner(**{k: np.asarray(v)[i:i + 1].reshape(1, -1)
                               for k, v in rows.items()}).values())) for i in range(3)]
    np.testing.assert_allclose(np.concatenate(got), model.predict(
        make_dataset(rows, None, 3), verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="embedding must be one of piecewise, periodic"):
        TableFeatures(table=kind, embedding=["periodic", "splines"])


def test_periodic_embedding_is_sines_and_cosines_through_a_dense_layer_per_feature():
    from autoarch.blocks.periodic import PeriodicEmbedding

    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    layer = PeriodicEmbedding(2, frequencies=3, width=4, scale=1.0, seed=0)
    got = keras.ops.convert_to_numpy(layer(x))
    frequency, kernel, bias = (keras.ops.convert_to_numpy(w) for w in
                               (layer.frequency, layer.kernel, layer.bias))
    assert got.shape == (5, 2 * 4) and np.abs(frequency).max() > 0.1
    for f in range(2):  # the third feature is not embedded
        angle = 2 * np.pi * x[:, f, None] * frequency[f]
        waves = np.concatenate([np.sin(angle), np.cos(angle)], axis=1)
        np.testing.assert_allclose(got[:, 4 * f:4 * f + 4],
                                   np.maximum(waves @ kernel[f] + bias[f], 0), atol=1e-5)
    copy = PeriodicEmbedding.from_config(layer.get_config())
    copy.build(x.shape)
    copy.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(copy(x)), got, atol=1e-6)


def test_a_wide_table_is_predicted_in_chunks_as_tf_data_predicts_it():
    """On more than ``MANY_INPUTS`` inputs (a table's columns), ``predict_rows`` calls the
    model on chunks of rows (tf.data took 4.6 s to slice 6,142 rows of 1,502 columns apart,
    the chunks 0.5 s): the same outputs, in order, at inference (the dropout is off)."""
    from autoarch.engine import data as data_ops

    rng = np.random.default_rng(0)
    rows, columns = data_ops.CHUNK_ROWS + 100, data_ops.MANY_INPUTS + 6
    frame = pd.DataFrame(rng.normal(size=(rows, columns)),
                         columns=[f"c{i}" for i in range(columns)])
    frame["colour"] = rng.choice(["red", "green", "blue"], size=rows)
    kind = TabularInput("input").fit(frame)
    made = kind.keras_inputs()
    model = keras.Model(made, keras.layers.Dropout(0.5)(kind.encode(made)))
    arrays = kind.arrays(frame)
    chunked = data_ops.predict_rows(model, arrays, 256)
    assert chunked.shape == (rows, 2 * columns + 4)
    np.testing.assert_allclose(chunked, model.predict(data_ops.make_dataset(arrays, None, 256),
                                                      verbose=0), atol=1e-5)


class _SeesTheModel(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.inputs = [tuple(t.shape) for t in self.model.inputs]


def test_a_table_trains_on_its_encoding_computed_once_and_the_model_keeps_the_raw_columns(
        tmp_path):
    from autoarch.engine.data import make_dataset

    frame, y = _table_with_noise(300)

    def search(directory, callbacks=None):
        kind = TabularInput("input").fit(frame)
        space = ModelSpace([*kind.default_blocks(), ClassificationHead(num_classes=2)],
                           inputs={"input": kind})
        done = ModelSearch(space, max_trials=2, epochs=3, directory=directory,
                           ensemble_size=1, **TINY)
        done.fit({"input": frame}, y, callbacks=callbacks)
        return done

    ahead = search(tmp_path / "ahead")
    train, val = ahead._trainer.ahead()
    raw = make_dataset(ahead._trainer.val[0], None, 64)
    model = keras.models.load_model(tmp_path / "ahead" / "trials" / "trial_1.keras")
    assert len(model.inputs) == frame.shape[1]  # the saved model takes the raw columns
    # the encoding computed once is the model's own
    encoding = keras.Model(model.inputs, model.get_layer("input_encoded").output)
    np.testing.assert_allclose(val["input"], encoding.predict(raw, verbose=0), atol=1e-6)
    assert len(train["input"]) == len(ahead._trainer.train[1])
    # the view trained the saved model: its predictions on the raw columns are the ones
    # the view made on the encoding (the ensemble selects from those)
    predicted = np.load(tmp_path / "ahead" / "trials" / "trial_1.val.npy")
    np.testing.assert_allclose(model.predict(raw, verbose=0), predicted, atol=1e-5)
    # with callbacks of one's own, trials train the model itself (the callback sees its raw
    # inputs), to the same values
    sees = _SeesTheModel()
    raw_search = search(tmp_path / "raw", callbacks=[sees])
    assert len(sees.inputs) == frame.shape[1]
    np.testing.assert_allclose([t.value for t in raw_search.study.trials],
                               [t.value for t in ahead.study.trials], rtol=1e-4)
    assert ahead.study.trials[1].value > 0.6


def test_few_columns_are_not_ranked_and_the_first_trials_try_the_mlp_then_the_linear_model():
    few = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) % 3})
    kind = TabularInput("input").fit(few)
    space = ModelSpace([*kind.default_blocks(), ClassificationHead(num_classes=2)],
                       inputs={"input": kind})
    space.adapt(space.arrays({"input": few}), np.arange(50) % 2)
    assert next(space.all_blocks()).importance is None
    assert "features/keep" not in [p.name for p in space.hyperparameters().space]
    # without keep, the two MLP points are one; then the linear model, then the MLP on the
    # periodic embedding
    assert [(p["dense_1/num_layers"], p.get("features/embedding")) for p in
            space.first_trials()] == [(2, None), (0, None), (2, "periodic")]
    frame, y = _table_with_noise(300)
    clf = AutoClassifier(max_trials=4, epochs=1, ensemble_size=1, **TINY).fit(frame, y)
    params = [t["params"] for t in clf.search_results_]
    assert [p["features/keep"] for p in params[:3]] == ["informative", "all", "all"]
    assert all(p["dense_1/units"] == 256 and p["dense_1/num_layers"] == 2
               and p["training/learning_rate"] == 1e-3 for p in params[:2])
    linear = params[2]  # no hidden layer, so no layer settings
    assert linear["dense_1/num_layers"] == 0 and linear["training/learning_rate"] == 3e-3
    assert not {"dense_1/units", "dense_1/dropout"} & set(linear)
    assert params[3]["features/embedding"] == "periodic" and params[3] not in params[:3]
    hp = kt.HyperParameters()
    hp.Fixed("dense_1/num_layers", 0)
    dense = [layer for layer in space.build(hp).layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == 1  # the head alone: a linear model of the encoded columns
    assert clf.predict(frame.iloc[:5]).shape == (5,)
    # one objective: the front is the best trial, and select() gives its own trained model
    # in place of the one retrained on all rows
    assert [p["trial"] for p in clf.pareto_front_] == [clf.selected_trial_]
    retrained = clf.predict_proba(frame)
    clf.select(clf.selected_trial_)
    assert "retrained on all rows" in clf.search_summary_["final_model"]
    assert not np.allclose(clf.predict_proba(frame), retrained)
