"""What a new user meets in the first hour: free-form column names through export, no
temporary folders left behind, a ``validate`` that counts and checks, clear data errors."""

import html.parser
import os
import shutil
import subprocess
import sys
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_breast_cancer

from autoarch import AutoClassifier, Study
from autoarch.cli import main as cli_main
from autoarch.data import load_data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from strategy_helpers import SPACE  # noqa: E402

FAST = dict(max_trials=1, epochs=2, isolate_trials=False, ensemble_size=1)
SPEC = """
data: {csv: table.csv, target: label}
strategy: random
space:
  blocks:
    - {block: dense, num_layers: [1, 2], units: [8, 16]}
    - {block: classification_head}
"""


def test_spaced_column_names_export_in_all_three_formats(tmp_path):
    frame, y = load_breast_cancer(return_X_y=True, as_frame=True)
    assert "mean radius" in frame.columns  # names with spaces, as scikit-learn gives them
    clf = AutoClassifier(**FAST).fit(frame[:200], y[:200])
    expected = clf.best_model_.predict(clf.space_.arrays({"input": frame[:4]}), verbose=0)
    for fmt, name in (("keras", "m.keras"), ("savedmodel", "saved"), ("tflite", "m.tflite")):
        assert clf.export(tmp_path / name, fmt)["bytes"] > 0
    serve = tf.saved_model.load(str(tmp_path / "saved")).signatures["serve"]
    names = sorted(serve.structured_input_signature[1])
    assert len(names) == 30 and "mean_radius" in names
    inputs = {name: tf.constant(frame.iloc[:4, i].to_numpy("float32")[:, None])
              for i, name in enumerate(clf.input_kinds_["input"].columns)}
    got = list(serve(**inputs).values())[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    reloaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(inputs, verbose=0), expected, rtol=1e-5)


def test_fit_without_a_directory_leaves_no_folder_behind(tmp_path, monkeypatch):
    private = tmp_path / "tmp"  # this test's own temporary folder, whatever else runs
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    x, y = load_breast_cancer(return_X_y=True)
    clf = AutoClassifier(**FAST).fit(x[:120], y[:120])
    assert os.listdir(private) == []
    assert clf.predict(x[:3]).shape == (3,) and len(clf.search_results_) == 1
    kept = AutoClassifier(directory=tmp_path / "run", **FAST).fit(x[:120], y[:120])
    assert (tmp_path / "run" / "journal.jsonl").exists() and kept.best_score_ is not None


def test_validate_counts_the_searched_parameters_and_checks_the_data(tmp_path, capsys):
    (tmp_path / "table.csv").write_text("a,b,label\n1,2,x\n3,4,y\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    assert cli_main(["validate", str(spec)]) == 0
    # num_layers, units, activation, dropout, batch_norm, head dropout, learning rate
    assert "ok (7 searched parameters, 2 blocks, strategy 'random')" in capsys.readouterr().out
    spec.write_text("data: {csv: table.csv, target: label}\n")  # no space: the default one
    assert cli_main(["validate", str(spec)]) == 0
    assert "ok (the default space of its data's kind, strategy 'bayesian')" in \
        capsys.readouterr().out
    spec.write_text(SPEC.replace("target: label", "target: lable"))
    assert cli_main(["validate", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "data.target: column 'lable' is not in table.csv (did you mean 'label'?)" in err
    spec.write_text(SPEC.replace("table.csv", "missing.csv"))
    assert cli_main(["validate", str(spec)]) == 1
    assert "data.csv: no file 'missing.csv'" in capsys.readouterr().err
    assert cli_main(["validate", "digitz"]) == 1
    assert "did you mean 'digits'?); ready specs: " in capsys.readouterr().err


def test_a_tfds_dataset_that_is_not_there_says_so_and_where_it_looked(tmp_path):
    with pytest.raises(ValueError, match=f"tfds:no_such_set is not prepared in {tmp_path}"):
        load_data({"tfds": "no_such_set", "data_dir": str(tmp_path)})


# -- the HTML report -----------------------------------------------------------------------
class _Page(html.parser.HTMLParser):
    """What a reader of the page sees: trial rows (number, status, reason) and charts."""

    def __init__(self):
        super().__init__()
        self.rows, self.svgs, self.lines, self._row, self._in = [], 0, 0, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "trials" in (attrs.get("class") or ""):
            self._in = "trials"
        elif tag == "tbody" and self._in == "trials":
            self._in = "rows"
        elif tag == "tr" and self._in == "rows":
            self._row = []
        elif tag == "svg":
            self.svgs += 1
        elif tag == "polyline":
            self.lines += 1

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append(" ".join(self._row))
            self._row = None
        elif tag == "table":
            self._in = None

    def handle_data(self, data):
        if self._row is not None and data.strip():
            self._row.append(data.strip())


def _search_with_failures(directory):
    def objective(trial):
        if trial.number % 3 == 2:
            raise ValueError(f"trial {trial.number} broke on purpose")
        return sum(len(str(v)) for v in trial.params.values()) / 100.0

    Study(SPACE, strategy="random", seed=0, directory=directory).optimize(
        objective, max_trials=6, catch=(ValueError,))


def test_the_html_report_holds_every_trial_the_charts_and_the_reasons(tmp_path, capsys):
    directory = tmp_path / "run"
    _search_with_failures(directory)
    assert cli_main(["report", str(directory), "--html"]) == 0
    page = (directory / "report.html").read_text()
    parsed = _Page()
    parsed.feed(page)
    assert len(parsed.rows) == 6 and parsed.svgs == 2 and parsed.lines == 2
    failed = [row for row in parsed.rows if "FAILED" in row]
    assert len(failed) == 2 and "trial 2 broke on purpose" in failed[0]
    assert "Why the winner won" in page and "seed" in page and "keras-tuner" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing fetched


def test_an_estimator_writes_the_same_report_with_its_model(tmp_path):
    x, y = load_breast_cancer(return_X_y=True)
    clf = AutoClassifier(**{**FAST, "max_trials": 2}).fit(x[:120], y[:120])
    page = open(clf.report(tmp_path / "report.html"), encoding="utf-8").read()
    parsed = _Page()
    parsed.feed(page)
    assert len(parsed.rows) == 2 and "The final model" in page and "Total params" in page
    # the bar a trial had to clear: the majority class's share of the validation rows
    bar = float(page.split("had to beat val_accuracy = ")[1].split(",")[0])
    assert abs(bar - max(np.mean(y[:120]), 1 - np.mean(y[:120]))) < 0.15
    # the table's 30 columns ranked, with the ones the winner kept
    assert "Columns by importance" in page and page.count("<td>kept</td>") >= 1


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="needs Debian's chromium package (apt-get install chromium)")
def test_the_report_renders_in_a_headless_browser(tmp_path):
    directory = tmp_path / "run"
    _search_with_failures(directory)
    assert cli_main(["report", str(directory), "--html"]) == 0
    url = (directory / "report.html").as_uri()
    browser = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
               f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(browser + ["--dump-dom", url], capture_output=True, text=True,
                         timeout=120).stdout
    assert dom.count("<tr class=") == 6 and "<polyline" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(browser + [f"--screenshot={shot}", "--window-size=1200,1600", url],
                   capture_output=True, timeout=120)
    pixels = tf.io.decode_png(shot.read_bytes()).numpy().astype("float32")
    assert pixels.shape[0] == 1600 and pixels.std() > 5  # drawn, not blank
    assert (pixels[..., 1] - pixels[..., 0] > 40).sum() > 50  # the green best-so-far lines


def test_tensorboard_logs_each_trials_curves_and_hparams(tmp_path):
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    x, y = load_breast_cancer(return_X_y=True)
    AutoClassifier(directory=tmp_path / "run", tensorboard=True,
                   **{**FAST, "max_trials": 2}).fit(x[:120], y[:120])
    runs = EventMultiplexer().AddRunsFromDirectory(str(tmp_path / "run" / "tensorboard"))
    runs.Reload()
    names, hparams = runs.Runs(), runs.PluginRunToTagToContent("hparams")
    for trial in ("trial_0", "trial_1"):  # curves per epoch, parameters and the objective
        assert "epoch_loss" in names[f"{trial}/train"]["tensors"]
        assert "epoch_accuracy" in names[f"{trial}/validation"]["tensors"]
        assert "val_accuracy" in names[trial]["tensors"]
        assert "_hparams_/session_start_info" in hparams[trial]
