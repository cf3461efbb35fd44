"""The ``autoarch`` command: search, report, export and validate."""

import argparse
import json
import os
import shutil
import sys
import time

from autoarch.errors import SpecError

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
    from autoarch.spec import load_spec

    spec = load_spec(resolve_spec(args.spec))
    n_params = len(spec.hyperparameters.space)
    blocks = len(spec.blocks or [])
    print(f"{args.spec}: ok ({n_params} parameters, {blocks} blocks, strategy "
          f"'{spec.strategy}')")
    return 0


def cmd_search(args):
    from sklearn.model_selection import train_test_split

    from autoarch.data import load_data
    from autoarch.engine.journal import Journal
    from autoarch.estimators.from_spec import estimator_from_spec
    from autoarch.spec import load_spec

    path = resolve_spec(args.spec)
    spec = load_spec(path)
    if spec.data is None:
        raise SpecError("the spec names no data (add e.g. 'data: sklearn:digits')", "data", path)
    directory = args.dir or os.path.join("autoarch_runs", spec.name or
                                         os.path.splitext(os.path.basename(path))[0])
    if Journal(directory).exists() and not args.resume:
        print(f"error: {directory} already holds a search; pass --resume to continue it or "
              "--dir for a new one", file=sys.stderr)
        return 2
    x, y = load_data(spec.data, base=os.path.dirname(os.path.abspath(path)))
    classification = (spec.task or "classification") == "classification"
    seed = spec.seed if spec.seed is not None else 0
    stratify = y if classification else None
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed,
                                                        stratify=stratify)
    estimator = estimator_from_spec(spec, strategy=args.strategy, max_trials=args.max_trials,
                                    epochs=args.epochs, time_limit=args.time_limit,
                                    isolate_trials=args.isolate_trials, directory=directory,
                                    verbose=1)
    print(f"searching {path} on {spec.data} ({len(y_train)} train / {len(y_test)} test) with "
          f"'{estimator.strategy}' into {directory}", flush=True)
    started = time.monotonic()
    estimator.fit(x_train, y_train)
    estimator.export(os.path.join(directory, BEST_MODEL))
    shutil.copyfile(path, os.path.join(directory, "spec.yaml"))
    test_score = float(estimator.score(x_test, y_test))
    summary = {"test_" + ("accuracy" if classification else "r2"): test_score,
               "search_seconds": round(time.monotonic() - started, 1),
               "best_params": estimator.best_params_, "best_value": estimator.best_score_}
    with open(os.path.join(directory, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=2, default=str)
    print()
    print_trials(directory, limit=10)
    print(f"\ntest {'accuracy' if classification else 'R^2'}: {test_score:.4f}   "
          f"best model: {os.path.join(directory, BEST_MODEL)}")
    return 0


def _trials_from_journal(directory):
    from autoarch.engine.journal import Journal

    journal = Journal(directory)
    if not journal.exists():
        raise FileNotFoundError(f"{directory}: no search journal here")
    records = journal.read()
    header, trials = records[0], {}
    for record in records[1:]:
        if record["event"] == "ask":
            trials[record["number"]] = {"number": record["number"], "params": record["params"],
                                        "status": "RUNNING", "value": None}
        elif record["event"] == "tell":
            trials[record["number"]].update(status=record["status"], value=record["value"],
                                            duration=record.get("duration"),
                                            message=record.get("message"),
                                            info=record.get("info") or {})
    return header, list(trials.values())


def print_trials(directory, limit=None):
    header, trials = _trials_from_journal(directory)
    name, direction = header["objective"]
    sign = -1 if direction == "max" else 1
    ranked = sorted(trials, key=lambda t: (t["status"] != "COMPLETED",
                                           sign * (t["value"] or 0.0)))
    print(f"{'trial':>5}  {'status':<9}  {name:>12}  {'seconds':>7}  parameters / reason")
    for trial in ranked[:limit]:
        value = "" if trial["value"] is None else f"{float(trial['value']):.4f}"
        seconds = trial.get("duration")
        seconds = "" if seconds is None else f"{seconds:.1f}"
        params = ", ".join(f"{k}={v}" for k, v in trial["params"].items()
                           if not k.startswith("tuner/"))
        note = trial.get("message") or (trial.get("info") or {}).get("stopped") or ""
        print(f"{trial['number']:>5}  {trial['status']:<9}  {value:>12}  {seconds:>7}  {params}")
        if note:
            print(f"{'':>40}  ({note.splitlines()[0]})")
    if limit is not None and len(ranked) > limit:
        print(f"... {len(ranked) - limit} more (autoarch report {directory})")


def cmd_report(args):
    import keras

    print_trials(args.dir)
    path = os.path.join(args.dir, BEST_MODEL)
    if os.path.exists(path):
        print("\nthe winner's architecture:")
        keras.models.load_model(path, safe_mode=True).summary()
    return 0


def cmd_export(args):
    import keras

    from autoarch.export import export_model

    model = keras.models.load_model(os.path.join(args.dir, BEST_MODEL), safe_mode=True)
    suffix = {"keras": ".keras", "savedmodel": "", "tflite": ".tflite"}[args.format]
    target = args.output or os.path.join(args.dir, "export", f"model{suffix}")
    result = export_model(model, target, args.format)
    print(f"exported {args.format}: {result['path']} ({result['bytes'] / 1024:.1f} KiB)")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="autoarch", description="Keras-native AutoML and "
                                     "neural architecture search.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    search = commands.add_parser("search", help="run a search from a spec")
    search.add_argument("spec", help="a YAML spec, or a ready spec's name (e.g. digits)")
    search.add_argument("--dir", help="project directory (default autoarch_runs/NAME)")
    search.add_argument("--max-trials", type=int)
    search.add_argument("--strategy")
    search.add_argument("--epochs", type=int, help="epochs per trial (overrides the spec)")
    search.add_argument("--time-limit", type=float, help="seconds for the whole search")
    search.add_argument("--isolate-trials", action="store_true",
                        help="train in worker processes (flat memory over long searches)")
    search.add_argument("--resume", action="store_true", help="continue a search in --dir")
    search.set_defaults(run=cmd_search)
    report = commands.add_parser("report", help="trials table and the winner's architecture")
    report.add_argument("dir")
    report.set_defaults(run=cmd_report)
    export = commands.add_parser("export", help="export the best model")
    export.add_argument("dir")
    export.add_argument("--format", choices=("keras", "savedmodel", "tflite"), default="keras")
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
