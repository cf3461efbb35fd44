"""The search configuration: every knob of a search declared once, with its default, its valid
range and its documentation.

``Budget`` (how much searching), ``Training`` (how each candidate trains) and ``SearchConfig``
(strategy, objective, seed, and the two sections) are dataclasses that check every value when
they are made, with one message format. Everything else reads them:

- specs: the ``budget:`` and ``training:`` sections and the top-level ``strategy``,
  ``objective`` and ``seed`` (errors then carry the spec's file:line:column);
- the estimators: one flat scikit-learn parameter per knob (their signature and their
  parameter documentation are generated from these fields);
- the ``autoarch search`` command: one flag per knob (``--max-trials``, ``--batch-size``, ...);
- :class:`~autoarch.engine.search.ModelSearch`.

Adding a knob is adding one field here (and using it where it acts).
"""

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

from autoarch.errors import SpecError
from autoarch.objectives import as_pair
from autoarch.spec.checks import did_you_mean
from autoarch.spec.params import add_parameter, is_definition
from autoarch.spec.yaml_loader import MarkedDocument
from autoarch.spec.space import ParameterSpace
from autoarch.strategies import STRATEGIES, check_options

DISTRIBUTIONS = ("auto", "default", "mirrored", "one_device")
#: the budget when neither ``max_trials`` nor ``time_limit`` is given
DEFAULT_LIMITS = {"max_trials": 10, "time_limit": 900}
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "plateau")  # made by autoarch.engine.schedules


class ConfigError(ValueError):
    """A configuration value is invalid; ``name`` is the knob, ``message`` what is wrong."""

    def __init__(self, name, message):
        self.name, self.message = name, message
        super().__init__(f"{name}: {message}")


# -- rules: what a valid value is ----------------------------------------------------------
@dataclass(frozen=True)
class Number:
    """An int (``kind=int``) or a real number within bounds; bools are never numbers."""

    kind: type
    low: float = None
    high: float = None
    low_open: bool = False
    high_open: bool = False

    def describe(self):
        what = "an int" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return (f"{what} in {'(' if self.low_open else '['}{self.low}, {self.high}"
                    f"{')' if self.high_open else ']'}")
        if self.low is not None:
            return f"{what} {'>' if self.low_open else '>='} {self.low}"
        return what

    def problem(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return self.describe()
        if self.kind is int and not isinstance(value, numbers.Integral):
            return self.describe()
        if not math.isfinite(value):
            return self.describe()
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return self.describe()
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return self.describe()
        return None


@dataclass(frozen=True)
class OneOf:
    options: tuple

    def describe(self):
        return "one of " + ", ".join(map(repr, self.options))

    def problem(self, value):
        if isinstance(value, str) and value in self.options:
            return None
        return self.describe() + (did_you_mean(value, self.options) if isinstance(value, str)
                                  else "")


class StrategyName(OneOf):
    """A distribution strategy's name, or (in Python) a ``tf.distribute.Strategy``."""

    def problem(self, value):
        return None if hasattr(value, "scope") else super().problem(value)


@dataclass(frozen=True)
class Flag:
    def describe(self):
        return "True or False"

    def problem(self, value):
        return None if isinstance(value, bool) else self.describe()


@dataclass(frozen=True)
class Switch:
    """True, False or 'auto'."""

    def describe(self):
        return "True, False or 'auto'"

    def problem(self, value):
        return None if isinstance(value, bool) or value == "auto" else self.describe()


@dataclass(frozen=True)
class Custom:
    """A rule written as a function returning ``None`` or what the value should be."""

    check: object
    description: str

    def describe(self):
        return self.description

    def problem(self, value):
        return self.check(value)


def _searched(values_rule):
    """A fixed value (``values_rule``), a list (a choice) or a parameter definition."""

    def check(value):
        if isinstance(value, list) or is_definition(value):
            definition = value if is_definition(value) else {"type": "choice", "values": value}
            try:
                add_parameter(ParameterSpace(), MarkedDocument(None), (), "value", definition)
            except SpecError as err:
                return err.message
            values = definition.get("values", [])
            bad = [v for v in values if values_rule.problem(v)]
            return f"every value must be {values_rule.describe()}, got {bad[0]!r}" if bad else None
        return values_rule.problem(value)

    return Custom(check, f"{values_rule.describe()}, a list of such values (a choice) or a "
                         "parameter definition")


def _objective_problem(value):
    try:
        as_pair(value)
    except ValueError as err:
        return str(err).split(": ", 1)[1]
    return None


def _objectives_problem(value):
    if not isinstance(value, (list, tuple)) or not value:
        return "a non-empty list of objectives"
    for item in value:
        problem = _objective_problem(item)
        if problem is not None:
            return f"a list of objectives: {problem}"
    return None


def _constraints_problem(value):
    if not isinstance(value, dict):
        return "a mapping of metric or measure names to bounds"
    for name, bound in value.items():
        if not isinstance(name, str) or not name:
            return f"a mapping of metric or measure names to bounds: {name!r} is not a name"
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or \
                not math.isfinite(bound):
            return f"a mapping of names to finite numbers: {name} is {bound!r}"
    return None


def _class_weight_problem(value):
    if value == "balanced":
        return None
    if not isinstance(value, dict) or not value:
        return "'balanced' or a mapping of class labels to weights" + (
            did_you_mean(value, ["balanced"]) if isinstance(value, str) else "")
    for label, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or \
                not math.isfinite(weight) or weight < 0:
            return f"a mapping of class labels to weights >= 0 ({label!r} is {weight!r})"
    return None


def _mapping_problem(value):
    return None if isinstance(value, dict) else "a mapping of option names to values"


def knob(default, rule, doc, *, none=False, flag=True):
    """A configuration field: ``none`` allows ``None``; ``flag`` gives it a command flag
    (True: ``--name-with-dashes``; a string: that flag)."""
    metadata = {"rule": rule, "doc": doc, "none": none, "flag": flag}
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=metadata)
    return field(default=default, metadata=metadata)


def _check_fields(instance):
    for f in dataclasses.fields(instance):
        if "rule" not in f.metadata:
            continue
        value = getattr(instance, f.name)
        if value is None and f.metadata["none"]:
            continue
        problem = f.metadata["rule"].problem(value)
        if problem is not None:
            suffix = " or None" if f.metadata["none"] else ""
            raise ConfigError(f.name, f"must be {problem}{suffix}; got {value!r}")


# -- the sections ----------------------------------------------------------------------------
@dataclass
class Budget:
    """How much searching: trials, time, epochs, and what may stop a trial early."""

    max_trials: int = knob(None, Number(int, 1), "Trials to run at most (resumed ones count); "
                           "None: as many as `time_limit` allows. With neither set: "
                           f"{DEFAULT_LIMITS['max_trials']} trials within "
                           f"{DEFAULT_LIMITS['time_limit']} s.", none=True)
    time_limit: float = knob(None, Number(float, 0, low_open=True),
                             "Seconds for the whole fit, the final model included: the search "
                             "stops in time for it, and the trial in flight stops too.",
                             none=True)
    epochs: int = knob(20, Number(int, 1), "Epochs per trial (and for the winner's final fit).")
    search_epochs: int = knob(None, Number(int, 1), "Epochs per trial during the search, when "
                              "lower than `epochs` (low fidelity); the winner then trains for "
                              "`epochs`.", none=True)
    search_data_fraction: float = knob(1.0, Number(float, 0, 1, low_open=True),
                                       "Fraction of the training rows each trial sees (low "
                                       "fidelity).")
    early_stopping_patience: int = knob(3, Number(int, 0), "Epochs without improvement of the "
                                        "objective before a trial stops; 0 or None in a spec: "
                                        "never (an estimator's None keeps the default: give 0).",
                                        none=True)
    curve_stopping: bool = knob(True, Flag(), "Stop trials whose extrapolated learning curve "
                                "cannot beat the best so far (with one objective, once a "
                                "trial meets the constraints).")
    final_fit: bool = knob(True, Flag(), "Retrain the winner (each ensemble member) on "
                           "training + validation data and average the retraining with the "
                           "trial's own model (texts and several objectives: the retraining "
                           "alone; False keeps the trial's model alone).")
    max_consecutive_failures: int = knob(5, Number(int, 0), "Stop the search after this many "
                                         "failed trials in a row; 0 or None in a spec: never "
                                         "(an estimator's None keeps the default: give 0).",
                                         none=True)

    def __post_init__(self):
        _check_fields(self)

    def limits(self):
        """``(max_trials, time_limit)`` in force: as given, or the defaults when neither is."""
        if self.max_trials is None and self.time_limit is None:
            return DEFAULT_LIMITS["max_trials"], DEFAULT_LIMITS["time_limit"]
        return self.max_trials, self.time_limit


@dataclass
class Training:
    """How each candidate trains."""

    batch_size: int = knob(32, Number(int, 1), "Rows per training batch.")
    validation_split: float = knob(0.2, Number(float, 0, 1, low_open=True, high_open=True),
                                   "Fraction of the rows held out to score trials.")
    class_weight: object = knob(None, Custom(_class_weight_problem, "'balanced' or a mapping"),
                                "Classes' weights (classification): 'balanced' weighs each "
                                "class by rows / (classes x its rows), so that every class "
                                "counts alike; a mapping {label: weight} gives them (classes "
                                "not named weigh 1). They multiply `fit`'s sample_weight: the "
                                "loss, the objective (with 'balanced', val_accuracy is the "
                                "balanced accuracy), the classical members and the ensemble's "
                                "selection are weighted. None: every row weighs alike.",
                                none=True)
    optimizer: str = knob(None, _searched(OneOf(OPTIMIZERS)), "Optimizer (a name, a list to "
                          "search, or a parameter definition); None: adam.", none=True,
                          flag=False)
    learning_rate: float = knob(None, _searched(Number(float, 0, low_open=True)),
                                "Learning rate (a number, a list to search, or a parameter "
                                "definition); None: searched over 3e-4, 1e-3, 3e-3.", none=True,
                                flag=False)
    lr_schedule: str = knob(None, _searched(OneOf(LR_SCHEDULES)), "Learning-rate schedule: "
                            "'plateau' divides the rate by about 3 after each epoch in which the "
                            "validation loss did not improve (the winner's final fit replays the "
                            "rates), 'constant' keeps it; a list searches them. None: constant.",
                            none=True, flag=False)
    weight_decay: float = knob(None, _searched(Number(float, 0)), "Decoupled weight decay: "
                               "each step shrinks every weight by learning rate x this (a "
                               "number, a list to search, or a parameter definition). None: "
                               "the optimizer's own (none; adamw's 0.004).", none=True,
                               flag=False)
    distribution: str = knob("auto", StrategyName(DISTRIBUTIONS), "tf.distribute strategy for "
                             "each trial: 'auto' is MirroredStrategy over several GPUs, else "
                             "the default; in Python also a tf.distribute.Strategy.")
    isolate_trials: object = knob("auto", Switch(), "Train trials in worker processes (flat "
                                  "memory, a crash fails only its trial). 'auto': trials train "
                                  "in this process until a worker has started in the "
                                  "background, then in workers; a search of at most two "
                                  "trials, or a space that cannot be sent to a worker (e.g. a "
                                  "block class defined in __main__, with a warning), stays in "
                                  "this process.")
    trials_per_worker: int = knob(25, Number(int, 1), "Trials a worker process runs before it "
                                  "is replaced (with `isolate_trials`).")
    n_jobs: int = knob(1, Number(int, 0), "Trials trained at once on this machine, each in a "
                       "worker process of its own (pinned to one GPU each where there are "
                       "GPUs, else to an equal share of the cores); 0, with `--chief`: none "
                       "here, workers that join train them all.", flag="--workers")
    tensorboard: bool = knob(False, Flag(), "Write TensorBoard logs per trial under the search "
                             "directory's tensorboard/trial_N (per-epoch scalars, and the "
                             "trial's parameters and objective for the HParams dashboard): "
                             "`tensorboard --logdir DIRECTORY/tensorboard` shows the search.")

    def __post_init__(self):
        _check_fields(self)

    def choices(self):
        """The training choices given (optimizer, learning rate, schedule, weight decay), for
        the space's ``training/`` parameters; those left None keep the space's defaults."""
        return {name: getattr(self, name) for name in ("optimizer", "learning_rate",
                                                        "lr_schedule", "weight_decay")
                if getattr(self, name) is not None}


SECTIONS = {"budget": Budget, "training": Training}


@dataclass
class SearchConfig:
    """Everything a search needs besides its space and data."""

    strategy: str = knob("bayesian", OneOf(tuple(STRATEGIES)), "Search strategy: "
                         + ", ".join(STRATEGIES) + ".")
    strategy_options: dict = knob({}, Custom(_mapping_problem, "a mapping"),
                                  "Options of the strategy (e.g. {'population_size': 20}).",
                                  flag=False)
    objective: str = knob(None, Custom(_objective_problem, "a metric name or (name, direction)"),
                          "Metric to optimize, e.g. 'val_accuracy' or ('val_auc', 'max'): "
                          "val_loss, val_accuracy, val_auc, val_prc (area under the "
                          "precision-recall curve), val_precision and val_recall (two "
                          "classes); val_mean_squared_error, val_mean_absolute_error, "
                          "val_root_mean_squared_error, val_r2_score, "
                          "val_mean_absolute_percentage_error; the training rows' ones "
                          "without val_. None: val_accuracy (classification) or "
                          "val_mean_squared_error (regression).",
                          none=True)
    objectives: list = knob(None, Custom(_objectives_problem, "a list of objectives"),
                            "Several objectives at once, the first the main one (it is "
                            "`objective`), e.g. ['val_accuracy', 'params']: names of metrics "
                            "or of autoarch.measures (params, flops, keras_bytes, "
                            "tflite_bytes, latency_ms, latency_batch_ms, tflite_latency_ms), "
                            "directions as for `objective`. The search returns a Pareto front "
                            "and the final model is its best trial in the first objective.",
                            none=True, flag=False)
    constraints: dict = knob({}, Custom(_constraints_problem, "a mapping"),
                             "Bounds {name: bound} on metrics or measures: at most the bound "
                             "for those minimised (params, latency_ms, val_loss), at least for "
                             "those maximised. A candidate breaking a bound on params or flops "
                             "is refused before training; the final model breaks none where a "
                             "trial does not.", flag=False)
    seed: int = knob(0, Number(int, 0), "Seed of the strategy, weights and data split.")
    ensemble_size: int = knob(10, Number(int, 1), "Rounds of greedy ensemble selection over "
                              "the trials' validation predictions (Caruana et al.); 1: the "
                              "single best trial.")
    crossval_rows: int = knob(500, Number(int, 0), "Up to this many rows (training + "
                              "validation, split by the search), a classifier's ensemble is "
                              "selected again once the search stops, on 5-fold "
                              "cross-validation of all rows: the best few trials and the "
                              "classical members each refitted per fold (within the time "
                              "limit). 0: never; the validation rows alone select.")
    boosted_trees: bool = knob(True, Flag(), "On a table (and a raw signal of up to 1,000 "
                               "training rows), also fit gradient-boosted trees (as a Keras "
                               "model) that the ensemble may weigh beside the trials (with "
                               "`ensemble_size` > 1 and one objective).")
    table_linear: bool = knob(True, Flag(), "On a table with classes, also fit logistic "
                              "regression on the encoded columns (as a Keras model) that the "
                              "ensemble may weigh beside the trials (with `ensemble_size` > 1 "
                              "and one objective); on a raw signal, ridge regression for "
                              "values, and with classes logistic regression over 1,000 "
                              "training rows (where no boosted trees are fitted).")
    text_linear: bool = knob(True, Flag(), "On one text input, also fit two linear models "
                             "over tf-idf word 1-2 grams, a linear SVM and NBSVM (as Keras "
                             "models), that the ensemble may weigh beside the trials (with "
                             "`ensemble_size` > 1 and one objective).")
    signal_neighbours: bool = knob(True, Flag(), "On one raw signal (a flat array of "
                                   "columns of one kind), images or sequences with classes, "
                                   "also fit a nearest-neighbours classifier (as a Keras "
                                   "model) that the ensemble may weigh beside the trials "
                                   "(with `ensemble_size` > 1 and one objective).")
    budget: Budget = field(default_factory=Budget)
    training: Training = field(default_factory=Training)

    def __post_init__(self):
        self.strategy_options = dict(self.strategy_options or {})
        self.constraints = dict(self.constraints or {})
        _check_fields(self)
        if self.objectives is not None:
            self.objectives = list(self.objectives)
            if self.objective is not None and \
                    as_pair(self.objective) != as_pair(self.objectives[0]):
                raise ConfigError("objective", f"is {self.objective!r} but the first of "
                                  f"`objectives` is {self.objectives[0]!r}; give one of them")
        try:  # the strategy's options, before anything trains
            check_options(self.strategy, self.strategy_options)
        except (SpecError, ValueError, TypeError) as err:
            raise ConfigError("strategy_options", getattr(err, "message", str(err))) from None

    # -- flat views: one name per knob, as estimators and command flags have them ----------
    @classmethod
    def from_flat(cls, values):
        """A config from ``{knob: value}``; missing knobs take their defaults."""
        unknown = set(values) - set(FLAT_FIELDS)
        if unknown:
            name = sorted(unknown)[0]
            raise ConfigError(name, f"unknown setting{did_you_mean(name, FLAT_FIELDS)}")
        sections = {s: SECTIONS[s](**{k: v for k, v in values.items() if FLAT_FIELDS[k][0] == s})
                    for s in SECTIONS}
        top = {k: v for k, v in values.items() if FLAT_FIELDS[k][0] is None}
        return cls(**top, **sections)

    def flat(self):
        """``{knob: value}`` for every knob."""
        return {name: getattr(self if section is None else getattr(self, section), name)
                for name, (section, _) in FLAT_FIELDS.items()}


def _flat_fields():
    flat = {}
    for f in dataclasses.fields(SearchConfig):
        if f.name in SECTIONS:
            for inner in dataclasses.fields(SECTIONS[f.name]):
                flat[inner.name] = (f.name, inner)
        else:
            flat[f.name] = (None, f)
    return flat


#: ``{knob: (section or None, dataclass field)}`` in declaration order
FLAT_FIELDS = _flat_fields()


def field_default(f):
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def parameters_doc(indent="    "):
    """The numpydoc ``Parameters`` entries of every knob (estimator docstrings use them)."""
    lines = []
    for name, (_, f) in FLAT_FIELDS.items():
        rule = f.metadata["rule"].describe() + (" or None" if f.metadata["none"] else "")
        lines.append(f"{indent}{name} : {rule}, default=None")
        default = field_default(f)
        fallback = "" if default is None or default == {} else f", else {default!r}"
        lines.append(f"{indent}    {f.metadata['doc']} Unset (None): the spec's value{fallback}.")
    return "\n".join(lines)
