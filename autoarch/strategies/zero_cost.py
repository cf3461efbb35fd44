"""Zero-cost screening: score many untrained candidates with proxies, train only the best.

Before the first trial, ``samples`` distinct random points of the space are built as Keras
models (by default :data:`SAMPLES_PER_TRIAL` for each candidate the trials will train:
``top_k``, or ``max_trials`` where fewer; 500 for the default ``top_k`` of 10, where a
search of two trials screened 500 too, 295 s on iris without a time limit) and scored on one
batch of training rows by zero-cost proxies
(:mod:`autoarch.proxies`; ``vote`` by default, which rank-combines several, after
Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS"). The trials then train the
``top_k`` best-scored candidates, best first. The screening takes at most ``time_share`` of
the time left when it starts; it scores fewer candidates when that runs out. Its record
(every candidate's scores) is ``DIR/zero_cost/scores.jsonl``, its outcome a ``zero_cost``
note in the journal; a resumed search reads it back instead of screening again.
"""

from autoarch.strategies.base import PhasedStrategy
from autoarch.strategies.options import check_values

#: candidates screened for each one trained, unless ``samples`` is given
SAMPLES_PER_TRIAL = 50


class ZeroCost(PhasedStrategy):
    """Screen ``samples`` random candidates with ``proxy`` (a proxy's name, or ``vote``
    over ``voters``), train the ``top_k`` best; ``rows``: the scoring batch's size."""

    name = "zero_cost"
    phase = "zero_cost"

    def __init__(self, samples=None, top_k=10, proxy="vote", voters=None, rows=64,
                 time_share=0.3, **kwargs):
        super().__init__(**kwargs)
        check_values(self.name, {"proxy": proxy, "voters": voters, "samples": samples,
                                 "top_k": top_k, "rows": rows, "time_share": time_share})
        self.proxy, self.voters = proxy, tuple(voters) if voters else None
        self.samples, self.top_k, self.rows, self.time_share = samples, top_k, rows, time_share

    def samples_for(self, max_trials):
        """Candidates to screen: ``samples``, or :data:`SAMPLES_PER_TRIAL` for each one the
        trials will train (``top_k``, fewer under ``max_trials``)."""
        if self.samples is not None:
            return self.samples
        return SAMPLES_PER_TRIAL * min(self.top_k, max_trials or self.top_k)

    def find_candidates(self, context):
        from autoarch.proxies.screen import run_screening

        return run_screening(self, context)
