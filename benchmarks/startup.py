"""How long the ``autoarch`` command takes to answer when it trains nothing, against the
imports it avoids.

Each row runs in a fresh process (wall seconds, the median of ``--repeats``, the first run
dropped so the files are in the page cache): ``autoarch --help``, ``autoarch search
--help``, ``autoarch validate`` on every ready spec, and as the baseline the imports that
``validate`` and ``search --help`` did before they read specs and settings without them
(``import keras_tuner``, which imports Keras and TensorFlow) and ``import tensorflow``
alone.

    python benchmarks/startup.py [--repeats 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from autoarch.cli import builtin_specs_dir


def wall(argv, repeats):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    times = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    command = [sys.executable, "-m", "autoarch.cli"]
    specs = sorted(f[:-5] for f in os.listdir(builtin_specs_dir()) if f.endswith(".yaml"))
    rows = [("autoarch --help", command + ["--help"]),
            ("autoarch search --help (every search setting's flag)", command + ["search", "--help"]),
            (f"autoarch validate, each of the {len(specs)} ready specs in one process",
             [sys.executable, "-c", "from autoarch.cli import main\n"
              f"for name in {specs!r}:\n    main(['validate', name])"]),
            ("autoarch validate digits", command + ["validate", "digits"]),
            ("baseline: python -c 'import keras_tuner'",
             [sys.executable, "-c", "import keras_tuner"]),
            ("baseline: python -c 'import tensorflow'",
             [sys.executable, "-c", "import tensorflow"])]
    print(f"| command (fresh process, median of {args.repeats}) | wall seconds |")
    print("|---|---|")
    for label, argv in rows:
        print(f"| {label} | {wall(argv, args.repeats):.2f} |", flush=True)


if __name__ == "__main__":
    main()
