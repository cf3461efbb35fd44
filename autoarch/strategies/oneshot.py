"""One-shot strategies: a supernet phase finds the candidates, the normal search trains them.

``oneshot`` (single-path one-shot, Guo et al. 2020; few-shot splits, Zhao et al. 2021),
``darts`` (Liu et al. 2019, first order) and ``gdas`` (Dong & Yang 2019) search the
operation choices of ``CellBlock`` and ``ChainBlock``, and ``BlockChoice``s between blocks
of one output shape, through weight sharing
(:mod:`autoarch.oneshot.phase`). Their trials are the phase's candidates, best first, each
trained from scratch like any trial (journal, resume, ensembles); then the strategy is
exhausted. Parameters other than operation choices (widths, depths, the learning rate)
keep their defaults, or the values given in ``fixed``.

Why the guards against DARTS's collapse (its architecture weights drift to parameter-free
operations, ending at all-skip cells): "none" is never derived (DARTS's own rule), the
architecture weights stay still for ``warmup_epochs`` while the operations learn (the
parameter-free ones win early only because the others are untrained), at most
``max_skips`` choices may derive "skip" (P-DARTS, Chen et al. 2019), and by default the
derived operations are those whose removal hurts the trained supernet most, not those
of the largest weight (``selection: perturbation``; Wang et al. 2021 trace much of the
collapse to reading operations' strength off their weights).
"""

from autoarch.strategies.base import PhasedStrategy
from autoarch.strategies.options import check_values


class SupernetStrategy(PhasedStrategy):
    """Base: the candidates of a supernet phase (:mod:`autoarch.oneshot.phase`)."""

    #: None: single-path switches; "softmax" / "gumbel": mixed operations
    sampling = None
    phase = "oneshot"
    #: the supernet's epochs as a multiple of the search's, where ``supernet_epochs`` is None
    epoch_factor = 1.0

    def __init__(self, supernet_epochs=None, fixed=None, **kwargs):
        super().__init__(**kwargs)
        self.supernet_epochs = supernet_epochs
        self.fixed = dict(fixed or {})

    def epochs_for(self, search_epochs):
        """The supernet's epochs: ``supernet_epochs``, else the search's times
        ``epoch_factor``, rounded (at least one)."""
        return self.supernet_epochs or max(1, round(search_epochs * self.epoch_factor))

    def find_candidates(self, context):
        from autoarch.oneshot.phase import run_phase

        return run_phase(self, context)


class OneShot(SupernetStrategy):
    """Single-path one-shot: train the supernet on uniformly sampled paths; then
    ``shrink_rounds`` times score ``shrink_samples`` paths, keep the better half of each
    choice's options by their paths' mean score and train the shrunk supernet
    ``shrink_epochs`` more; search its paths (``search``: any autoarch strategy,
    ``search_trials`` paths) scored with inherited weights after batch-norm recalibration
    (on ``calibration_rows`` training rows), and train ``top_k`` from scratch: the best
    paths found, and first, where the last round scored every path it had, each choice's
    best option by its means.
    ``few_shot_splits`` > 0 splits the supernet on that many choices (those with the most
    options) into children, one per combination of their options, each starting from the
    parent's weights and training ``few_shot_epochs`` on its share of the paths."""

    name = "oneshot"

    def __init__(self, search="evolution", search_trials=100, top_k=3, few_shot_splits=0,
                 few_shot_epochs=2, calibration_rows=320, shrink_rounds=2, shrink_epochs=3,
                 shrink_samples=200, **kwargs):
        super().__init__(**kwargs)
        check_values(self.name, {
            "search_trials": search_trials, "top_k": top_k, "few_shot_splits": few_shot_splits,
            "few_shot_epochs": few_shot_epochs, "calibration_rows": calibration_rows,
            "shrink_rounds": shrink_rounds, "shrink_epochs": shrink_epochs,
            "shrink_samples": shrink_samples})
        self.search, self.search_trials, self.top_k = search, search_trials, top_k
        self.few_shot_splits, self.few_shot_epochs = few_shot_splits, few_shot_epochs
        self.calibration_rows = calibration_rows
        self.shrink_rounds, self.shrink_epochs = shrink_rounds, shrink_epochs
        self.shrink_samples = shrink_samples


class Darts(SupernetStrategy):
    """DARTS, first order: softmax-mixed operations; network weights on training batches,
    architecture weights on validation batches, alternating; the strongest operation per
    choice (see the module's guards) is trained from scratch, with the next strongest
    paths (by the sum of their options' strengths; the guards hold), ``top_k`` in all, and
    the best on validation kept, as DARTS's authors chose among their derived cells.
    ``selection``: an option's strength is how much the trained supernet's validation
    objective worsens without it ("perturbation", Wang et al. 2021) or its architecture
    weight ("weight", DARTS's own rule)."""

    name = "darts"
    sampling = "softmax"

    def __init__(self, architecture_learning_rate=3e-3, warmup_epochs=2, max_skips=2,
                 top_k=3, selection="perturbation", **kwargs):
        super().__init__(**kwargs)
        check_values(self.name, {"architecture_learning_rate": architecture_learning_rate,
                                 "warmup_epochs": warmup_epochs, "max_skips": max_skips,
                                 "top_k": top_k, "selection": selection})
        self.architecture_learning_rate = architecture_learning_rate
        self.warmup_epochs, self.max_skips, self.top_k = warmup_epochs, max_skips, top_k
        self.selection = selection


class Gdas(Darts):
    """GDAS: DARTS's loop with one operation per choice drawn per step from the
    Gumbel-softmax (hard forward, soft backward), the temperature annealed from
    ``temperature_start`` to ``temperature_end``. Its paths derive by weight: its
    supernet trained one drawn option per step, so all options mixed at once (what
    perturbation removes options from) is a network it never trained (0.16-0.18 validation
    accuracy on the one-shot benchmark's digits, where DARTS's mix scores 0.94-0.99).
    Unless ``supernet_epochs`` is given, its supernet trains 1.2 times the search's epochs
    (12 for 10): an operation learns only in the steps that draw it, where DARTS trains
    every operation every step (on the one-shot benchmark, 30 of 30 derived cells in the
    space's top 10 % with 12 epochs, 25 with 10)."""

    name = "gdas"
    sampling = "gumbel"
    epoch_factor = 1.2

    def __init__(self, temperature_start=5.0, temperature_end=0.5, warmup_epochs=0,
                 selection="weight", **kwargs):
        super().__init__(warmup_epochs=warmup_epochs, selection=selection, **kwargs)
        self.temperature_start, self.temperature_end = temperature_start, temperature_end
