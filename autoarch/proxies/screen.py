"""Zero-cost screening of a model space's candidates: what the ``zero_cost`` strategy's phase
and every strategy's ``prescreen`` run (:mod:`autoarch.strategies.zero_cost`)."""

import json
import os
import time

import keras
import keras_tuner as kt
import numpy as np

from autoarch import proxies
from autoarch import space as space_ops
from autoarch.engine import data as data_ops
from autoarch.engine.runtime import clear_session
from autoarch.files import write_json


class Screen:
    """Builds candidates of ``space`` untrained (seeded like a trial) and scores them with
    proxies on one fixed batch of ``rows`` training rows."""

    def __init__(self, space, train, rows=64, seed=0, proxy="vote", voters=None):
        inputs, y = train
        picked = np.random.default_rng(seed).permutation(len(y))[:rows]
        self.x, self.y = data_ops.take_rows(inputs, picked), np.asarray(y)[picked]
        self.space, self.seed = space, seed
        self.proxy, self.voters = proxy, tuple(voters or proxies.VOTERS)

    @property
    def names(self):
        """The proxies computed per candidate."""
        return list(self.voters) if self.proxy == "vote" else [self.proxy]

    def score(self, values):
        """``{proxy: score}`` of the candidate ``values``; a candidate that fails to build
        or score gets NaN (ranked last) and the error."""
        clear_session()
        keras.utils.set_random_seed(self.seed)
        hp = kt.HyperParameters()
        hp.values = {k: v for k, v in values.items() if not k.startswith("tuner/")}
        try:
            model = self.space.build(hp)
            return proxies.score(model, self.x, self.y, self.names)
        except Exception as err:  # noqa: BLE001 - a broken candidate is data, ranked last
            return {**{n: float("nan") for n in self.names},
                    "error": f"{type(err).__name__}: {err}"}

    def ranking(self, scores):
        """Higher is better: the vote over the candidates, or the one proxy's scores."""
        if self.proxy == "vote":
            return proxies.vote(scores, self.voters)
        values = np.array([s.get(self.proxy, np.nan) for s in scores], dtype="float64")
        return np.where(np.isnan(values), -np.inf, values)

    def best(self, candidates):
        """The index of the best-scored of ``candidates``, and their scores."""
        scores = [self.score(values) for values in candidates]
        return int(np.argmax(self.ranking(scores))), scores


def _key(values):
    return json.dumps(values, sort_keys=True, default=str)


def run_screening(strategy, ctx):
    """Candidates (parameter sets, best first) of the ``zero_cost`` strategy's screening;
    resumed from ``scores.jsonl``, or read back from ``candidates.json`` when done."""
    done = ctx.folder("candidates.json")
    if os.path.exists(done):
        with open(done) as handle:
            return json.load(handle)["candidates"]
    os.makedirs(ctx.folder(), exist_ok=True)
    record = ctx.folder("scores.jsonl")
    scored = {}
    if os.path.exists(record):  # an interrupted screening: what it scored stays scored
        with open(record) as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:  # the line a kill cut short
                    continue
                scored[_key(entry["params"])] = entry["scores"]
    screen = Screen(ctx.space, ctx.train, strategy.rows, ctx.seed, strategy.proxy,
                    strategy.voters)
    started = time.monotonic()
    rng = np.random.default_rng([ctx.seed, 1])
    points, scores, seen = [], [], set()
    samples = strategy.samples_for(ctx.max_trials)
    with open(record, "a") as handle:
        for _ in range(20 * samples):
            if len(points) >= samples or (points and ctx.past(strategy.time_share)):
                break
            values = space_ops.sample(strategy.hyperparameters, rng)
            key = _key(values)
            if key in seen:
                continue
            seen.add(key)
            if key not in scored:
                scored[key] = screen.score(values)
                handle.write(json.dumps({"params": values, "scores": scored[key]},
                                        default=str) + "\n")
                handle.flush()
            points.append(values)
            scores.append(scored[key])
    ranking = screen.ranking(scores)
    order = np.argsort(-ranking, kind="stable")[:strategy.top_k]
    top = [{"params": points[i], "scores": scores[i], "rank_score": round(float(ranking[i]), 4)}
           for i in order]
    summary = {"screened": len(points), "proxy": strategy.proxy, "proxies": screen.names,
               "seconds": round(time.monotonic() - started, 2)}
    write_json(done, {"candidates": [t["params"] for t in top], "top": top, **summary})
    ctx.note("zero_cost", top=top, **summary)
    if ctx.verbose:
        print(f"zero_cost: scored {len(points)} candidates in {summary['seconds']:.0f} s; "
              f"training the best {len(top)}", flush=True)
    return [t["params"] for t in top]
