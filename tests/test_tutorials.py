"""Every tutorial runs end to end as a script, with budgets shrunk by ``AUTOARCH_SMOKE=1``."""

import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = sorted(glob.glob(os.path.join(ROOT, "tutorials", "*.py")))

# what each tutorial must print: the steps it walks through all ran
EXPECTED = {
    "01_quickstart.py": ["test accuracy:", "best hyperparameters:", "exported keras model",
                         "report: "],
    "02_search_spaces.py": ["python blocks: test accuracy", "yaml spec: test accuracy",
                            "Total params"],
    "03_ask_tell.py": ["after 5 asks", "reinforce: best", "resumed with 6 finished trials",
                       "over 12 trials"],
    "04_pipelines_and_mixed_data.py": ["mixed table: test accuracy", "grid search over",
                                       "same predictions: True", "text: predictions"],
    "05_one_shot.py": ["oneshot: test accuracy", "supernet's pick", "passed over, building",
                       "darts: test accuracy",
                       "the stems' weights", "deep path, inherited weights",
                       "extracted path saved"],
}


def test_every_tutorial_has_expectations():
    assert TUTORIALS and sorted(map(os.path.basename, TUTORIALS)) == sorted(EXPECTED)


@pytest.mark.parametrize("path", TUTORIALS, ids=[os.path.basename(p) for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    env = dict(os.environ, AUTOARCH_SMOKE="1", PYTHONPATH=ROOT, TMPDIR=str(tmp_path))
    done = subprocess.run([sys.executable, path], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for line in EXPECTED[os.path.basename(path)]:
        assert line in done.stdout, f"{line!r} missing from the output:\n{done.stdout[-3000:]}"
