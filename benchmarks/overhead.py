"""Per-trial overhead of autoarch against a raw ``model.fit``, and memory over many trials.

For one fixed architecture (every argument fixed, so the search has exactly one candidate):
time a raw Keras build + fit and a one-trial autoarch search (journal, callbacks, tf.data,
clear_session) over several repeats; then run ``--trials`` small trials in one search, in
process, with the default ``isolate_trials="auto"`` and always in worker processes, and
report the searching process's resident memory growth per trial (after warm-up, and over the
whole search). ``--long-table N``: how long ``AutoClassifier(time_limit=60).fit`` takes on a
synthetic table of N rows (15 numbers, 5 categories of 20-220 values; 80 % to fit), where
one epoch takes many seconds and the validation rows are many.

    python benchmarks/overhead.py [--repeats 5] [--trials 100] [--long-table 300000]

(``--trials 0``: no memory measurement; ``--repeats 0``: no timing.)
"""

import argparse
import os
import statistics
import tempfile
import threading
import time

import keras
import numpy as np
import psutil

from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
from autoarch.engine.search import ModelSearch
from autoarch.engine.journal import Journal

EPOCHS, BATCH = 5, 32


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 20)).astype("float32")
    return x, (x[:, :3].sum(axis=1) > 0).astype("int32")


def fixed_space():
    return ModelSpace([DenseBlock(num_layers=2, units=64, activation="relu", dropout=0.0,
                                  batch_norm=False), ClassificationHead(num_classes=2, dropout=0.0)],
                      training={"learning_rate": 1e-3})


def raw_fit(x, y):
    keras.backend.clear_session()
    started = time.perf_counter()
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    n_val = len(x) // 5
    model.fit(x[n_val:], y[n_val:], validation_data=(x[:n_val], y[:n_val]), epochs=EPOCHS,
              batch_size=BATCH, verbose=0)
    return time.perf_counter() - started


def search_fit(x, y, trials=1, directory=None):
    started = time.perf_counter()
    ModelSearch(fixed_space(), strategy="random", max_trials=trials, epochs=EPOCHS,
                batch_size=BATCH, seed=0, directory=directory, final_fit=False,
                early_stopping_patience=None, curve_stopping=False).fit({"input": x}, y)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--long-table", type=int, default=0, metavar="ROWS")
    args = parser.parse_args()
    print("| measure | value |\n|---|---|")
    if args.long_table:
        long_table(args.long_table)
    x, y = data()
    if args.repeats:
        raw_fit(x, y), search_fit(x, y)  # warm-up: imports, first traces
        raw = [raw_fit(x, y) for _ in range(args.repeats)]
        ours = [search_fit(x, y) for _ in range(args.repeats)]
        raw_s, ours_s = statistics.median(raw), statistics.median(ours)
        print(f"| raw model.fit ({EPOCHS} epochs, 1,600 rows), median of {args.repeats} | "
              f"{raw_s:.2f} s |")
        print(f"| one-trial autoarch search, median | {ours_s:.2f} s |")
        print(f"| overhead per trial | {ours_s - raw_s:+.2f} s "
              f"({(ours_s / raw_s - 1) * 100:+.1f}%) |")

    # memory over many trials, in this process and with trials in worker processes
    small_x, small_y = x[:200], y[:200]
    for isolate in (False, "auto", True) if args.trials else ():
        rss_growth(small_x, small_y, args.trials, isolate)


def long_table(rows, limit=60):
    """Wall seconds of an estimator's ``fit`` under ``time_limit=limit`` on a long table."""
    import pandas as pd

    from autoarch import AutoClassifier

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(15)})
    for i in range(5):
        frame[f"c{i}"] = rng.choice([f"v{j}" for j in range(20 + 50 * i)], rows)
    signal = 1.5 * frame.x0 - frame.x1 + 2 * frame.c0.isin(["v1", "v2", "v3"]) + \
        np.sin(2 * frame.x2)
    y = (signal + rng.logistic(size=rows) > 0.5).astype(int).to_numpy()
    fitted = int(0.8 * rows)
    started = time.perf_counter()
    model = AutoClassifier(time_limit=limit, seed=0).fit(frame[:fitted], y[:fitted])
    seconds = time.perf_counter() - started
    trials = model.search_summary_["trials"]
    print(f"| AutoClassifier(time_limit={limit}) on {fitted:,} rows: fit's wall time "
          f"({trials} trial{'' if trials == 1 else 's'}; test accuracy "
          f"{model.score(frame[fitted:], y[fitted:]):.4f}) | {seconds:.1f} s |", flush=True)


def rss_growth(x, y, trials, isolate):
    """Resident memory of the searching process when each of ``trials`` small trials ends
    (a thread samples RSS; the journal says when each trial was recorded)."""
    process = psutil.Process(os.getpid())
    samples, running = [], threading.Event()

    def sampler():
        while not running.wait(0.1):
            samples.append((time.time(), process.memory_info().rss))

    space = ModelSpace([DenseBlock(num_layers=[1, 2], units=[16, 32]),
                        ClassificationHead(num_classes=2)])
    directory = tempfile.mkdtemp()
    search = ModelSearch(space, strategy="random", max_trials=trials, epochs=1, seed=0,
                         directory=directory, final_fit=False, early_stopping_patience=None,
                         curve_stopping=False, isolate_trials=isolate)
    thread = threading.Thread(target=sampler, daemon=True)
    started = time.perf_counter()
    thread.start()
    search.fit({"input": x}, y)
    running.set()
    thread.join()
    ends = [r["time"] for r in Journal(directory).read() if r["event"] == "tell"]
    rss = [next((m for t, m in samples if t >= end), samples[-1][1]) for end in ends]
    mode = {False: "in process", "auto": "default (isolate_trials='auto')",
            True: "worker processes (isolate_trials=True)"}[isolate]
    warm = max(10, trials // 5)
    growth = (rss[-1] - rss[warm]) / (len(rss) - 1 - warm) / 2**20
    print(f"| {trials} small trials, {mode}: wall time | {time.perf_counter() - started:.1f} s |")
    print(f"| {mode}: RSS of the searching process after trial {warm} / at the end | "
          f"{rss[warm] / 2**20:.0f} MiB / {rss[-1] / 2**20:.0f} MiB |")
    print(f"| {mode}: RSS growth per trial after warm-up | {growth:.2f} MiB |")
    print(f"| {mode}: RSS growth per trial from the first trial to the last | "
          f"{(rss[-1] - rss[0]) / (len(rss) - 1) / 2**20:.2f} MiB |", flush=True)


if __name__ == "__main__":
    main()
