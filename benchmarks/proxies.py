"""Zero-cost proxies against the truth: how well each ranks a whole trained space, what it
costs, and what the ``zero_cost`` strategy buys over random search at equal wall time.

The space and its truth are ``benchmarks/oneshot.py``'s: 343 cells on scikit-learn's 8x8
digits, each trained stand-alone (``benchmarks/oneshot_space.csv``: test accuracy and
training seconds, each the mean over the table's seeds). Every candidate is built untrained
(seed 0, as for its training) and scored on one batch of ``--rows`` training rows by every
proxy of ``autoarch.proxies``; the table gives each proxy's Spearman rho with the trained
test accuracy and its milliseconds per model (building the model not counted), and the
same for two votes: autoarch's and the literature's.

Then, per seed, searches with budgets of ``--budget`` median trainings, replayed on the
table (each trained candidate costs its recorded training seconds): random search trains
candidates in random order; ``zero_cost`` first scores ``--samples`` random candidates
(their measured build and scoring seconds are charged to its budget) and trains them in
``vote`` order. Printed: the mean best test accuracy found and its rank in the space.

    python benchmarks/proxies.py [--rows 64] [--samples 50] [--budget 10 30] [--seeds 20]
                                 [--cache scores.json]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oneshot as cells  # noqa: E402 - the trained space of benchmarks/oneshot.py

#: the vote of Abdelfattah et al. (2021), beside autoarch's own (``proxies.VOTERS``)
LITERATURE_VOTE = ("synflow", "jacob_cov", "snip")


def score_space(rows, cache):
    """``{candidate: ({proxy: score}, {proxy: seconds}, build seconds)}`` for every cell;
    read from ``cache`` (a JSON file) when it is there, else written to it."""
    import json

    import keras
    import keras_tuner as kt

    from autoarch import proxies
    from autoarch.oneshot.supernet import path_parameters

    if cache and os.path.exists(cache):
        with open(cache) as handle:
            return json.load(handle)

    (x_train, y_train), _, _ = cells.split()
    picked = np.random.default_rng(0).permutation(len(y_train))[:rows]
    x, y = x_train[picked], y_train[picked]
    results = {}
    for path in cells.all_paths():
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        started = time.perf_counter()
        hp, space = kt.HyperParameters(), cells.space(x_train)
        for name, value in path_parameters(space, path).items():
            hp.Fixed(name, value)
        model = space.build(hp)
        built = time.perf_counter() - started
        scores, seconds = {}, {}
        for name in proxies.PROXIES:
            started = time.perf_counter()
            scores.update(proxies.score(model, {"input": x}, y, [name]))
            seconds[name] = time.perf_counter() - started
        results[cells.key(path)] = (scores, seconds, built)
    if cache:
        with open(cache, "w") as handle:
            json.dump(results, handle)
    return results


def replay(order, table, budget, charged=0.0):
    """The best test accuracy of candidates trained in ``order`` within ``budget`` seconds,
    ``charged`` of them spent before the first training."""
    spent, best = charged, 0.0
    for key in order:
        accuracy, seconds = table[key]
        if spent + seconds > budget and best > 0:
            break
        spent += seconds
        best = max(best, accuracy)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=64, help="rows in the scoring batch")
    parser.add_argument("--samples", type=int, default=50,
                        help="candidates zero_cost scores per search")
    parser.add_argument("--budget", type=float, nargs="+", default=[10, 30],
                        help="search budgets, in median stand-alone trainings")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--cache", help="a JSON file for the scores: read when it exists")
    args = parser.parse_args()
    from autoarch import proxies
    from autoarch.engine.runtime import configure_threads

    configure_threads()
    table = cells.read_table()
    if len(table) < len(cells.all_paths()):
        sys.exit(f"{cells.TABLE} is incomplete: run `python benchmarks/oneshot.py train-space`")
    keys = list(table)
    truth = np.array([table[k][0] for k in keys])
    results = score_space(args.rows, args.cache)
    names = list(proxies.PROXIES)
    voters = list(proxies.VOTERS)
    print(f"space: {len(keys)} cells of benchmarks/oneshot.py, trained stand-alone; "
          f"proxies on {args.rows} training rows; build {np.mean([r[2] for r in results.values()]) * 1e3:.0f} ms "
          "per model\n")
    print("| proxy | Spearman rho | ms per model |")
    print("|---|---|---|")
    rho = {}
    for name in names:
        values = np.array([results[k][0][name] for k in keys], dtype="float64")
        values = np.where(np.isnan(values), -np.inf, values)  # as vote ranks them
        rho[name] = spearmanr(values, truth)[0]
        ms = 1e3 * np.mean([results[k][1][name] for k in keys])
        print(f"| {name} | {rho[name]:.3f} | {ms:.0f} |")
    for label, members in (("vote", voters), ("the literature's vote", LITERATURE_VOTE)):
        rho[label] = spearmanr(proxies.vote([results[k][0] for k in keys], members), truth)[0]
        ms = 1e3 * np.mean([sum(results[k][1][v] for v in members) for k in keys])
        print(f"| {label} ({', '.join(members)}) | {rho[label]:.3f} | {ms:.0f} |")

    median = float(np.median([s for _, s in table.values()]))
    accuracy = {k: table[k][0] for k in keys}
    rank = {k: 100.0 * cells.rank_of(accuracy, k) / len(keys) for k in keys}
    print(f"\nsearches replayed on the table, {args.seeds} seeds; budgets in median "
          f"trainings of {median:.1f} s; zero_cost scores {args.samples} candidates first "
          "(their build and scoring seconds count)\n")
    print("| budget | strategy | best test accuracy (mean ± sd) | its rank (top %, mean) |")
    print("|---|---|---|---|")
    found = {}
    for trainings in args.budget:
        found = {"random": [], "zero_cost": []}
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            found["random"].append(replay(list(rng.permutation(keys)), table,
                                          trainings * median))
            sample = list(rng.permutation(keys)[:args.samples])
            ranks = proxies.vote([results[k][0] for k in sample], voters)
            cost = sum(results[k][2] + sum(results[k][1][v] for v in voters) for k in sample)
            found["zero_cost"].append(replay(
                [sample[i] for i in np.argsort(-ranks, kind="stable")], table,
                trainings * median, cost))
        for name, values in found.items():
            ranks = [rank[min(table, key=lambda k: abs(table[k][0] - a))] for a in values]
            print(f"| {trainings:g} | {name} | {np.mean(values):.4f} ± {np.std(values):.4f} | "
                  f"{np.mean(ranks):.1f} % |")
    print(f"\nvote_rho={rho['vote']:.3f} params_rho={rho['params']:.3f} largest budget: "
          f"zero_cost={np.mean(found['zero_cost']):.4f} random={np.mean(found['random']):.4f}")


if __name__ == "__main__":
    main()
