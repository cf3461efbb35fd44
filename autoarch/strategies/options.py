"""Each strategy's options: their names, defaults and rules, readable without keras-tuner.

The strategies are keras-tuner oracles, so importing one imports Keras and TensorFlow
(seconds). A spec's ``strategy:`` section is checked against this table alone, so ``autoarch
validate`` answers without starting TensorFlow; the classes' constructors take the same
keyword arguments with the same defaults (a test holds the two together) and check their
values with :func:`check_values`, so a strategy built directly is checked the same way.
"""

from autoarch.errors import SpecError
from autoarch.spec.checks import did_you_mean

#: the proxies of ``autoarch.proxies.PROXIES`` (a test keeps the two equal)
PROXY_NAMES = ("params", "flops", "grad_norm", "snip", "synflow", "jacob_cov", "naswot",
               "ntk", "zen")

_ONE_AT_A_TIME = {"prescreen": 1}
_SUPERNET = {"supernet_epochs": None, "fixed": None, "prescreen": 1}
_DARTS = {"architecture_learning_rate": 3e-3, "warmup_epochs": 2, "max_skips": 2, "top_k": 3,
          "selection": "perturbation", **_SUPERNET}
#: how DARTS and GDAS rank a choice's options for the derived paths
SELECTIONS = ("perturbation", "weight")

#: ``{strategy: {option: default}}``, in the order ``--strategy`` lists them
OPTIONS = {
    "random": dict(_ONE_AT_A_TIME),
    "grid": {},
    "bayesian": {"num_initial_points": 10, "num_candidates": 500, "num_local": 200,
                 "xi": 0.01, **_ONE_AT_A_TIME},
    "evolution": {"population_size": 20, "sample_size": 5, "crossover_rate": 0.0,
                  "mutations": 1, "inherit": True, **_ONE_AT_A_TIME},
    "reinforce": {"learning_rate": 0.1, "entropy_weight": 0.01, "baseline_decay": 0.5,
                  "units": 32, "embedding_dim": 16, "max_options": 16, **_ONE_AT_A_TIME},
    "hyperband": {"max_epochs": 27, "factor": 3, "hyperband_iterations": 1,
                  "continue_training": True},
    "oneshot": {"search": "evolution", "search_trials": 100, "top_k": 3, "few_shot_splits": 0,
                "few_shot_epochs": 2, "calibration_rows": 320, "shrink_rounds": 2,
                "shrink_epochs": 3, "shrink_samples": 200, **_SUPERNET},
    "darts": dict(_DARTS),
    "gdas": {"temperature_start": 5.0, "temperature_end": 0.5, **_DARTS, "warmup_epochs": 0,
             "selection": "weight"},
    "zero_cost": {"samples": None, "top_k": 10, "proxy": "vote", "voters": None, "rows": 64,
                  "time_share": 0.3, "prescreen": 1},
}
#: strategies that find their candidates in a phase before the first trial
PHASED = ("oneshot", "darts", "gdas", "zero_cost")
#: strategies that search by sharing weights in a supernet (``autoarch.oneshot``)
SUPERNETS = ("oneshot", "darts", "gdas")


def _int_at_least(name, value, low, prefix):
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{prefix}{name} must be an int >= {low}, got {value!r}")


def _bayesian(o):
    if o["num_initial_points"] < 2:
        raise ValueError(f"bayesian: num_initial_points must be >= 2, got "
                         f"{o['num_initial_points']}")
    if o["num_candidates"] < 1 or o["num_local"] < 0:
        raise ValueError("bayesian: num_candidates must be >= 1 and num_local >= 0")


def _evolution(o):
    if o["population_size"] < 2:
        raise ValueError(f"evolution: population_size must be >= 2, got {o['population_size']}")
    if not 1 <= o["sample_size"] <= o["population_size"]:
        raise ValueError(f"evolution: sample_size must be in [1, population_size="
                         f"{o['population_size']}], got {o['sample_size']}")
    if not 0.0 <= o["crossover_rate"] <= 1.0:
        raise ValueError(f"evolution: crossover_rate must be in [0, 1], got "
                         f"{o['crossover_rate']}")
    if o["mutations"] < 1:
        raise ValueError(f"evolution: mutations must be >= 1, got {o['mutations']}")


def _reinforce(o):
    if o["learning_rate"] <= 0:
        raise ValueError(f"reinforce: learning_rate must be > 0, got {o['learning_rate']}")
    if not 0.0 <= o["baseline_decay"] < 1.0:
        raise ValueError(f"reinforce: baseline_decay must be in [0, 1), got "
                         f"{o['baseline_decay']}")
    if o["units"] < 1 or o["embedding_dim"] < 1 or o["max_options"] < 2:
        raise ValueError("reinforce: units, embedding_dim >= 1 and max_options >= 2 required")


def _hyperband(o):
    if o["max_epochs"] < 1:
        raise ValueError(f"hyperband: max_epochs must be >= 1, got {o['max_epochs']}")


def _zero_cost(o):
    for where, name in [("proxy", o["proxy"])] + [("voters", v) for v in o["voters"] or ()]:
        if name not in PROXY_NAMES + (("vote",) if where == "proxy" else ()):
            raise SpecError(f"unknown proxy '{name}'{did_you_mean(name, PROXY_NAMES)}; "
                            f"known: {', '.join(PROXY_NAMES)}, vote", f"strategy.{where}")
    for option in ("samples", "top_k", "rows"):
        if o[option] is not None or option != "samples":
            _int_at_least(option, o[option], 1, "zero_cost: ")
    if not 0 < o["time_share"] <= 1:
        raise ValueError(f"zero_cost: time_share must be in (0, 1], got {o['time_share']!r}")


def _oneshot(o):
    for option in ("search_trials", "top_k", "few_shot_epochs", "calibration_rows",
                   "shrink_samples"):
        _int_at_least(option, o[option], 1, "oneshot: ")
    for option in ("few_shot_splits", "shrink_rounds", "shrink_epochs"):
        _int_at_least(option, o[option], 0, "oneshot: ")


def _bilevel(name, o):
    rate = o["architecture_learning_rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
        raise ValueError(f"{name}: architecture_learning_rate must be a number > 0, got "
                         f"{rate!r}")
    _int_at_least("warmup_epochs", o["warmup_epochs"], 0, f"{name}: ")
    _int_at_least("top_k", o["top_k"], 1, f"{name}: ")
    if o["max_skips"] is not None:
        _int_at_least("max_skips", o["max_skips"], 0, f"{name}: ")
    if o["selection"] not in SELECTIONS:
        raise SpecError(f"unknown selection {o['selection']!r}"
                        f"{did_you_mean(str(o['selection']), SELECTIONS)}; known: "
                        f"{', '.join(SELECTIONS)}", "strategy.selection")


_CHECKS = {"bayesian": _bayesian, "evolution": _evolution, "reinforce": _reinforce,
           "hyperband": _hyperband, "zero_cost": _zero_cost, "oneshot": _oneshot,
           "darts": lambda o: _bilevel("darts", o), "gdas": lambda o: _bilevel("gdas", o)}


def check_values(name, options, phased=None):
    """Check the values of ``options`` of strategy ``name`` (the others at their defaults);
    a ``ValueError`` (or ``SpecError``) says what is wrong. A strategy of one's own (a name
    not in :data:`OPTIONS`) has only ``prescreen`` checked; ``phased``: whether it finds its
    trials in a phase before the first (by default, whether ``name`` is in :data:`PHASED`)."""
    values = {**OPTIONS.get(name, {}), **options}
    if "prescreen" in values:
        _int_at_least("prescreen", values["prescreen"], 1, "")
        if (name in PHASED if phased is None else phased) and values["prescreen"] > 1:
            raise ValueError(f"strategy '{name}': prescreen applies to strategies that "
                             "suggest one trial at a time; this one finds its trials first")
    if name in _CHECKS:
        try:
            _CHECKS[name](values)
        except TypeError:  # a value of the wrong kind ("20" for a count)
            wrong = [f"{k}={v!r}" for k, v in options.items()
                     if not isinstance(v, type(OPTIONS[name].get(k)))
                     and OPTIONS[name].get(k) is not None]
            raise ValueError(f"{name}: an option of the wrong type ({', '.join(wrong)})") \
                from None
