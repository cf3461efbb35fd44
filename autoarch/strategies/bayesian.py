"""Gaussian-process Bayesian optimization for mixed, conditional spaces.

keras-tuner's oracle encodes a categorical choice as one ordinal number and ignores whether a
conditional parameter is active. Here each point is encoded with one-hot categories and an
activity flag per conditional parameter (``space.encode``), a Matern-5/2 GP with a noise term is
fitted to the finished trials (scikit-learn), and expected improvement is maximized over random
points plus local mutations of the best trials, which suits discrete architecture spaces.
With several objectives or constraints each suggestion models a random scalarisation of
them (ParEGO; ``StrategyOracle.scalarized``), so successive trials aim at different parts
of the Pareto front.
"""

import warnings

import numpy as np
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from autoarch import space as space_ops
from autoarch.strategies.base import StrategyOracle
from autoarch.strategies.options import check_values


class BayesianOptimization(StrategyOracle):
    name = "bayesian"

    def __init__(self, num_initial_points=10, num_candidates=500, num_local=200, xi=0.01,
                 **kwargs):
        super().__init__(**kwargs)
        check_values(self.name, {"num_initial_points": num_initial_points,
                                 "num_candidates": num_candidates, "num_local": num_local})
        self.num_initial_points = num_initial_points
        self.num_candidates = num_candidates
        self.num_local = num_local
        self.xi = xi

    def _fit(self, trials, rng, running=()):
        x = np.stack([space_ops.encode(self.hyperparameters, t.hyperparameters.values)
                      for t in list(trials) + list(running)])
        y = self.scalarized(trials, rng)
        lied = np.concatenate([y, np.full(len(running), y.min())])
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=np.ones(x.shape[1]), length_scale_bounds=(1e-2, 1e2), nu=2.5
        ) + WhiteKernel(1e-3, (1e-6, 1e0))
        gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=0,
                                      random_state=int(rng.integers(2**31)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(x, lied)
        return gp, y

    def _candidates(self, trials, y, rng):
        space = self.hyperparameters
        points = [space_ops.sample(space, rng) for _ in range(self.num_candidates)]
        best = [trials[i] for i in np.argsort(-y, kind="stable")[:5]]
        for i in range(self.num_local):
            parent = best[i % len(best)].hyperparameters.values
            points.append(space_ops.mutate(space, parent, rng, n_changes=1 + (i % 3 == 2)))
        return points

    def suggest(self, rng):
        trials = self.finished_trials()
        if len(trials) < self.num_initial_points:
            return space_ops.sample(self.hyperparameters, rng)
        gp, y = self._fit(trials, rng, [t for t in self.ongoing_trials.values()
                                        if t.hyperparameters.values])
        points = [p for p in self._candidates(trials, y, rng)
                  if not self._duplicate(space_ops.active_values(self.hyperparameters, p))]
        if not points:
            return None
        x = np.stack([space_ops.encode(self.hyperparameters, p) for p in points])
        mean, std = gp.predict(x, return_std=True)
        std = np.maximum(std, 1e-12)
        improvement = mean - y.max() - self.xi * (np.std(y) + 1e-12)
        z = improvement / std
        expected = improvement * norm.cdf(z) + std * norm.pdf(z)
        return points[int(np.argmax(expected))]
