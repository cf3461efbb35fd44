"""The autoarch command end to end (a real subprocess) on a tiny spec, and data loading."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from autoarch.cli import builtin_specs_dir
from autoarch.data import load_data, load_weighted

TINY = """
name: tiny
task: classification
data: sklearn:iris
seed: 0
strategy: random
budget: {max_trials: 2, epochs: 2}
space:
  blocks:
    - {block: dense, num_layers: 1, units: [8, 16]}
    - {block: classification_head}
"""


def autoarch(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.run([sys.executable, "-m", "autoarch", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def test_help_lists_commands():
    out = autoarch("--help").stdout
    for command in ("search", "predict", "report", "export", "validate"):
        assert command in out


def test_validate_ok_and_error_exit_status(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(TINY)
    result = autoarch("validate", str(good))
    assert result.returncode == 0 and "ok" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("strategy: random", "strategy: randm"))
    result = autoarch("validate", str(bad))
    assert result.returncode == 1
    assert f"{bad}:6:11: strategy: unknown strategy 'randm'" in result.stderr
    assert "did you mean 'random'?" in result.stderr


def test_search_report_export_end_to_end(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    run_dir = tmp_path / "run"
    result = autoarch("search", str(spec), "--dir", str(run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trial 1 (2/2)" in result.stdout and "test accuracy:" in result.stdout
    assert f"new rows: autoarch predict {run_dir} NEW.npz" in result.stdout
    assert (run_dir / "best_model.keras").exists() and (run_dir / "journal.jsonl").exists()
    again = autoarch("search", str(spec), "--dir", str(run_dir))
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = autoarch("search", str(spec), "--dir", str(run_dir), "--resume", "--max-trials", "3")
    assert resumed.returncode == 0 and "trial 2 (3/3)" in resumed.stdout
    assert "resuming: 2 finished trials" in resumed.stdout
    report = autoarch("report", str(run_dir))
    assert report.returncode == 0 and "COMPLETED" in report.stdout
    assert "the winner's architecture" in report.stdout
    for output in (result, resumed, report):  # no native log lines nobody asked for
        assert "absl" not in output.stderr and "cuda" not in output.stderr.lower()
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    np.savez(tmp_path / "rows.npz", x=x[::10], y=y[::10])
    predicted = autoarch("predict", str(run_dir), str(tmp_path / "rows.npz"), "--proba")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    lines = predicted.stdout.splitlines()
    assert lines[0] == "prediction,probability_0,probability_1,probability_2"
    assert len(lines) == 16 and "accuracy on these 15 rows: " in predicted.stderr
    probabilities = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    missing = autoarch("predict", str(tmp_path), str(tmp_path / "rows.npz"))
    assert missing.returncode == 1 and "estimator.pkl: no fitted search here" in missing.stderr
    exported = autoarch("export", str(run_dir), "--format", "keras", "savedmodel", "tflite")
    assert exported.returncode == 0, exported.stderr[-2000:]
    for fmt, path in (("keras", "model.keras"), ("savedmodel", "model"),
                      ("tflite", "model.tflite")):
        assert f"exported {fmt}: {run_dir / 'export' / path} (" in exported.stdout
        assert (run_dir / "export" / path).exists()


def test_a_refused_search_or_export_says_why_before_starting_tensorflow(tmp_path):
    """A folder that already holds a search, and two formats for one --output, are
    refused before TensorFlow loads (seconds), with the way out in the message."""
    spec, run_dir = tmp_path / "tiny.yaml", tmp_path / "run"
    spec.write_text(TINY)
    run_dir.mkdir()
    (run_dir / "journal.jsonl").write_text('{"event": "study"}\n')
    code = ("import sys\nfrom autoarch import cli\n"
            f"print('search', cli.main(['search', {str(spec)!r}, '--dir', {str(run_dir)!r}]))\n"
            f"print('export', cli.main(['export', {str(run_dir)!r}, '--format', 'keras', "
            "'tflite', '--output', 'm']))\n"
            "print('tensorflow loaded:', 'tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert "search 2\nexport 1\ntensorflow loaded: False" in result.stdout, result.stderr
    assert "already holds a search; pass --resume" in result.stderr
    assert "--output names one file" in result.stderr


def test_csv_and_npz_data(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0, None], "b": ["x", "y", "x"], "label": [0, 1, 0]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    x, y = load_data({"csv": "t.csv", "target": "label"}, base=tmp_path)
    assert list(x.columns) == ["a", "b"] and list(y) == [0, 1, 0]
    np.savez(tmp_path / "d.npz", x=np.ones((4, 2)), y=np.arange(4))
    x, y = load_data({"npz": "d.npz"}, base=tmp_path)
    assert x.shape == (4, 2) and list(y) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="column 'nope'"):
        load_data({"csv": "t.csv", "target": "nope"}, base=tmp_path)



def test_a_csv_file_separated_by_semicolons_tabs_or_bars_reads_as_its_columns(tmp_path):
    """A spreadsheet whose decimal mark is a comma writes ``;`` between fields and ``1,5``
    for numbers: read as numbers, not as one column named ``size;city;price`` (pandas'
    default) nor as words; tabs and bars are found too; a ``;`` file's commas in text stay
    text; a file in Windows' code page, not UTF-8, reads too; the unnamed first column
    ``DataFrame.to_csv`` writes is the rows' labels, not an input. The estimators' CSV path
    reads them the same way."""
    import pandas as pd

    from autoarch.estimators.base import _target_column

    (tmp_path / "semi.csv").write_text("size;city;price;day\n120,5;a;300,25;01.02.2020\n"
                                       "80;b;200,5;03.04.2021\n95,25;c;;05.06.2022\n")
    x, y = load_data({"csv": "semi.csv", "target": "price"}, base=tmp_path)
    assert list(x.columns) == ["size", "city", "day"] and x["size"].tolist() == [120.5, 80, 95.25]
    np.testing.assert_array_equal(y, [300.25, 200.5, np.nan])
    assert x["day"].tolist() == ["01.02.2020", "03.04.2021", "05.06.2022"]
    assert _target_column(str(tmp_path / "semi.csv"), "price")[1].tolist()[:2] == [300.25, 200.5]
    (tmp_path / "mixed.csv").write_text("a;b\n1,5;1.5\n2;2.5\n")  # both marks: left as written
    assert load_data({"csv": "mixed.csv", "target": "b"}, base=tmp_path)[1].tolist() == [1.5, 2.5]
    (tmp_path / "words.csv").write_text("note;label\nred, green;1\nblue;0\n")
    x, y = load_data({"csv": "words.csv", "target": "label"}, base=tmp_path)
    assert x["note"].tolist() == ["red, green", "blue"] and list(y) == [1, 0]
    (tmp_path / "latin.csv").write_bytes("size;ville;prix\n1,5;Orl\xe9ans;2,5\n2;Besan\xe7on;3\n"
                                         .encode("cp1252"))  # a spreadsheet's, not UTF-8
    x, y = load_data({"csv": "latin.csv", "target": "prix"}, base=tmp_path)
    assert x["size"].tolist() == [1.5, 2.0] and x["ville"].tolist() == ["Orl\xe9ans", "Besan\xe7on"]
    assert list(y) == [2.5, 3.0]
    frame = pd.DataFrame({"a": [3.0, 1.0, 2.0], "label": [1, 0, 1]}, index=[7, 8, 9])
    frame.to_csv(tmp_path / "saved.csv")  # with its index, as an unnamed first column
    x, y = load_data({"csv": "saved.csv", "target": "label"}, base=tmp_path)
    assert list(x.columns) == ["a"] and list(x.index) == [7, 8, 9] and list(y) == [1, 0, 1]
    for sep in ("\t", "|"):
        (tmp_path / "other.csv").write_text(f"a{sep}b{sep}label\n1.5{sep}x{sep}0\n2{sep}y{sep}1\n")
        x, y = load_data({"csv": "other.csv", "target": "label"}, base=tmp_path)
        assert list(x.columns) == ["a", "b"] and x["a"].tolist() == [1.5, 2.0]


def test_a_weight_column_weighs_the_search_and_the_test_score(tmp_path):
    """``data: {csv, target, weight}``: the column is no input; the search's rows and the
    printed test score are weighted by it. Each row is there twice, with its label (x0 + x1
    > 0) at weight 1 and the other at 0.25: only weights make the label learnable, and a
    model that learned it scores 1 / 1.25 = 0.8 on the weighted test rows."""
    import pandas as pd

    x = np.random.default_rng(0).normal(size=(200, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    frame = pd.DataFrame({"a": np.r_[x[:, 0], x[:, 0]], "b": np.r_[x[:, 1], x[:, 1]],
                          "label": np.r_[y, 1 - y], "w": np.r_[np.ones(200), np.full(200, 0.25)]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    x_read, _, w = load_weighted({"csv": "t.csv", "target": "label", "weight": "w"},
                                 base=tmp_path)
    assert list(x_read.columns) == ["a", "b"] and w.tolist() == frame["w"].tolist()
    spec = tmp_path / "weighted.yaml"
    spec.write_text(TINY.replace("sklearn:iris", "{csv: t.csv, target: label, weight: w}")
                    .replace("epochs: 2", "epochs: 8").replace("max_trials: 2", "max_trials: 1"))
    assert autoarch("validate", str(spec)).returncode == 0
    result = autoarch("search", str(spec), "--dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test accuracy (weighted): " in result.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["test_accuracy_weighted"] > 0.7
    assert summary["budget"]["weights"].startswith("sample_weight: the rows weigh 0.4")
    broken = tmp_path / "broken.yaml"
    broken.write_text(spec.read_text().replace("weight: w", "weight: wt"))
    failed = autoarch("validate", str(broken))
    assert failed.returncode != 0 and "column 'wt' is not in t.csv (did you mean 'w'?)" in \
        failed.stdout + failed.stderr


def test_a_csv_file_searches_without_a_spec(tmp_path, capsys):
    """``autoarch search houses.csv --target price``: the other columns in a table's default
    space, the task read off the target (said, with how to change it), the spec it made kept
    in the folder (a spec like any other: it runs again); without --target, or with a
    misspelt one, the refusal lists the columns, before TensorFlow."""
    import pandas as pd

    from autoarch import cli
    from autoarch.specfile import load_spec

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.uniform(50, 200, 300),
                          "city": rng.choice(["a", "b", "c"], 300)})
    frame["price"] = 2 * frame["size"] + 50 * (frame.city == "a") + rng.normal(0, 5, 300)
    frame["band"] = np.where(frame.price > frame.price.median(), "high", "low")
    frame.to_csv(tmp_path / "houses.csv", index=False)
    csv = str(tmp_path / "houses.csv")
    assert cli.data_file_spec(csv, "band")[1] == \
        "task: classification (2 values; --task regression to change)"
    frame.to_csv(tmp_path / "houses.csv.gz", index=False)  # compressed, as pandas reads it
    assert cli.data_file_spec(str(tmp_path / "houses.csv.gz"), "price")[0]["name"] == "houses"
    assert cli.main(["search", csv]) == 1
    assert "houses.csv is a data file, not a spec: name its target column with --target " \
        "COLUMN (columns: size, city, price, band)" in capsys.readouterr().err
    assert cli.main(["validate", csv]) == 1
    assert "houses.csv is a data file, not a spec: `autoarch search " in capsys.readouterr().err
    assert cli.main(["search", csv, "--target", "prise"]) == 1
    assert "column 'prise' is not in houses.csv (did you mean 'price'?)" in \
        capsys.readouterr().err
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    assert cli.main(["search", str(spec), "--target", "price"]) == 1
    assert "--target goes with a CSV file in place of a spec" in capsys.readouterr().err
    run = tmp_path / "run"
    result = autoarch("search", csv, "--target", "price", "--max-trials", "1", "--epochs", "2",
                      "--dir", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "task: regression (numbers with fractions; --task classification to change)" in \
        result.stdout and f"new rows: autoarch predict {run} NEW.csv" in result.stdout
    assert json.loads((run / "summary.json").read_text())["test_r2"] > 0.8
    made = load_spec(str(run / "spec.yaml"))
    assert (made.task, made.data) == ("regression", {"csv": csv, "target": "price"})
    # the search's estimator predicts a file's rows: its target column left out and scored
    predicted = autoarch("predict", str(run), csv, "--output", str(tmp_path / "p.csv"))
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns) == ["price"] and len(out) == len(frame)
    assert np.corrcoef(out.price, frame.price)[0, 1] > 0.9
    assert "R^2 on these 300 rows: " in predicted.stderr
    new = autoarch("predict", str(run), str(tmp_path / "houses.csv.gz"), "--proba")
    assert new.returncode == 1 and "--proba: the search in" in new.stderr
    frame.drop(columns="price").head(3).to_csv(tmp_path / "new.csv", index=False)
    new = autoarch("predict", str(run), str(tmp_path / "new.csv"))
    assert new.returncode == 0 and new.stdout.splitlines()[0] == "price"
    assert len(new.stdout.splitlines()) == 4 and "R^2" not in new.stderr


def test_predict_reads_its_file_as_the_spec_named_the_data(tmp_path, capsys):
    """A file to predict holds its inputs and targets where the search's spec said (a CSV's
    target column, a .npz file's keys); a file of another kind, or an unreadable estimator,
    is refused with the reason."""
    import pandas as pd

    from autoarch import cli

    run = tmp_path / "run"
    run.mkdir()
    (run / "spec.yaml").write_text("data: {npz: d.npz, x: images, y: labels}\n")
    np.savez(tmp_path / "d.npz", images=np.ones((4, 8, 8)), labels=np.arange(4))
    x, y, target = cli._rows_to_predict(str(tmp_path / "d.npz"), str(run))
    assert x.shape == (4, 8, 8) and list(y) == [0, 1, 2, 3] and target is None
    np.savez(tmp_path / "other.npz", x=np.ones((4, 2)))
    with pytest.raises(ValueError, match="holds no array 'images' \\(it holds: x\\)"):
        cli._rows_to_predict(str(tmp_path / "other.npz"), str(run))
    (run / "spec.yaml").write_text("data: {csv: houses.csv, target: price, weight: w}\n")
    pd.DataFrame({"size": [1.0, 2.0], "price": [3.0, None], "w": [1, 2]}).to_csv(
        tmp_path / "h.csv", index=False)
    x, y, target = cli._rows_to_predict(str(tmp_path / "h.csv"), str(run))
    assert list(x.columns) == ["size"] and target == "price" and len(y) == 2
    with pytest.raises(ValueError, match="expected a CSV file"):
        cli._rows_to_predict(str(run / "spec.yaml"), str(run))
    (run / "estimator.pkl").write_bytes(b"not a pickle")
    assert cli.main(["predict", str(run), str(tmp_path / "h.csv")]) == 1
    assert "estimator.pkl: unreadable (UnpicklingError" in capsys.readouterr().err


def test_predict_writes_a_column_per_target(tmp_path, capsys):
    """A search of several targets predicts a column for each."""
    import pickle

    from autoarch import AutoRegressor, cli

    x = np.random.default_rng(0).normal(size=(60, 3))
    y = np.c_[x[:, 0], -x[:, 1]]
    estimator = AutoRegressor(max_trials=1, epochs=1, boosted_trees=False).fit(x, y)
    run = tmp_path / "run"
    run.mkdir()
    (run / "estimator.pkl").write_bytes(pickle.dumps(estimator))
    np.savez(tmp_path / "rows.npz", x=x[:5], y=y[:5])
    assert cli.main(["predict", str(run), str(tmp_path / "rows.npz")]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "prediction_0,prediction_1" and len(lines) == 6
    assert "R^2 on these 5 rows: " in err


def test_mnist1d_is_generated_locally():
    x, y = load_data("mnist1d")
    assert x.shape == (5000, 40, 1) and set(np.unique(y)) == set(range(10))


def test_tfds_loading_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        x, y = load_data({"tfds": "mnist", "split": "train"})
    assert x.shape == (12, 28, 28, 1) and y.shape == (12,)


def test_help_and_version_do_not_start_tensorflow():
    code = ("import sys\nfrom autoarch import cli\nfor argv in (['--help'], ['--version'], "
            "['report', '--help'], ['search', '--help']):\n    try:\n        cli.main(argv)\n    except SystemExit:\n"
            "        pass\nprint('tensorflow loaded:', 'tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert "tensorflow loaded: False" in result.stdout and "autoarch 0." in result.stdout


def test_an_unknown_flag_is_refused_by_its_command_with_the_closest_one(capsys):
    """argparse alone names the top-level usage and suggests nothing."""
    from autoarch import cli

    for argv, said in ((["search", "digits", "--max-trails", "3"], "'--max-trials'"),
                       (["export", "run", "--fromat", "tflite"], "'--format'"),
                       (["validate", "spec.yaml", "--frobnicate"], None)):
        with pytest.raises(SystemExit) as stopped:
            cli.main(argv)
        err = capsys.readouterr().err
        assert stopped.value.code == 2
        assert f"autoarch {argv[0]}: error: unrecognized arguments: {' '.join(argv[2:])}" in err
        assert (f"(did you mean {said}?)" in err) if said else "did you mean" not in err
    # the estimators' name for it
    assert cli.build_parser().parse_args(["search", "s", "--directory", "d"]).dir == "d"


def test_validate_starts_neither_tensorflow_nor_scikit_learn(tmp_path):
    """Every ready spec, and one naming a CSV, is checked and counted without importing
    TensorFlow, Keras, keras-tuner or scikit-learn (seconds of start-up; pandas reads the
    CSV's header, as the search will)."""
    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n1,2,x\n")
    spec = tmp_path / "csv.yaml"
    spec.write_text(f"data: {{csv: {table}, target: label}}\nstrategy: {{name: evolution, "
                    "population_size: 4, sample_size: 2}\nspace:\n  blocks:\n    - block: dense\n"
                    "    - block: classification_head\n")
    ready = sorted(f[:-5] for f in os.listdir(builtin_specs_dir()) if f.endswith(".yaml"))
    code = ("import sys\nfrom autoarch import cli\n"
            f"codes = [cli.main(['validate', name]) for name in {ready + [str(spec)]!r}]\n"
            "print('codes', codes)\nprint('loaded', [m for m in ('tensorflow', 'keras', "
            "'keras_tuner', 'sklearn') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert f"codes {[0] * (len(ready) + 1)}" in result.stdout, result.stdout + result.stderr
    assert "loaded []" in result.stdout
    assert result.stdout.count(": ok (") == len(ready) + 1


def test_ctrl_c_prints_one_line_and_resume_says_what_it_picked_up(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY.replace("max_trials: 2", "max_trials: 40"))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # as in a terminal: a shell starts background jobs (a CI script's `&`) with SIGINT
    # ignored, and a Python started that way never turns it into KeyboardInterrupt
    search = subprocess.Popen([sys.executable, "-m", "autoarch", "search", str(spec),
                               "--dir", str(tmp_path / "run")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in search.stdout:  # wait until two trials are in
        seen.append(line)
        if line.startswith("trial ") and len([s for s in seen if s.startswith("trial ")]) == 2:
            break
    search.send_signal(signal.SIGINT)
    out, err = search.communicate(timeout=120)
    assert search.returncode == 130, "".join(seen) + out + err[-3000:]
    assert "Traceback" not in err and err.strip().startswith("interrupted after ")
    assert f"--dir {tmp_path / 'run'} --resume` continues" in err
    resumed = autoarch("search", str(spec), "--dir", str(tmp_path / "run"), "--resume",
                       "--max-trials", "4")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    picked_up = next(line for line in resumed.stdout.splitlines() if line.startswith("resuming"))
    assert "finished trials" in picked_up and "best val_accuracy=" in picked_up
    assert "trial 3 (4/4)" in resumed.stdout
