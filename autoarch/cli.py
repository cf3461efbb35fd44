"""The ``autoarch`` command: search, report, export and validate."""

import argparse
import json
import os
import shutil
import sys
import time

# the command's terminal stays free of TensorFlow's start-up chatter (set before it loads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from autoarch import __version__  # noqa: E402
from autoarch.config import (FLAT_FIELDS, ConfigError, Flag, Number, OneOf,  # noqa: E402
                             SearchConfig, Switch)
from autoarch.data import load_data  # noqa: E402
from autoarch.engine import Journal, Study  # noqa: E402
from autoarch.errors import SpecError  # noqa: E402
from autoarch.estimators import estimator_for_task  # noqa: E402
from autoarch.export import FORMATS, export_model  # noqa: E402
from autoarch.specfile import load_spec  # noqa: E402

BEST_MODEL = "best_model.keras"


def builtin_specs_dir():
    """The folder of ready specs (installed package data, or the source tree's ``specs/``)."""
    package = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(package, "specs")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(package), "specs")


def resolve_spec(name):
    """A spec path, or the name of a ready spec (``digits`` -> specs/digits.yaml)."""
    if os.path.exists(name):
        return name
    candidate = os.path.join(builtin_specs_dir(), f"{name}.yaml")
    if os.path.exists(candidate):
        return candidate
    raise SpecError(f"no spec file '{name}' (and no ready spec of that name in "
                    f"{builtin_specs_dir()})")


def cmd_validate(args):
    spec = load_spec(resolve_spec(args.spec))
    n_params = len(spec.hyperparameters.space)
    blocks = len(spec.blocks or [])
    print(f"{args.spec}: ok ({n_params} parameters, {blocks} blocks, strategy "
          f"'{spec.config.strategy}')")
    return 0


def _search_settings(args):
    """The search settings given as flags, by knob name."""
    return {name: getattr(args, name) for name, (_, f) in FLAT_FIELDS.items()
            if f.metadata["flag"] and getattr(args, name, None) is not None}


def cmd_search(args):
    path = resolve_spec(args.spec)
    spec = load_spec(path)
    if spec.data is None:
        raise SpecError("the spec names no data (add e.g. 'data: sklearn:digits')", "data", path)
    settings = _search_settings(args)
    try:  # the flags, checked as the spec's own values are, before anything loads
        config = SearchConfig.from_flat({**spec.settings, **settings})
    except ConfigError as err:
        flag = "--" + err.name.replace("_", "-")
        print(f"error: {flag if err.name in settings else path + ': ' + err.name}: "
              f"{err.message}", file=sys.stderr)
        return 1
    directory = args.dir or os.path.join("autoarch_runs", spec.name or
                                         os.path.splitext(os.path.basename(path))[0])
    if Journal(directory, create=False).exists() and not args.resume:
        print(f"error: {directory} already holds a search; pass --resume to continue it or "
              "--dir for a new one", file=sys.stderr)
        return 2
    x, y = load_data(spec.data, base=os.path.dirname(os.path.abspath(path)))
    task = spec.task or "classification"
    stratify = y if task == "classification" else None
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25,
                                                        random_state=config.seed,
                                                        stratify=stratify)
    estimator = estimator_for_task(task)(spec=spec, directory=directory, verbose=1, **settings)
    print(f"searching {path} on {spec.data} ({len(y_train)} train / {len(y_test)} test) with "
          f"'{config.strategy}' into {directory}", flush=True)
    started = time.monotonic()
    estimator.fit(x_train, y_train)
    estimator.export(os.path.join(directory, BEST_MODEL))
    shutil.copyfile(path, os.path.join(directory, "spec.yaml"))
    test_score = float(estimator.score(x_test, y_test))
    metric = "accuracy" if task == "classification" else "r2"
    summary = {"test_" + metric: test_score,
               "search_seconds": round(time.monotonic() - started, 1),
               "best_params": estimator.best_params_, "best_value": estimator.best_score_,
               "budget": estimator.search_summary_}
    with open(os.path.join(directory, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=2, default=str)
    print()
    print_trials(Study.load(directory), limit=10)
    print(f"\ntest {'accuracy' if task == 'classification' else 'R^2'}: {test_score:.4f}   "
          f"best model: {os.path.join(directory, BEST_MODEL)}")
    return 0


def print_trials(study, limit=None):
    """The trials of a (loaded) study, best first; failed and stopped ones with the reason."""
    sign = -1 if study.objective.direction == "max" else 1
    ranked = sorted(study.trials, key=lambda t: (not t.is_finite(),
                                                 sign * (t.value if t.is_finite() else 0.0)))
    print(f"{'trial':>5}  {'status':<9}  {study.objective.name:>12}  {'seconds':>7}  "
          "parameters / reason")
    for trial in ranked[:limit]:
        value = "" if trial.value is None else f"{float(trial.value):.4f}"
        seconds = "" if trial.duration is None else f"{trial.duration:.1f}"
        params = ", ".join(f"{k}={v}" for k, v in trial.hyperparameters.items())
        note = trial.message or trial.info.get("stopped") or ""
        print(f"{trial.number:>5}  {trial.status:<9}  {value:>12}  {seconds:>7}  {params}")
        if note:
            print(f"{'':>40}  ({note.splitlines()[0]})")
    if limit is not None and len(ranked) > limit:
        print(f"... {len(ranked) - limit} more (autoarch report {study.directory})")


def cmd_report(args):
    print_trials(Study.load(args.dir))
    path = os.path.join(args.dir, BEST_MODEL)
    if os.path.exists(path):
        print("\nthe winner's architecture:")
        keras.models.load_model(path, safe_mode=True).summary()
    return 0


def cmd_export(args):
    model = keras.models.load_model(os.path.join(args.dir, BEST_MODEL), safe_mode=True)
    suffix = {"keras": ".keras", "savedmodel": "", "tflite": ".tflite"}[args.format]
    target = args.output or os.path.join(args.dir, "export", f"model{suffix}")
    result = export_model(model, target, args.format)
    print(f"exported {args.format}: {result['path']} ({result['bytes'] / 1024:.1f} KiB)")
    return 0


def _switch(text):
    """``yes``/``no``/``auto`` (or true/false, on/off) from the command line."""
    word = text.strip().lower()
    if word == "auto":
        return word
    if word in ("yes", "true", "on", "1"):
        return True
    if word in ("no", "false", "off", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes, no or auto; got {text!r}")


def add_setting_flags(parser):
    """One flag per search setting of :mod:`autoarch.config` (``--max-trials``, ...); a flag
    given overrides the spec's value."""
    group = parser.add_argument_group("search settings (override the spec's values)")
    for name, (_, f) in FLAT_FIELDS.items():
        if not f.metadata["flag"]:
            continue
        rule, flag = f.metadata["rule"], "--" + name.replace("_", "-")
        options = {"dest": name, "default": None, "help": f.metadata["doc"].replace("%", "%%")}
        if isinstance(rule, Flag):
            options["action"] = argparse.BooleanOptionalAction
        elif isinstance(rule, Number):
            options.update(type=rule.kind, metavar="N" if rule.kind is int else "X")
        elif isinstance(rule, OneOf):
            options["choices"] = rule.options
        elif isinstance(rule, Switch):
            options.update(type=_switch, choices=(True, False, "auto"), metavar="{yes,no,auto}")
        group.add_argument(flag, **options)


def build_parser():
    parser = argparse.ArgumentParser(prog="autoarch", description="Keras-native AutoML and "
                                     "neural architecture search.")
    parser.add_argument("--version", action="version", version=f"autoarch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    search = commands.add_parser("search", help="run a search from a spec")
    search.add_argument("spec", help="a YAML spec, or a ready spec's name (e.g. digits)")
    search.add_argument("--dir", help="project directory (default autoarch_runs/NAME)")
    add_setting_flags(search)
    search.add_argument("--resume", action="store_true", help="continue a search in --dir")
    search.set_defaults(run=cmd_search)
    report = commands.add_parser("report", help="trials table and the winner's architecture")
    report.add_argument("dir")
    report.set_defaults(run=cmd_report)
    export = commands.add_parser("export", help="export the best model")
    export.add_argument("dir")
    export.add_argument("--format", choices=FORMATS, default="keras")
    export.add_argument("--output", help="target path (default DIR/export/model...)")
    export.set_defaults(run=cmd_export)
    validate = commands.add_parser("validate", help="check a spec; exit status 1 if invalid")
    validate.add_argument("spec")
    validate.set_defaults(run=cmd_validate)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except SpecError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
