"""Per-trial overhead of autoarch against a raw ``model.fit``, and memory over many trials.

For one fixed architecture (every argument fixed, so the search has exactly one candidate):
time a raw Keras build + fit and a one-trial autoarch search (journal, callbacks, tf.data,
clear_session) over several repeats; then run ``--trials`` small trials in one search and
report resident memory growth per trial after warm-up.

    python benchmarks/overhead.py [--repeats 5] [--trials 100]
"""

import argparse
import gc
import os
import statistics
import tempfile
import time

import keras
import numpy as np
import psutil

from autoarch.blocks import ClassificationHead, DenseBlock, ModelSpace
from autoarch.engine.search import ModelSearch

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
    args = parser.parse_args()
    x, y = data()
    raw_fit(x, y), search_fit(x, y)  # warm-up: imports, first traces
    raw = [raw_fit(x, y) for _ in range(args.repeats)]
    ours = [search_fit(x, y) for _ in range(args.repeats)]
    raw_s, ours_s = statistics.median(raw), statistics.median(ours)
    print("| measure | value |\n|---|---|")
    print(f"| raw model.fit ({EPOCHS} epochs, 1,600 rows), median of {args.repeats} | {raw_s:.2f} s |")
    print(f"| one-trial autoarch search, median | {ours_s:.2f} s |")
    print(f"| overhead per trial | {ours_s - raw_s:+.2f} s ({(ours_s / raw_s - 1) * 100:+.1f}%) |")

    # memory over many trials: a search whose trials are tiny, RSS sampled per trial
    process = psutil.Process(os.getpid())
    samples = []
    small_x, small_y = x[:200], y[:200]
    space = ModelSpace([DenseBlock(num_layers=[1, 2], units=[16, 32]),
                        ClassificationHead(num_classes=2)])
    search = ModelSearch(space, strategy="random", max_trials=args.trials, epochs=1, seed=0,
                         directory=tempfile.mkdtemp(), final_fit=False,
                         early_stopping_patience=None, curve_stopping=False)
    original = search._train_trial

    def train_and_sample(*a, **k):  # RSS after each trial, garbage collected
        result = original(*a, **k)
        gc.collect()
        samples.append(process.memory_info().rss)
        return result

    search._train_trial = train_and_sample
    started = time.perf_counter()
    search.fit({"input": small_x}, small_y)
    warm = max(10, args.trials // 5)
    growth = (samples[-1] - samples[warm]) / (len(samples) - 1 - warm) / 2**20
    print(f"| {args.trials} small trials, wall time | {time.perf_counter() - started:.1f} s |")
    print(f"| RSS after warm-up (trial {warm}) / at the end | {samples[warm] / 2**20:.0f} MiB / "
          f"{samples[-1] / 2**20:.0f} MiB |")
    print(f"| RSS growth per trial after warm-up | {growth:.2f} MiB |")


if __name__ == "__main__":
    main()
