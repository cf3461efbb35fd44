"""One-shot NAS against the truth: a whole cell space trained stand-alone, and how well one
supernet, few-shot supernets, DARTS and GDAS rank it and pick from it.

The space: one searched 3-node normal cell (3 edges, 7 operations each: 343 candidates) on
scikit-learn's 8x8 digits: 16 filters, two stacks joined by a fixed reduction cell (3x3 max
pooling), then the classification head. Split:
60 % train, 20 % validation (what the supernets are scored on), 20 % test (the truth).

``train-space --seed S`` trains every candidate stand-alone (``EPOCHS`` epochs, Adam at
``LEARNING_RATE``, batch 32, initial weights and batch order drawn from seed S) and records
its test accuracy and training seconds in ``benchmarks/oneshot_space.csv``; it resumes where
the file ends, so the table can be built in several sittings (about 20 minutes a seed on 2
cores). The truth is a cell's accuracy averaged over the seeds the table holds (one seed's
accuracy moves by a few of the 360 test digits between draws, as much as the best cells
differ).

The default command then runs each method ``--runs`` times on the same split, each run
from its own seed (initial weights, sampled paths, batch order), and prints per method,
averaged over its runs: Kendall tau between its estimates and the stand-alone accuracies
(all 343 paths scored with inherited weights, after batch-norm recalibration), the derived
architecture's stand-alone accuracy and rank (1 + the cells more accurate; equal means tie), and
the search's wall seconds as a multiple of one stand-alone training (the best cell and the
median one in turn, timed just before each run: the machine's speed drifts). "One
supernet" and "few-shot supernets" are ``strategy: oneshot`` without shrinking
(``shrink_rounds: 0``): they derive the best of the paths an evolution search scores on
the supernet (100; the cost counts them, the scoring of all 343 for tau is measurement).
"One-shot" and "few-shot" are the strategy as it runs by default: two rounds of shrinking
each edge's options (7, 4, 2), then the first candidate: each edge's best option by the
last round's means (over all 64 of its paths); a shrunk supernet was last trained on the 8
paths left alone, so it has no tau over the space. DARTS and GDAS derive their strongest
operations: DARTS by default those whose removal costs its trained supernet the most
validation accuracy (perturbation-based selection), "DARTS by weight" (the same
supernets) and GDAS those of the largest architecture weight; GDAS's supernet trains 1.2
times ``--epochs``, as the strategy's does.
A second table replays how the strategies choose: they train their ``TOP_K`` best distinct
candidates and keep the best, here the best by one stand-alone training from the table
(its seed ``run`` mod the table's seeds), ranked among the other seeds' mean accuracies
(``best_of``). Before them, a ``ceiling:`` line: how often the best estimate
there is, a full stand-alone training of every cell, puts its best cell in the top 10 % of
the other training seeds (``seed_ceiling``).

    python benchmarks/oneshot.py train-space [--seed 0] [--workers 2]
    python benchmarks/oneshot.py [--runs 3] [--epochs 10] [--methods DARTS,GDAS]
"""

import argparse
import collections
import csv
import itertools
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402
from scipy.stats import kendalltau  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "oneshot_space.csv")
OPS = ("none", "skip", "conv1x1", "conv3x3", "sepconv3x3", "avgpool3x3", "maxpool3x3")
EDGES = ("cell_1/normal_0_1", "cell_1/normal_0_2", "cell_1/normal_1_2")
EPOCHS, LEARNING_RATE, BATCH = 10, 3e-3, 32
#: the candidates the one-shot strategies train from scratch (their ``top_k``)
TOP_K = 3
#: the table's rows, in order (``--methods`` picks some)
METHODS = ("one supernet", "few-shot supernets", "one-shot", "few-shot", "DARTS",
           "DARTS by weight", "GDAS")


def split():
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.2, random_state=0,
                                                      stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.25,
                                                      random_state=0, stratify=y_rest)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def space(x):
    from autoarch.blocks import CellBlock, ClassificationHead, ModelSpace
    from autoarch.inputs import ImageInput

    fixed_reduction = {f"reduce_{i}_{j}": "maxpool3x3" for i, j in ((0, 1), (0, 2), (1, 2))}
    return ModelSpace([CellBlock(num_nodes=3, stacks=2, filters=16, operations=OPS,
                                 **fixed_reduction),
                       ClassificationHead(num_classes=10, dropout=0.0)],
                      training={"learning_rate": LEARNING_RATE},
                      inputs={"input": ImageInput("input").fit(x)})


def all_paths():
    return [dict(zip(EDGES, ops)) for ops in itertools.product(OPS, repeat=len(EDGES))]


def key(path):
    return "|".join(path[e] for e in EDGES)


# -- the stand-alone table ----------------------------------------------------------------------
def _train_chunk(paths, seed=0):
    """Worker: train each path of ``paths`` from scratch; ``[(key, seed, accuracy, seconds)]``."""
    import keras

    data, rows = split(), []
    for path in paths:
        keras.backend.clear_session()
        accuracy, seconds = train_one(path, data, seed)
        rows.append((key(path), seed, round(accuracy, 5), round(seconds, 2)))
    return rows


def train_one(path, data, seed=0):
    """Train ``path`` from scratch on ``data`` (:func:`split`) as the table does: ``(test
    accuracy, seconds)``."""
    import keras

    from autoarch.oneshot.supernet import fixed_hyperparameters, path_parameters

    (x_train, y_train), _, (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    cells = space(x_train)
    started = time.perf_counter()
    model = cells.build(fixed_hyperparameters(path_parameters(cells, path)))
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    seconds = time.perf_counter() - started
    accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    return float(accuracy), seconds


def _worker_init():
    os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"


def train_space(workers, seed):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    done = {k for k, s in _rows() if s == seed} if os.path.exists(TABLE) else set()
    todo = [p for p in all_paths() if key(p) not in done]
    print(f"{len(done)} candidates of seed {seed} in {TABLE}; training {len(todo)}", flush=True)
    new = not os.path.exists(TABLE)
    with open(TABLE, "a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["path", "seed", "test_accuracy", "train_seconds"])
        chunks = [todo[i:i + 8] for i in range(0, len(todo), 8)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
            for future in as_completed([pool.submit(_train_chunk, c, seed) for c in chunks]):
                writer.writerows(future.result())
                handle.flush()
                done |= {row[0] for row in future.result()}
                print(f"{len(done)} / {len(all_paths())}", flush=True)


def _rows():
    """``{(path, seed): (accuracy, seconds)}`` of the table."""
    with open(TABLE) as handle:
        return {(row["path"], int(row["seed"])): (float(row["test_accuracy"]),
                                                  float(row["train_seconds"]))
                for row in csv.DictReader(handle)}


def table_seeds(rows=None):
    """The seeds every path of the table was trained with."""
    rows = _rows() if rows is None else rows
    seeds = sorted({s for _, s in rows})
    return [s for s in seeds if sum(1 for _, t in rows if t == s) == len(all_paths())]


def _complete():
    """``(rows, seeds every path was trained with, paths)`` of the table."""
    rows = _rows()
    return rows, table_seeds(rows), list(dict.fromkeys(k for k, _ in rows))


def read_table():
    """``{path: (accuracy, seconds)}``, each the mean over the seeds every path was trained
    with (a seed only partly trained is left out); empty before one seed is complete."""
    rows, seeds, paths = _complete()
    return {k: tuple(float(np.mean([rows[k, s][i] for s in seeds])) for i in (0, 1))
            for k in paths} if seeds else {}


def seed_agreement():
    """The mean Kendall tau between the stand-alone accuracies of two of the table's seeds:
    how well one stand-alone training ranks the space against another (a ceiling for an
    estimate scored against one seed's truth)."""
    rows, seeds, paths = _complete()
    taus = [kendalltau([rows[k, a][0] for k in paths], [rows[k, b][0] for k in paths])[0]
            for a, b in itertools.combinations(seeds, 2)]
    return float(np.mean(taus)) if taus else None


def seed_ceiling():
    """How reliably the best estimate there is, a full stand-alone training of every cell,
    picks from the top 10 %: for each seed of the table, its most accurate cell's rank among
    the other seeds' mean accuracies (a truth independent of that training's own draw), and
    the share of its top 10 % that is also theirs. ``([rank per seed], [share per seed])``,
    empty with fewer than two seeds."""
    rows, seeds, paths = _complete()
    top = len(paths) // 10
    ranks, shares = [], []
    for seed in seeds if len(seeds) > 1 else []:
        own = sorted(paths, key=lambda k: -rows[k, seed][0])
        others = {k: float(np.mean([rows[k, s][0] for s in seeds if s != seed])) for k in paths}
        ranks.append(rank_of(others, own[0]))
        shares.append(float(np.mean([rank_of(others, k) <= top for k in own[:top]])))
    return ranks, shares


#: accuracies closer than this tie: the table rounds each to 5 decimals, so means of equal
#: counts of test digits differ by a few millionths (one digit of 360 in eight seeds: 0.00035)
TIE = 1e-4


def rank_of(truth, path):
    """1 + the paths more accurate than ``path`` (ties share the best rank)."""
    return 1 + sum(1 for value in truth.values() if value > truth[path] + TIE)


def best_of(top, run):
    """The strategies' own choice among their ``top`` candidates, replayed on the table: the
    most accurate by one stand-alone training (the table's seed ``run`` mod its seeds), and
    its rank and the first candidate's among the other seeds' mean accuracies (a truth
    that training's draw is not part of). ``(rank of the choice, rank of the first)``."""
    rows, seeds, paths = _complete()
    seed = seeds[run % len(seeds)]
    others = {k: float(np.mean([rows[k, s][0] for s in seeds if s != seed])) for k in paths}
    chosen = max(top, key=lambda k: rows[k, seed][0])
    return rank_of(others, chosen), rank_of(others, top[0])


def derived_cells(cells, ranks):
    """The runs' derived cells, each once with its rank and how many runs derived it, the
    most derived first: ``"3x conv3x3, conv1x1, conv3x3 (6); ..."``."""
    counts = collections.Counter(zip(cells, ranks))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0][1]))
    return "; ".join(f"{n}x {cell.replace('|', ', ')} ({rank})" for (cell, rank), n in ordered)


# -- the methods ------------------------------------------------------------------------------
def one_shot(data, epochs, few_shot, search_trials, seed, shrink_rounds, reference):
    """Run ``strategy: oneshot``'s phase (few-shot children with ``few_shot`` epochs each,
    ``shrink_rounds`` rounds of shrinking) up to its candidates: the cost counts that, in
    ``reference`` seconds (one stand-alone training).
    Without shrinking, every path is also scored on the final supernet or its children
    for tau (measurement, not counted); a shrunk supernet was last trained on the paths
    left, so it gets no tau."""
    import keras

    from autoarch.oneshot.phase import distinct_paths, path_scorer, single_path_search
    from autoarch.strategies.oneshot import OneShot

    started = time.perf_counter()
    ctx = _context(data, epochs, seed)
    strategy = OneShot(search_trials=search_trials, few_shot_splits=int(few_shot > 0),
                       few_shot_epochs=max(1, few_shot),  # (unused without splits)
                       shrink_rounds=shrink_rounds)
    keras.utils.set_random_seed(seed)  # the run's draws, whatever building the oracle drew
    supernet, scorers, splits, _, ranked = single_path_search(strategy, ctx)
    seconds = time.perf_counter() - started
    top = [key(path) for path, _ in distinct_paths(supernet, ranked, TOP_K)[0]]
    scores = None
    if not shrink_rounds:  # as the phase scores its paths
        score = path_scorer(scorers, splits, strategy, ctx)
        scores = {key(path): score(path)["accuracy"] for path in all_paths()}
    return scores, key(ranked[0][0]), seconds / reference, top


def gradient(data, epochs, sampling, seed, selection, reference):
    """Train a DARTS (``sampling="softmax"``) or GDAS (``"gumbel"``) supernet with the
    strategy's own options, for a search of ``epochs`` (GDAS's supernet trains more, as
    the strategy's does), and derive from it by ``selection`` ("perturbation" or
    "weight"). Both selections of one ``(sampling, seed)`` share one training: the cost of
    each counts it (in the ``reference`` seconds of the run that trained it) and its own
    selection (in this run's)."""
    import keras

    from autoarch.oneshot.phase import derived_paths, selection_strengths
    from autoarch.strategies.oneshot import Darts, Gdas

    strategy = (Darts if sampling == "softmax" else Gdas)(selection=selection)
    if (sampling, seed) not in _TRAINED:
        keras.utils.set_random_seed(seed)
        started = time.perf_counter()
        _TRAINED[sampling, seed] = (_bilevel(data, strategy.epochs_for(epochs), strategy,
                                             seed),
                                    (time.perf_counter() - started) / reference)
    supernet, cost = _TRAINED[sampling, seed]
    started = time.perf_counter()
    strengths = selection_strengths(supernet, strategy,
                                    _context(data, epochs, seed))  # as the phase derives
    top = derived_paths(supernet, TOP_K, strategy.max_skips, strengths)[0]
    cost += (time.perf_counter() - started) / reference
    return None, key(top[0]), cost, [key(p) for p in top]


def _context(data, epochs, seed):
    """What a strategy's supernet phase gets from the search, for the benchmark's split (its
    files in a temporary folder, its notes dropped)."""
    import tempfile

    from autoarch.engine.context import PhaseContext

    (x_train, y_train), (x_val, y_val), _ = data
    return PhaseContext(space=space(x_train), train=({"input": x_train}, y_train),
                        val=({"input": x_val}, y_val), objective=("val_accuracy", "max"),
                        epochs=epochs, batch_size=BATCH, distribution="auto", seed=seed,
                        directory=tempfile.mkdtemp(), note=lambda *args, **kwargs: None)


#: ``{(sampling, seed): (trained supernet, its cost in trainings)}``, for the other selection
#: of one run
_TRAINED = {}


def _bilevel(data, epochs, strategy, seed):
    """A supernet trained ``epochs`` by :mod:`autoarch.oneshot.bilevel` as ``strategy``
    (``Darts`` or ``Gdas``) trains it."""
    from autoarch.oneshot import Supernet
    from autoarch.oneshot.bilevel import bilevel_model, schedule, train_bilevel

    (x_train, y_train), (x_val, y_val), _ = data
    supernet = Supernet(space(x_train), sampling=strategy.sampling)
    model = bilevel_model(supernet, supernet.model.optimizer,
                          strategy.architecture_learning_rate)
    mixed = [layer for layers in supernet.switches.values() for layer in layers]
    train_bilevel(model, ({"input": x_train}, y_train), ({"input": x_val}, y_val), epochs,
                  BATCH, seed, callbacks=schedule(model, mixed, strategy, epochs))
    return supernet


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="compare",
                        choices=["compare", "train-space"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="train-space: the training seed")
    parser.add_argument("--epochs", type=int, default=EPOCHS,
                        help="the search's epochs: the supernets' (GDAS's: 1.2 times, as "
                             "the strategy's)")
    parser.add_argument("--few-shot-epochs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3,
                        help="how many seeds (initial weights and draws) each method runs with")
    parser.add_argument("--search-trials", type=int, default=100,
                        help="paths the one-shot searches score (evolution)")
    parser.add_argument("--methods", default=None,
                        help="comma-separated rows to run (e.g. 'DARTS,DARTS by weight'); "
                             "all by default")
    args = parser.parse_args()
    wanted = [m.strip() for m in args.methods.split(",")] if args.methods else METHODS
    unknown = [m for m in wanted if m not in METHODS]
    if unknown:
        sys.exit(f"unknown method(s) {', '.join(map(repr, unknown))}; known: "
                 f"{', '.join(METHODS)}")
    if args.command == "train-space":
        return train_space(args.workers, args.seed)
    import keras

    from autoarch.engine.runtime import configure_threads
    from autoarch.strategies.options import OPTIONS

    configure_threads()
    table = read_table()
    if len(table) < len(all_paths()):
        sys.exit(f"{TABLE} holds {len(table)} of {len(all_paths())} candidates: run "
                 "`python benchmarks/oneshot.py train-space` first")
    truth = {k: acc for k, (acc, _) in table.items()}
    order = sorted(truth, key=lambda k: -truth[k])
    # the reference for the costs: one stand-alone training (the best cell and the median
    # one in turn), timed before each run in the same process and threads as the methods,
    # so that the machine's speed, which drifts by a third over an hour here, is the same
    # for both; first one untimed, which pays TensorFlow's one-time costs
    timed = [dict(zip(EDGES, order[i].split("|"))) for i in (0, len(order) // 2)]
    data = split()
    train_one(timed[0], data)
    references = []
    print(f"space: {len(truth)} cells; stand-alone test accuracy (mean of seeds "
          f"{', '.join(map(str, table_seeds()))}) {min(truth.values()):.3f} to "
          f"{max(truth.values()):.3f} (best {order[0]}); top 10 % from "
          f"{truth[order[len(order) // 10 - 1]]:.4f}; Kendall tau between two seeds "
          f"{seed_agreement() or float('nan'):.3f}")
    ranks, shares = seed_ceiling()
    if ranks:
        print(f"ceiling: one stand-alone training of every cell as the estimate; each seed's "
              f"best cell ranks {', '.join(map(str, ranks))} among the other seeds' mean "
              f"accuracies ({sum(r <= len(order) // 10 for r in ranks)} of {len(ranks)} in "
              f"the top 10 %), and {100 * min(shares):.0f}-{100 * max(shares):.0f} % of a "
              "seed's top 10 % is in theirs\n")
    print("| method | Kendall tau | derived cells (rank), runs each | accuracy | rank (top %) | "
          "runs in the top 10 % | cost (trainings) |")
    print("|---|---|---|---|---|---|---|")
    def single_path(few_shot, shrink_rounds):
        return lambda seed, reference: one_shot(data, args.epochs, few_shot,
                                                args.search_trials, seed, shrink_rounds,
                                                reference)

    def bilevel(sampling, selection):
        return lambda seed, reference: gradient(data, args.epochs, sampling, seed, selection,
                                                reference)

    shrink = OPTIONS["oneshot"]["shrink_rounds"]
    methods = [("one supernet", single_path(0, 0)),
               ("few-shot supernets", single_path(args.few_shot_epochs, 0)),
               ("one-shot", single_path(0, shrink)),
               ("few-shot", single_path(args.few_shot_epochs, shrink)),
               ("DARTS", bilevel("softmax", "perturbation")),
               ("DARTS by weight", bilevel("softmax", "weight")),
               ("GDAS", bilevel("gumbel", "weight"))]
    assert tuple(dict(methods)) == METHODS
    methods = [(name, run) for name, run in methods if name in wanted]
    results, chosen = {}, {}
    for name, run in methods:
        taus, cells, ranks, costs, chosen[name] = [], [], [], [], []
        for seed in range(args.runs):
            references.append(train_one(timed[len(references) % len(timed)], data)[1])
            keras.utils.set_random_seed(seed)  # each method from the same initial draws
            scores, derived, cost, top = run(seed, references[-1])
            if scores is not None:
                taus.append(kendalltau([scores[k] for k in truth], list(truth.values()))[0])
            cells.append(derived)
            ranks.append(rank_of(truth, derived))
            costs.append(cost)
            chosen[name].append(best_of(top, seed))
        top = sum(rank <= len(order) // 10 for rank in ranks)
        results[name] = (np.mean(taus) if taus else None,
                         100.0 * np.mean(ranks) / len(order), np.mean(costs))
        tau = "n/a" if not taus else f"{np.mean(taus):.3f}" + \
            (f" ({min(taus):.3f}-{max(taus):.3f})" if len(taus) > 1 else "")
        picks = derived_cells(cells, ranks)
        print(f"| {name} | {tau} | {picks} | "
              f"{np.mean([truth[c] for c in cells]):.4f} | {results[name][1]:.1f} | "
              f"{top} of {len(ranks)} | {results[name][2]:.1f} |", flush=True)
    print(f"\nCosts: each run's wall seconds over one stand-alone training timed just before "
          f"it (the best cell and the median one in turn): {np.mean(references):.1f} s on "
          f"average, {min(references):.1f}-{max(references):.1f} s over the "
          f"{len(references)} runs")
    print(f"\nAs the strategies choose: the best of each run's top {TOP_K} distinct candidates "
          "by one stand-alone training (the table's seed run mod its seeds), ranked among the "
          "other seeds' mean accuracies, beside the first candidate ranked the same way; at "
          f"{TOP_K - 1} trainings more than the search (the choice's own is its trial)\n")
    print(f"| method | best of {TOP_K}: runs in the top 10 % (mean rank) | first: runs in the "
          "top 10 % (mean rank) |")
    print("|---|---|---|")
    for name, pairs in chosen.items():
        best, first = ([pair[i] for pair in pairs] for i in (0, 1))
        print(f"| {name} | {sum(r <= len(order) // 10 for r in best)} of {len(best)} "
              f"({np.mean(best):.1f}) | {sum(r <= len(order) // 10 for r in first)} of "
              f"{len(first)} ({np.mean(first):.1f}) |")
    if not args.methods:  # the summary line needs every row
        print(f"\noneshot_tau={results['one supernet'][0]:.3f} "
              f"fewshot_tau={results['few-shot supernets'][0]:.3f} "
              f"darts_rank_pct={results['DARTS'][1]:.1f} "
              f"gdas_rank_pct={results['GDAS'][1]:.1f} "
              f"cost_ratio={max(r[2] for r in results.values()):.1f}")


if __name__ == "__main__":
    main()
