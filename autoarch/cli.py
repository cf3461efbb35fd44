"""The ``autoarch`` command: search, predict, report, export and validate."""

import argparse
import contextlib
import os
import pickle
import re
import shutil
import sys
import time

from autoarch import __version__
from autoarch.errors import AutoarchError, SpecError
from autoarch.export import FORMATS
from autoarch.files import BEST_MODEL, ESTIMATOR, DirectoryLock, atomic_path, write_json
from autoarch.quiet import import_tensorflow_quietly

# TensorFlow, Keras and the search engine load only in the commands that use them, so
# `autoarch --help` and `--version` answer at once

SUMMARY = "summary.json"
#: a regression is read off a CSV's numeric target of more values than this (or of fractions)
MOST_CLASSES = 20
#: what a CSV file's name ends with, compressed as pandas reads it too
CSV_ENDINGS = tuple(".csv" + z for z in ("", ".gz", ".bz2", ".xz", ".zip", ".zst"))


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
    from autoarch.spec.checks import did_you_mean

    ready = sorted(os.path.splitext(f)[0] for f in os.listdir(builtin_specs_dir())
                   if f.endswith(".yaml"))
    raise SpecError(f"no spec file '{name}', and no ready spec of that name"
                    f"{did_you_mean(name, ready)}; ready specs: {', '.join(ready)}")


def cmd_validate(args):
    # reads the spec, its blocks and strategy without TensorFlow (0.15 s, not 5)
    from autoarch.data import check_data
    from autoarch.specfile import load_spec

    path = resolve_spec(args.spec)
    if path.lower().endswith(CSV_ENDINGS):
        raise SpecError(f"{path} is a data file, not a spec: `autoarch search {args.spec} "
                        "--target COLUMN` searches it with no spec")
    spec = load_spec(path)
    if spec.data is not None:
        try:
            check_data(spec.data, base=os.path.dirname(os.path.abspath(path)))
        except ValueError as err:
            raise SpecError(str(err), "", path) from None
    count, blocks = searched_parameters(spec), len(spec.blocks or [])
    space = f"{count} searched parameters, {blocks} blocks" if count or blocks or spec.inputs \
        else "the default space of its data's kind"
    print(f"{args.spec}: ok ({space}, strategy '{spec.config.strategy}')")
    return 0


def searched_parameters(spec):
    """How many parameters the spec's space searches (blocks, branches and training choices);
    a branch left to its input's default blocks adds those once data is seen."""
    from autoarch.blocks.layout import SpaceLayout
    from autoarch.spec.space import ParameterSpace, is_fixed

    blocks = list(spec.blocks or [])
    for branch in (spec.inputs or {}).values():
        blocks = list(branch.get("blocks") or []) + blocks
    if not blocks:
        return len(spec.declare(ParameterSpace()).space)
    space = SpaceLayout(blocks, training=spec.config.training.choices()).hyperparameters()
    return sum(1 for p in space.space if not is_fixed(p))


def _search_settings(args):
    """The search settings given as flags, by knob name."""
    from autoarch.config import FLAT_FIELDS

    return {name: getattr(args, name) for name, (_, f) in FLAT_FIELDS.items()
            if f.metadata["flag"] and getattr(args, name, None) is not None}


def data_file_spec(path, target, task=None):
    """The spec of ``autoarch search DATA.csv --target COLUMN``: the file's other columns
    as a table, the default space, and the task given or read off the target column (a
    regression for numbers with fractions or more than :data:`MOST_CLASSES` values, else
    classes); and the line that says which and why."""
    import pandas as pd

    from autoarch.data import check_data, read_csv

    name = os.path.basename(path)
    stem = name[:name.lower().rindex(".csv")]
    data = {"csv": os.path.abspath(path), "target": target}
    if target is None:
        columns = [str(c) for c in read_csv(path, nrows=0).columns]
        raise SpecError(f"{path} is a data file, not a spec: name its target column with "
                        f"--target COLUMN (columns: {', '.join(columns)})")
    try:
        check_data(data)
    except ValueError as err:
        raise SpecError(str(err).replace(data["csv"], os.path.basename(path)), "", path) \
            from None
    if task is None:
        values = read_csv(path, usecols=[target])[target].dropna()
        numeric = pd.api.types.is_numeric_dtype(values) and \
            not pd.api.types.is_bool_dtype(values)
        count = values.nunique()
        fractions = numeric and bool((values % 1 != 0).any())
        task = "regression" if numeric and (fractions or count > MOST_CLASSES) else \
            "classification"
        why = ("numbers with fractions" if fractions else f"{count} values") + \
            f"; --task {'classification' if task == 'regression' else 'regression'} to change"
    else:
        why = "as --task says"
    return {"name": stem, "task": task, "data": data}, f"task: {task} ({why})"


def cmd_search(args):
    from autoarch.config import ConfigError, SearchConfig
    from autoarch.engine.journal import Journal
    from autoarch.specfile import load_spec, overridden

    path = resolve_spec(args.spec)
    made, rerun = None, args.spec
    if path.lower().endswith(CSV_ENDINGS):
        made, task_line = data_file_spec(path, args.target, args.task)
        rerun = f"{args.spec} --target {args.target} --task {made['task']}"
    elif args.target is not None or args.task is not None:
        raise SpecError(f"--{'target' if args.target is not None else 'task'} goes with a CSV "
                        "file in place of a spec; a spec names them in its data: {csv:, "
                        "target:} and task:", "", path)
    spec = load_spec(made or path)
    if spec.data is None:
        raise SpecError("the spec names no data (add e.g. 'data: sklearn:digits')", "data", path)
    settings = _search_settings(args)
    merged, dropped = overridden(spec.settings, settings)
    if dropped:
        print(f"--strategy {settings['strategy']}: the spec's options for "
              f"'{spec.settings.get('strategy')}' that it does not take are not used: "
              f"{', '.join(dropped)}", flush=True)
    try:  # the flags, checked as the spec's own values are, before anything loads
        config = SearchConfig.from_flat(merged)
    except ConfigError as err:
        flag = setting_flag(err.name)
        print(f"error: {flag if err.name in settings else path + ': ' + err.name}: "
              f"{err.message}", file=sys.stderr)
        return 1
    directory = args.dir or os.path.join("autoarch_runs", spec.name or
                                         os.path.splitext(os.path.basename(path))[0])
    if Journal(directory, create=False).exists() and not args.resume:
        print(f"error: {directory} already holds a search; pass --resume to continue it or "
              "--dir for a new one", file=sys.stderr)
        return 2
    os.makedirs(directory, exist_ok=True)
    lock = DirectoryLock(directory).acquire()  # held to the end: summary and model included
    if made:
        print(task_line, flush=True)
    # TensorFlow (seconds to load) only once the spec, the flags and the folder are right
    import_tensorflow_quietly()
    import numpy as np
    from sklearn.model_selection import train_test_split

    from autoarch.data import load_weighted
    from autoarch.engine import Study
    from autoarch.estimators import estimator_for_task

    x, y, w = load_weighted(spec.data, base=os.path.dirname(os.path.abspath(path)))
    task = spec.task or "classification"
    stratify = y if task == "classification" else None
    x_train, x_test, y_train, y_test, w_train, w_test = train_test_split(
        x, y, np.ones(len(y)) if w is None else w, test_size=0.25, random_state=config.seed,
        stratify=stratify)
    weights = {} if w is None else {"sample_weight": w_train}
    if args.token:
        os.environ["AUTOARCH_TOKEN"] = args.token
    estimator = estimator_for_task(task)(spec=spec, directory=directory, verbose=1,
                                         chief=args.chief, **settings)
    csv = isinstance(spec.data, dict) and "csv" in spec.data
    data = f"{spec.data['target']} of {os.path.basename(spec.data['csv'])}" if csv else \
        spec.data
    print(f"searching {path} on {data} ({len(y_train)} train / {len(y_test)} test) with "
          f"'{config.strategy}' into {directory}", flush=True)
    if Journal(directory, create=False).exists():
        print(resumed_line(Study.load(directory)), flush=True)
    # the old summary goes before the search replaces the model it described (the estimator
    # writes BEST_MODEL and ESTIMATOR into its folder): a kill in between never leaves a
    # summary claiming a model that is not the one on disk
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(directory, SUMMARY))
    started = time.monotonic()
    try:
        estimator.fit(x_train, y_train, **weights)
    except KeyboardInterrupt:  # everything finished is in the journal; say how to go on
        done = Study.load(directory).n_finished if Journal(directory, create=False).exists() \
            else 0
        print(f"\ninterrupted after {done} finished trial{'s' * (done != 1)}; `autoarch search "
              f"{rerun} --dir {directory} --resume` continues", file=sys.stderr)
        return 130
    with atomic_path(os.path.join(directory, "spec.yaml")) as copy:
        if made:  # the spec the CSV's search ran, to run again as any spec
            import yaml

            with open(copy, "w") as file:
                yaml.safe_dump(made, file, sort_keys=False)
        else:
            shutil.copyfile(path, copy)
    test_score = float(estimator.score(x_test, y_test, sample_weight=w_test if weights
                                       else None))
    metric = ("accuracy" if task == "classification" else "r2") + (
        "_weighted" if weights else "")
    summary = {"test_" + metric: test_score,
               "search_seconds": round(time.monotonic() - started, 1),
               "best_params": estimator.best_params_, "best_value": estimator.best_score_,
               "budget": estimator.search_summary_}
    write_json(os.path.join(directory, SUMMARY), summary)
    print()
    print_trials(Study.load(directory), limit=10)
    print(f"\ntest {'accuracy' if task == 'classification' else 'R^2'}"
          f"{' (weighted)' if weights else ''}: {test_score:.4f}   "
          f"best model: {os.path.join(directory, BEST_MODEL)}")
    print(f"new rows: autoarch predict {directory} NEW.{'csv' if csv else 'npz'}")
    lock.release()
    return 0


def cmd_worker(args):
    import_tensorflow_quietly()
    from autoarch.distributed import ChiefUnreachable, run_worker

    print(f"worker: joining the chief at {args.chief}", flush=True)
    try:
        trained = run_worker(args.chief, token=args.token, wait=args.wait)
    except ChiefUnreachable as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nworker interrupted; the chief hands its trial to another worker",
              file=sys.stderr)
        return 130
    print(f"worker: the search is over; {trained} trial{'s' * (trained != 1)} trained here",
          flush=True)
    return 0


def resumed_line(study):
    """What a resumed search picks up: finished trials, the best one, time spent, and the
    trial in flight that is redone."""
    redone = [t.number for t in study.trials if t.status == "RUNNING"]
    line = f"resuming: {study.n_finished} finished trials ({study.seconds_spent:.0f} s)"
    if study.best_trial is not None:
        line += (f", best {study.objective.name}={study.best_value:.4f} "
                 f"(trial {study.best_trial.number})")
    if redone:
        line += f"; trial {', '.join(map(str, redone))} was in flight and starts again"
    return line


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
    if len(study.objectives) > 1 or study.constraints:
        names = [o.name for o in study.objectives]
        print("Pareto front: " + "; ".join(
            f"trial {t.number} (" + ", ".join(f"{n}={v:.4g}" for n, v in
                                              zip(names, study.vector(t))) + ")"
            for t in study.pareto_front()))


class MissingModel(AutoarchError):
    """The run directory has no readable best model."""


def load_best_model(directory):
    """The run's best model, or a :class:`MissingModel` error that says what to do."""
    import_tensorflow_quietly()
    from autoarch.export import load_model

    path = os.path.join(directory, BEST_MODEL)
    if not os.path.exists(path):
        raise MissingModel(f"{path}: no best model yet (the search has not finished); "
                           f"`autoarch search SPEC --dir {directory} --resume` completes it")
    try:
        return load_model(path)
    except Exception as err:  # a file that is not (or no longer) a Keras archive
        raise unreadable(path, err, directory) from None


def unreadable(path, err, directory):
    """The :class:`MissingModel` error for a run's file that ``err`` kept from loading."""
    return MissingModel(f"{path}: unreadable ({type(err).__name__}: "
                        f"{str(err).splitlines()[0] if str(err) else 'no detail'}); "
                        f"`autoarch search SPEC --dir {directory} --resume` writes it again")


def cmd_report(args):
    import_tensorflow_quietly()
    from autoarch.engine import Study

    study = Study.load(args.dir)
    if args.html is not None:
        return _html_report(args, study)
    print_trials(study)
    model = load_best_model(args.dir)
    print("\nthe winner's architecture:")
    model.summary()
    return 0


def _html_report(args, study):
    from autoarch.report import write_report

    try:
        model = load_best_model(args.dir)
    except MissingModel as err:  # the page shows the search so far
        model = None
        print(f"note: {err}", file=sys.stderr)
    spec_text = None
    with contextlib.suppress(OSError):
        with open(os.path.join(args.dir, "spec.yaml"), encoding="utf-8") as handle:
            spec_text = handle.read()
    path = write_report(args.html or os.path.join(args.dir, "report.html"),
                        [t.as_dict() for t in study.trials], study.header, notes=study.notes,
                        model=model, spec_text=spec_text, title=f"autoarch search: {args.dir}")
    print(f"report: {path}")
    return 0


def cmd_predict(args):
    """Predict the rows of a CSV or ``.npz`` file with the estimator a search left in
    ``DIR``; the file's target column (or ``y`` array), where it has one, is left out of the
    inputs and scored against."""
    path = os.path.join(args.dir, ESTIMATOR)
    if not os.path.exists(path):
        raise MissingModel(f"{path}: no fitted search here (a search writes it when it "
                           f"ends); `autoarch search SPEC --dir {args.dir} --resume` "
                           "finishes one")
    x, y, target = _rows_to_predict(args.data, args.dir)
    import_tensorflow_quietly()
    import pandas as pd

    try:
        with open(path, "rb") as file:
            estimator = pickle.load(file)
    except Exception as err:  # another autoarch's or Python's pickle, a truncated file
        raise unreadable(path, err, args.dir) from None
    if args.proba and not hasattr(estimator, "predict_proba"):
        raise ValueError(f"--proba: the search in {args.dir} is a regression; it predicts "
                         "values")
    name, predicted = target or "prediction", estimator.predict(x)
    out = pd.DataFrame({name: predicted} if predicted.ndim == 1 else  # several targets
                       {f"{name}_{k}": column for k, column in enumerate(predicted.T)})
    if args.proba:
        probabilities = estimator.predict_proba(x)
        for k, label in enumerate(estimator.classes_):
            out[f"probability_{label}"] = probabilities[:, k]
    if args.output:
        with atomic_path(args.output) as written:
            out.to_csv(written, index=False)
    else:
        out.to_csv(sys.stdout, index=False)
    if y is not None and not pd.isna(y).any():
        metric = "accuracy" if hasattr(estimator, "classes_") else "R^2"
        print(f"{metric} on these {len(y)} rows: {estimator.score(x, y):.4f}", file=sys.stderr)
    if args.output:
        print(f"predictions of {len(out)} rows: {args.output}", file=sys.stderr)
    return 0


def _rows_to_predict(path, directory):
    """``(inputs, targets or None, target column or None)`` of a CSV or ``.npz`` file; a
    CSV's target column is the one the search's spec (``DIR/spec.yaml``) names."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no file {path!r}")
    data = _spec_data(directory)
    if path.lower().endswith(".npz"):
        import numpy as np

        x_key, y_key = data.get("x", "x"), data.get("y", "y")
        with np.load(path, allow_pickle=False) as arrays:
            if x_key not in arrays:
                raise ValueError(f"{path} holds no array '{x_key}' (it holds: "
                                 f"{', '.join(arrays.files)})")
            return arrays[x_key], arrays[y_key] if y_key in arrays else None, None
    if not path.lower().endswith(CSV_ENDINGS):
        raise ValueError(f"{path}: expected a CSV file (.csv, .csv.gz, ...) or a .npz file")
    from autoarch.data import read_csv

    frame = read_csv(path)
    if data.get("weight") in frame.columns:  # the rows' weights in the search: not an input
        frame = frame.drop(columns=[data["weight"]])
    target = data.get("target")
    if target is not None and target in frame.columns:
        return frame.drop(columns=[target]), frame[target].to_numpy(), target
    return frame, None, target


def _spec_data(directory):
    """The search's spec's ``data`` mapping (``{csv:, target:}``, ``{npz:, x:, y:}``), or
    ``{}``: which column or arrays a file to predict holds the inputs and targets in."""
    import yaml

    with contextlib.suppress(OSError, yaml.YAMLError, AttributeError):
        with open(os.path.join(directory, "spec.yaml"), encoding="utf-8") as file:
            data = (yaml.safe_load(file) or {}).get("data")
        return data if isinstance(data, dict) else {}
    return {}


def cmd_export(args):
    from autoarch.export import export_model

    formats = list(dict.fromkeys(args.format))
    if args.output and len(formats) > 1:
        print("error: --output names one file: give one --format with it", file=sys.stderr)
        return 1
    model = load_best_model(args.dir)  # loaded once, however many formats
    for fmt in formats:
        suffix = {"keras": ".keras", "savedmodel": "", "tflite": ".tflite"}[fmt]
        target = args.output or os.path.join(args.dir, "export", f"model{suffix}")
        result = export_model(model, target, fmt)
        print(f"exported {fmt}: {result['path']} ({result['bytes'] / 1024:.1f} KiB)")
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


def setting_flag(name):
    """The command flag of the search setting ``name``."""
    from autoarch.config import FLAT_FIELDS

    flag = FLAT_FIELDS[name][1].metadata["flag"]
    return flag if isinstance(flag, str) else "--" + name.replace("_", "-")


def add_setting_flags(parser):
    """One flag per search setting of :mod:`autoarch.config` (``--max-trials``, ...); a flag
    given overrides the spec's value."""
    from autoarch.config import FLAT_FIELDS, Flag, Number, OneOf, Switch

    group = parser.add_argument_group("search settings (override the spec's values)")
    for name, (_, f) in FLAT_FIELDS.items():
        if not f.metadata["flag"]:
            continue
        rule, flag = f.metadata["rule"], setting_flag(name)
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
    """The command's parser (reading the search settings needs no TensorFlow)."""
    parser = argparse.ArgumentParser(prog="autoarch", description="Keras-native AutoML and "
                                     "neural architecture search.")
    parser.add_argument("--version", action="version", version=f"autoarch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    search = commands.add_parser("search", help="run a search from a spec, or on a CSV file")
    search.add_argument("spec", help="a YAML spec, a ready spec's name (e.g. digits), or a "
                        "CSV file with --target")
    search.add_argument("--target", metavar="COLUMN",
                        help="with a CSV file: the column to predict (the others are the "
                        "inputs, searched in the default space of a table)")
    search.add_argument("--task", choices=("classification", "regression"),
                        help="with a CSV file: the task (default: read off the target column, "
                        f"a regression for numbers with fractions or more than {MOST_CLASSES} "
                        "values)")
    search.add_argument("--dir", "--directory", dest="dir",
                        help="project directory (default autoarch_runs/NAME)")
    add_setting_flags(search)
    search.add_argument("--resume", action="store_true", help="continue a search in --dir")
    search.add_argument("--chief", metavar="HOST:PORT",
                        help="serve the search at this address: workers on other machines "
                        "(`autoarch worker HOST:PORT`) train trials too; --dir must then be "
                        "shared storage")
    search.add_argument("--token", help="the secret workers must give (default: the "
                        "AUTOARCH_TOKEN environment variable); required when --chief is "
                        "not a loopback address")
    search.set_defaults(run=cmd_search, command_parser=search)
    worker = commands.add_parser("worker", help="train trials for a search served by "
                                 "`autoarch search --chief`")
    worker.add_argument("chief", metavar="HOST:PORT", help="the chief's address")
    worker.add_argument("--token", help="the chief's secret (default: the AUTOARCH_TOKEN "
                        "environment variable)")
    worker.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for the chief to answer (default 60)")
    worker.set_defaults(run=cmd_worker, command_parser=worker)
    predict = commands.add_parser("predict", help="predict a CSV or .npz file's rows with "
                                  "a finished search's model")
    predict.add_argument("dir", help="the search's folder (its --dir)")
    predict.add_argument("data", help="a CSV file (its target column, if there, is scored "
                         "against) or a .npz file with an array 'x' (and 'y'; or the keys "
                         "the spec's data names)")
    predict.add_argument("--output", metavar="FILE",
                         help="write the predictions as CSV here (default: standard output)")
    predict.add_argument("--proba", action="store_true",
                         help="also each class's probability (a column per class)")
    predict.set_defaults(run=cmd_predict, command_parser=predict)
    report = commands.add_parser("report", help="trials table and the winner's architecture")
    report.add_argument("dir")
    report.add_argument("--html", nargs="?", const="", metavar="FILE",
                        help="write one self-contained HTML page (default DIR/report.html)")
    report.set_defaults(run=cmd_report, command_parser=report)
    export = commands.add_parser("export", help="export the best model")
    export.add_argument("dir")
    export.add_argument("--format", choices=FORMATS, nargs="+", default=["keras"],
                        help="one or more formats (default keras)")
    export.add_argument("--output", help="target path (default DIR/export/model...)")
    export.set_defaults(run=cmd_export, command_parser=export)
    validate = commands.add_parser("validate", help="check a spec; exit status 1 if invalid")
    validate.add_argument("spec")
    validate.set_defaults(run=cmd_validate, command_parser=validate)
    return parser


def refuse_unknown(command, unknown):
    """Refuse what the command does not take in its own usage, with the closest flag:
    argparse's own refusal shows the top-level usage and suggests nothing."""
    from autoarch.spec.checks import did_you_mean

    flags = re.findall(r"--[\w-]+", command.format_usage())
    command.error(f"unrecognized arguments: {' '.join(unknown)}"
                  f"{did_you_mean(unknown[0].split('=')[0], flags)}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        refuse_unknown(args.command_parser, unknown)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError, AutoarchError, PermissionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
