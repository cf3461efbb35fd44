"""The ask/tell core: any strategy, any objective, a journal that survives a kill.

``Study`` drives a keras-tuner ``Oracle`` through its public ``create_trial`` / ``update_trial``
/ ``end_trial`` calls and records every step in a :class:`~autoarch.engine.journal.Journal`.
Resuming replays the journal through a fresh oracle: strategies are deterministic given their
seed and trials, so the replayed oracle is in exactly the state it had, and a trial that was
in flight when the process died is handed out again by the next ``ask``.
"""

import collections
import contextlib
import json
import math
import numbers
import secrets
import tempfile
import threading
import time
import traceback as tb

import keras_tuner as kt

from autoarch import space as space_ops
from autoarch.engine.journal import Journal
from autoarch.engine.trial import Trial, TrialStatus
from autoarch.errors import (JournalError, SearchFinished, StudyMismatch, TooManyFailures,
                             TrialRefused, TrialsPending)
from autoarch.files import DirectoryLock
from autoarch.objectives import make_objective
from autoarch.pareto import non_dominated_sort, violation
from autoarch.specfile import load_space
from autoarch.strategies import make_strategy, strategy_class

COMPLETED, FAILED, RUNNING = TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.RUNNING
REFUSED = TrialStatus.REFUSED
#: refusals in a row after which a search stops: its constraints refuse everything
MAX_CONSECUTIVE_REFUSALS = 100


def _locked(method):
    """Holds the study's lock: trials of one study may run in several threads."""
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    locked.__name__, locked.__doc__ = method.__name__, method.__doc__
    return locked


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _space_config(space):
    return json.loads(json.dumps(space.get_config(), default=str))


def _space_difference(recorded, now):
    """How two spaces' configs differ, by parameter name: what a refused resume says (the
    configs themselves run to thousands of characters)."""
    def by_name(config):
        return {p.get("config", {}).get("name"): p for p in (config or {}).get("space", [])
                if isinstance(p, dict)}

    old, new = by_name(recorded), by_name(now)
    parts = [f"{label}: {', '.join(map(repr, names[:5]))}{' ...' if len(names) > 5 else ''}"
             for label, names in (
                 ("recorded only", [n for n in old if n not in new]),
                 ("new", [n for n in new if n not in old]),
                 ("changed", [n for n in old if n in new and old[n] != new[n]])) if names]
    return "; ".join(parts) or "the parameters' order or conditions"


class Study:
    """A search: ``ask`` for a trial, evaluate it, ``tell`` the result; or ``optimize(fn)``.

    Args:
        space: a ``keras_tuner.HyperParameters``, a spec dict or a YAML path.
        strategy: a strategy name (see ``autoarch.strategies.STRATEGIES``).
        objective: ``"max"``, ``"min"``, ``(metric, direction)`` or a ``kt.Objective``.
        objectives: several objectives (any of those forms; the first is ``objective``):
            each trial's metrics hold them all, strategies see them all (NSGA-II
            evolution, ParEGO Bayesian optimisation) and ``pareto_front()`` lists the
            trials no other beats in all of them.
        constraints: ``{metric: bound}``: at most ``bound`` for metrics that are minimised,
            at least for maximised ones (by the objectives' directions, else by name). A
            trial that breaks one loses to every trial that does not (``best_trial``,
            ``pareto_front``, strategies); an objective function can refuse a trial before
            running it by raising :class:`TrialRefused`.
        seed: an int; ``None`` picks one and records it in the journal.
        directory: where the journal (and keras-tuner's oracle files) live; ``None`` keeps
            the search in memory and a temporary folder.
        strategy_options: keyword options of the strategy (e.g. ``population_size``).
        max_consecutive_failures: stop with :class:`TooManyFailures` after this many
            failed trials in a row.
        first_trials: points (``{parameter: value}``, the rest take their defaults) that
            the first trials evaluate before the strategy suggests any (autoarch's own
            strategies; keras-tuner's grid and Hyperband, and the strategies that find their
            trials in a phase before the first, plan their own trials).
        data: what the trials learn from, as ``{"rows": n, ...}`` (a model search gives
            :func:`autoarch.engine.data.fingerprint`): recorded in the journal, and a resume
            in that directory with other data is refused (its trials, models and
            validation predictions belong to the data they were made from).
    """

    def __init__(self, space, strategy="random", objective="max", seed=None, directory=None,
                 strategy_options=None, max_consecutive_failures=5, first_trials=(),
                 objectives=None, constraints=None, data=None):
        self.space = load_space(space)
        self.data = data
        self.first_trials = [dict(p) for p in first_trials]
        strategy_class(strategy)
        self.strategy = strategy
        self.strategy_options = dict(strategy_options or {})
        self._set_objectives(objective, objectives, constraints)
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise ValueError(f"seed: expected an int or None, got {seed!r}")
        if max_consecutive_failures is not None and max_consecutive_failures < 1:
            raise ValueError("max_consecutive_failures must be >= 1 or None")
        self.max_consecutive_failures = max_consecutive_failures
        self.trials = []
        self._pending = []
        self._kt_trials = {}
        self._asks = 0
        self._tmp = self._dir_lock = None
        self.read_only = False
        self.notes = []
        #: ask, report, tell and note hold it: trials may run in several threads at once
        self._lock = threading.RLock()
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="autoarch-")
            self.directory, self.journal = self._tmp.name, None
        else:
            self.directory = str(directory)
            self.journal = Journal(self.directory)
            # one process per directory: a second one would duplicate trial numbers
            self._dir_lock = DirectoryLock(self.directory).acquire()
        records = self.journal.read(repair=True) if self.journal is not None and \
            self.journal.exists() else []
        self.seed = self._check_header(records[0] if records else None, seed)
        self.oracle = make_strategy(strategy, self.space.copy(), self.objective, self.seed,
                                    self.strategy_options)
        self.oracle.verbose = 0
        self.oracle.objectives = [(o.name, o.direction) for o in self.objectives]
        self.oracle.constraints = self._constraint_directions
        self.oracle._set_project_dir(self.directory, "oracle")  # as keras_tuner.Tuner does
        if records:
            self._replay(records[1:])
        elif self.journal is not None:
            self.journal.append("study", version=1, strategy=strategy,
                                strategy_options=self.strategy_options, seed=self.seed,
                                objective=[self.objective.name, self.objective.direction],
                                **self._objectives_record(),
                                space=_space_config(self.space),
                                **({} if data is None else {"data": data}), created=time.time())

    def _set_objectives(self, objective, objectives, constraints):
        objectives = [make_objective(o) for o in (objectives or [objective])]
        self.objective, self.objectives = objectives[0], objectives
        directions = {o.name: o.direction for o in objectives}
        self.constraints = dict(constraints or {})
        for name, bound in self.constraints.items():
            if not _is_number(bound) or not math.isfinite(bound):
                raise ValueError(f"constraints: the bound of {name!r} must be a finite number, "
                                 f"got {bound!r}")
        self._constraint_directions = {
            name: (float(bound), directions.get(name) or make_objective(name).direction)
            for name, bound in self.constraints.items()}

    def _objectives_record(self):
        """What the journal's header says of several objectives and constraints (nothing
        for a plain search, so its header reads as before)."""
        record = {}
        if len(self.objectives) > 1:
            record["objectives"] = [[o.name, o.direction] for o in self.objectives]
        if self.constraints:
            record["constraints"] = self.constraints
        return record

    @classmethod
    def load(cls, directory):
        """A read-only view of the search recorded in ``directory``: its trials, best trial
        and settings, for reports and notebooks. Nothing is written, no strategy is built."""
        journal = Journal(directory, create=False)
        if not journal.exists():
            raise FileNotFoundError(f"{directory}: no search journal here")
        records = journal.read()
        header = records[0] if records else {}
        if not isinstance(header, dict) or header.get("event") != "study":
            raise StudyMismatch(f"{journal.path}: not an autoarch journal")
        study = cls.__new__(cls)
        study.space, study.oracle, study._tmp, study._dir_lock = None, None, None, None
        study._lock = threading.RLock()
        study.directory, study.journal, study.read_only = str(directory), journal, True
        study.strategy = header["strategy"]
        study.strategy_options = header.get("strategy_options") or {}
        study._set_objectives(tuple(header["objective"]),
                              [tuple(o) for o in header.get("objectives") or []] or None,
                              header.get("constraints"))
        study.seed = header["seed"]
        study.max_consecutive_failures = None
        study.header = header
        study.trials, study._pending, study._kt_trials, study._asks = [], [], {}, 0
        study.first_trials = []
        study.notes = []
        study._replay(records[1:])
        return study

    # -- resume -------------------------------------------------------------------------
    def _check_header(self, header, seed):
        if header is None:
            return int(seed) if seed is not None else secrets.randbelow(2**31 - 1)
        if not isinstance(header, dict) or header.get("event") != "study":
            raise StudyMismatch(f"{self.journal.path}: not an autoarch journal")
        recorded = header.get("data")
        if self.data is not None and recorded is not None and recorded != self.data:
            before, now = recorded.get("rows"), self.data.get("rows")
            rows = "as many rows, other values" if before == now else \
                f"{before} rows, now {now}"
            raise StudyMismatch(
                f"{self.journal.path} holds a search of other data ({rows}): its trials do "
                "not describe this data; use another directory (or remove this one) to start "
                "anew, or give the same data to resume it")
        expected = {"strategy": self.strategy, "strategy_options": self.strategy_options,
                    "objective": [self.objective.name, self.objective.direction],
                    "objectives": None, "constraints": None,
                    **self._objectives_record(), "space": _space_config(self.space)}
        if seed is not None:
            expected["seed"] = int(seed)
        for key, value in expected.items():
            if header.get(key) != value:
                differs = f"space: {_space_difference(header.get(key), value)}" \
                    if key == "space" else f"{key}: recorded {header.get(key)!r}, now {value!r}"
                raise StudyMismatch(f"{self.journal.path} holds a different study ({differs}); "
                                    "use another directory to start anew")
        return header["seed"]

    def _replay(self, records):
        """Rebuild the trials from the journal's records (after its header), checking that
        each one fits the search so far: a record out of place is refused with its line,
        never guessed around (a duplicated ask would shift every later trial's number)."""
        lines = self.journal.lines[1:] if self.journal is not None else [None] * len(records)
        for line, record in zip(lines, records):
            try:
                self._replay_one(record)
            except (KeyError, TypeError, ValueError) as err:
                problem = err.args[0] if isinstance(err, ValueError) and err.args else \
                    f"malformed record ({type(err).__name__}: {err})"
                raise JournalError(f"{self.journal.path}:{line}: {problem}; the journal does "
                                   "not describe one search (was it edited or written by two "
                                   "processes?)") from None
        self._pending = [t for t in self.trials if t.status == RUNNING]

    def _replay_one(self, record):
        event = record.get("event") if isinstance(record, dict) else None
        if event is None:
            raise ValueError(f"expected a JSON object with an 'event', got {record!r:.80}")
        if event == "ask":
            if record.get("number") != len(self.trials):
                raise ValueError(f"ask for trial {record.get('number')!r}, but the next trial "
                                 f"is {len(self.trials)}")
            if not isinstance(record.get("params"), dict):
                raise ValueError("ask without its parameters")
            trial = self._create(record["params"])
            trial.started = record.get("time")
        elif event in ("report", "restart", "tell"):
            trial = self._recorded_trial(record)
            if event == "report":
                trial.intermediate.append({"step": record["step"], **record["metrics"]})
            elif event == "restart":  # a trial handed out again: its old reports go
                trial.intermediate.clear()
            else:
                value = record.get("value")
                if record.get("status") not in (COMPLETED, FAILED, REFUSED) or \
                        (value is not None and not _is_number(value)):
                    raise ValueError(f"tell of trial {trial.number} with status "
                                     f"{record.get('status')!r} and value {value!r}")
                trial.finished = record.get("time")
                self._finish(trial, record["status"], value, record.get("metrics") or {},
                             record.get("message"), record.get("traceback"),
                             record.get("info") or {})
        else:
            if event == "useful_from":
                self._useful_from = record.get("value")
            self.notes.append(record)

    def _recorded_trial(self, record):
        number = record.get("number")
        if not _is_number(number) or not 0 <= number < len(self.trials) or \
                number != int(number):
            raise ValueError(f"{record['event']} for trial {number!r}, which was never asked")
        trial = self.trials[int(number)]
        if trial.status != RUNNING:
            raise ValueError(f"{record['event']} for trial {trial.number}, which had already "
                             f"{trial.status.lower()}")
        return trial

    # -- ask / tell ---------------------------------------------------------------------
    def _create(self, recorded=None):
        self._asks += 1
        number = len(self.trials)
        if self.oracle is None:  # a read-only view: the journal alone
            trial = Trial(number=number, params=dict(recorded), seed=self._trial_seed(number))
            self.trials.append(trial)
            return trial
        replaying = getattr(self.oracle, "replaying", None)
        # a recorded point is handed back as it was, without asking the strategy again
        with replaying(recorded) if replaying and recorded is not None else \
                contextlib.nullcontext():
            kt_trial = self.oracle.create_trial(f"ask-{self._asks}")
        if kt_trial.status == kt.engine.trial.TrialStatus.STOPPED:
            raise SearchFinished(f"strategy '{self.strategy}' has no further trial to suggest "
                                 f"(space exhausted after {len(self.trials)} trials)")
        if kt_trial.status == kt.engine.trial.TrialStatus.IDLE:
            raise TrialsPending(f"strategy '{self.strategy}' is waiting for running trials; "
                                "tell their results before asking for more")
        if recorded is not None and kt_trial.hyperparameters.values != recorded:
            kt_trial.hyperparameters.values = dict(recorded)  # the journal is the truth
        trial = Trial(number=number, params=dict(kt_trial.hyperparameters.values),
                      seed=self._trial_seed(number), trial_id=kt_trial.trial_id,
                      started=time.time())
        self._kt_trials[number] = kt_trial
        self.trials.append(trial)
        return trial

    def _trial_seed(self, number):
        return (self.seed * 1_000_003 + number) % (2**31 - 1)

    @_locked
    def ask(self):
        """The next trial to evaluate (a trial left running by a killed run comes first)."""
        self._check_writable()
        if self._pending:
            trial = self._pending.pop(0)
            trial.started = time.time()
            if trial.intermediate and self.journal is not None:
                self.journal.append("restart", number=trial.number, time=trial.started)
            trial.intermediate.clear()  # the redone run reports anew
            return trial
        first = None
        if len(self.trials) < len(self.first_trials) and hasattr(self.oracle, "replaying") \
                and not getattr(self.oracle, "runs_phase", False):
            first = space_ops.active_values(self.space, self.first_trials[len(self.trials)])
        trial = self._create(first)
        if self.journal is not None:
            self.journal.append("ask", number=trial.number, trial_id=trial.trial_id,
                                params=trial.params, seed=trial.seed, time=trial.started)
        return trial

    @_locked
    def restart(self, trial, reason):
        """``trial`` runs again from its start (its worker was lost): its reports so far go,
        and the journal says why."""
        self._check_writable()
        self._check_running(trial)
        trial.intermediate.clear()
        if self.journal is not None:
            self.journal.append("restart", number=trial.number, time=time.time(),
                                reason=str(reason))

    @_locked
    def report(self, trial, step, **metrics):
        """Record an intermediate result (for example one epoch) of a running trial."""
        self._check_writable()
        self._check_running(trial)
        trial.intermediate.append({"step": step, **metrics})
        if self.journal is not None:
            self.journal.append("report", number=trial.number, step=step, metrics=metrics)

    @_locked
    def tell(self, trial, value=None, *, metrics=None, failed=None, traceback=None, info=None,
             refused=None):
        """Finish ``trial`` with its objective ``value`` (a number or a dict of metrics).

        A non-finite value, or ``failed="reason"``, marks the trial failed: strategies never
        learn from it. ``refused="reason"`` marks it refused (a constraint it breaks was
        known before it ran): it does not count against ``max_trials`` nor as a failure.
        Raises :class:`TooManyFailures` after too many failures in a row, once the trial is
        recorded.
        """
        self._check_writable()
        self._check_running(trial)
        info = {**trial.info, **(info or {})}  # what the objective noted on the trial stays
        metrics = dict(metrics or {})
        if isinstance(value, dict):
            metrics.update(value)
            value = metrics.get(self.objective.name)
        status, message = COMPLETED, None
        if refused is not None:
            status, message, value = REFUSED, str(refused), None
        elif failed is not None:
            status, message, value = FAILED, str(failed), None
        elif not _is_number(value):  # not '0.5', not True: only real numbers are values
            status, message = FAILED, (f"objective '{self.objective.name}' must be a real "
                                       f"number, got {value!r:.80}")
            value = None
        else:
            try:
                value = float(value)
            except OverflowError:  # an int beyond float's range
                value = math.inf if value > 0 else -math.inf
            if not math.isfinite(value):
                status, message = FAILED, f"objective '{self.objective.name}' is {value}"
                value = None
        trial.finished = time.time()
        if self.journal is not None:
            self.journal.append("tell", number=trial.number, status=status, value=value,
                                metrics=metrics, message=message, traceback=traceback,
                                info=info, duration=trial.finished - trial.started,
                                time=trial.finished)
        self._finish(trial, status, value, metrics, message, traceback, info)
        self._check_failures()
        return trial

    def _finish(self, trial, status, value, metrics, message, traceback, info):
        trial.status, trial.value, trial.metrics = TrialStatus(status), value, metrics
        trial.message, trial.traceback, trial.info = message, traceback, info
        if self.oracle is None:
            return
        kt_trial = self._kt_trials.pop(trial.number)
        if status == COMPLETED:
            self.oracle.update_trial(kt_trial.trial_id, {self.objective.name: value})
            if hasattr(self.oracle, "outcomes"):
                self.oracle.outcomes[kt_trial.trial_id] = (self.vector(trial),
                                                           self.violation(trial))
        kt_trial.status = kt.engine.trial.TrialStatus.INVALID if status == REFUSED else status
        kt_trial.message = message
        self.oracle.end_trial(kt_trial)

    def _check_writable(self):
        if self.read_only:
            raise RuntimeError(f"this Study was loaded read-only from {self.directory}; open "
                               "Study(space, ..., directory=...) to continue the search")

    def _check_running(self, trial):
        if not isinstance(trial, Trial) or trial.number >= len(self.trials) or \
                self.trials[trial.number] is not trial:
            raise ValueError(f"{trial!r} is not a trial of this study")
        if trial.status != RUNNING:
            raise ValueError(f"trial {trial.number} is already {trial.status.lower()}")

    def _check_failures(self):
        limit = self.max_consecutive_failures
        finished = [t for t in self.trials if t.status not in (RUNNING, REFUSED)]
        if limit is None or len(finished) < limit:
            return
        recent = sorted(finished, key=lambda t: t.finished)[-limit:]
        if all(t.status == FAILED for t in recent):
            last = recent[-1]
            where = f"; every trial is in {self.journal.path}" if self.journal else ""
            raise TooManyFailures(f"search stopped: the last {limit} trials failed; last "
                                  f"failure (trial {last.number}): {last.message}{where}")

    def failure_reasons(self):
        """``"; 3 of 4 trials failed with: <reason> (trials 0, 1, 3)"``, the most frequent
        reason first (its first line), or ``""`` when no trial failed."""
        failed = [t for t in self.trials if t.status == FAILED]
        if not failed:
            return ""
        by_reason = collections.defaultdict(list)
        for trial in failed:
            by_reason[(trial.message or "no reason recorded").splitlines()[0]].append(trial)
        ranked = sorted(by_reason.items(), key=lambda item: -len(item[1]))
        reason, trials = ranked[0]
        numbers = ", ".join(str(t.number) for t in trials[:5]) + (", ..." if len(trials) > 5
                                                                  else "")
        text = (f"; {len(trials)} of {len(self.trials)} trials failed with: {reason} "
                f"(trials {numbers})")
        if len(ranked) > 1:
            text += f"; {len(failed) - len(trials)} more failed for other reasons"
        return text

    # -- the loop -----------------------------------------------------------------------
    def optimize(self, fn, max_trials=None, time_limit=None, catch=(), stop=None, n_jobs=1,
                 slot=None):
        """Evaluate ``fn(trial) -> value or metrics dict`` until ``max_trials`` trials are
        finished in the study (resumed ones count), ``time_limit`` seconds pass, ``stop()``
        returns true (asked before each trial), or the strategy is exhausted.

        Exceptions of the classes in ``catch`` fail the trial and the search goes on; any
        other exception fails the trial (recorded with its traceback) and is raised, so a
        bug in ``fn`` shows at once (as in Optuna).

        ``n_jobs`` > 1 evaluates that many trials at once, each in its own thread (as
        Optuna's ``n_jobs``: for ``fn`` that waits on other processes); a trial is asked only
        when one of them is free, so strategies see every result told so far. ``slot``: a
        context manager factory, ``slot(done) -> truthy while held``, that a thread enters
        before it asks (e.g. to wait for a free worker; it yields a false value once
        ``done()``).
        """
        run = _Run(self, fn, max_trials, time_limit, catch, stop, slot)
        if n_jobs == 1:
            run.loop()
        else:
            threads = [threading.Thread(target=run.loop, name=f"autoarch-trials-{i}",
                                        daemon=True) for i in range(n_jobs)]
            for thread in threads:
                thread.start()
            try:
                for thread in threads:
                    while thread.is_alive():
                        thread.join(0.2)
            except BaseException:  # Ctrl-C: running trials stay in the journal for resume
                run.aborted = True
                raise
            if run.error is not None:
                raise run.error
        return self

    def close(self):
        """Let go of the run directory (its lock); the study stays readable, not writable."""
        if self._dir_lock is not None:
            self._dir_lock.release()
            self._dir_lock = None
        self.read_only = True

    @_locked
    def note(self, event, **fields):
        """Record a note in the journal (for example how the budget was spent); a loaded
        study lists them in ``notes``."""
        self._check_writable()
        record = {"event": event, **fields}
        if self.journal is not None:
            record = self.journal.append(event, **fields)
        self.notes.append(record)
        return record

    # -- results ------------------------------------------------------------------------
    @property
    def n_finished(self):
        """Trials run to an end, completed or failed (refused ones were never run)."""
        return sum(t.status in (COMPLETED, FAILED) for t in self.trials)

    @property
    def seconds_spent(self):
        """Seconds the finished trials and supernet epochs took (what a resumed search has
        already used)."""
        phase = sum(n.get("seconds", 0.0) for n in self.notes
                    if n.get("event") == "supernet" and n.get("stage") != "done")
        return phase + sum(t.duration or 0.0 for t in self.trials if t.status != RUNNING)

    def vector(self, trial):
        """``trial``'s value in every objective (NaN where it did not report one)."""
        return tuple(trial.value if i == 0 else float(trial.metrics.get(o.name, math.nan))
                     for i, o in enumerate(self.objectives))

    def violation(self, trial):
        """How much ``trial`` breaks the constraints (0: not at all; a metric it did not
        report breaks nothing)."""
        values = {name: trial.metrics.get(name) for name in self._constraint_directions}
        present = {i: self._constraint_directions[name] for i, name in enumerate(values)
                   if _is_number(values[name])}
        return violation([float(v) if _is_number(v) else 0.0 for v in values.values()],
                         present)

    #: the first objective's value that a trivial model reaches (for accuracy, the majority
    #: class's rate; ``ModelSearch`` sets it): trials no better are left out of
    #: ``best_trial`` and the front while any trial is better, so that a constraint a useless
    #: model meets trivially (a near-constant classifier is fair by demographic parity) never
    #: makes it the winner. Set, it is noted in the journal, so a resumed or loaded study
    #: keeps it.
    _useful_from = None

    @property
    def useful_from(self):
        return self._useful_from

    @useful_from.setter
    def useful_from(self, value):
        value = None if value is None else float(value)
        if value != self._useful_from:
            self._useful_from = value
            if not self.read_only:
                self.note("useful_from", value=value)

    def _useful(self, done):
        if self.useful_from is None:
            return done
        sign = 1 if self.objective.direction == "max" else -1
        better = [t for t in done if sign * t.value > sign * self.useful_from]
        return better or done

    @property
    def best_trial(self):
        """The trial best in the (first) objective among those that break no constraint;
        when every trial breaks one, the one that breaks them least (Deb's rule, as the
        front has it); trials no better than ``useful_from`` only when no trial is."""
        done = self._useful([t for t in self.trials if t.is_finite()])
        if not done:
            return None
        sign = 1 if self.objective.direction == "max" else -1
        return max(done, key=lambda t: (-self.violation(t), sign * t.value, -t.number))

    def pareto_front(self):
        """The completed trials no other beats in every objective, constraints first (Deb's
        constrained domination), best first in the first objective; with one objective and
        no constraints, the best trial. Trials no better than ``useful_from`` are left out
        while any trial is better."""
        done = self._useful([t for t in self.trials if t.is_finite()
                             and all(math.isfinite(v) for v in self.vector(t))])
        if not done:
            return []
        directions = [o.direction for o in self.objectives]
        front = [done[i] for i in non_dominated_sort([self.vector(t) for t in done],
                                                     directions,
                                                     [self.violation(t) for t in done])[0]]
        sign = 1 if self.objective.direction == "max" else -1
        return sorted(front, key=lambda t: (-sign * t.value, t.number))

    @property
    def best_value(self):
        best = self.best_trial
        return None if best is None else best.value

    @property
    def value_to_beat(self):
        """The first objective's value a new trial must be able to beat to matter (what
        learning-curve stopping compares with): the best trial's, with one objective and a
        best trial that breaks no constraint; else None: with several objectives a trial
        behind in the first may join the front, and while no trial meets the constraints
        one behind may be the first that does (a fair model gives up some accuracy)."""
        best = self.best_trial
        if len(self.objectives) > 1 or best is None or self.violation(best) > 0:
            return None
        return best.value

    @property
    def best_params(self):
        best = self.best_trial
        return None if best is None else best.hyperparameters


class _Run:
    """One ``Study.optimize`` call: its budget, and what its threads share."""

    def __init__(self, study, fn, max_trials, time_limit, catch, stop, slot):
        self.study, self.fn, self.max_trials, self.catch = study, fn, max_trials, tuple(catch)
        self.deadline = None if time_limit is None else time.monotonic() + time_limit
        self.stop, self.slot = stop, slot
        self.running = self.refusals = 0
        self.exhausted = self.aborted = False
        self.error = None

    def done(self):
        """Whether no further trial may start."""
        if self.exhausted or self.aborted or self.error is not None:
            return True
        if self.max_trials is not None and \
                self.study.n_finished + self.running >= self.max_trials:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        return self.stop is not None and self.stop()

    def loop(self):
        try:
            while not self.done():
                with self.slot(self.done) if self.slot else contextlib.nullcontext(True) as held:
                    if not held or not self._one():
                        return
        except BaseException as err:
            if self.error is None:
                self.error = err
            if threading.current_thread() is threading.main_thread():
                raise

    def _one(self):
        """Ask, evaluate and tell one trial; False when there was none to ask."""
        study = self.study
        with study._lock:
            if self.done():
                return False
            try:
                trial = study.ask()
            except SearchFinished:
                self.exhausted = True
                return False
            except TrialsPending:
                if not self.running:
                    raise
                pending = True
            else:
                pending = False
                self.running += 1
        if pending:  # another thread's trial ends the rung first
            time.sleep(0.2)
            return True
        try:
            result = self.fn(trial)
        except TrialRefused as err:
            self._settle(trial, refused=str(err))
            with study._lock:
                self.refusals += 1
                if self.refusals >= MAX_CONSECUTIVE_REFUSALS:
                    raise TooManyFailures(
                        f"search stopped: the constraints refused the last {self.refusals} "
                        f"candidates (last: {err}); loosen them or narrow the space") from None
            return True
        except Exception as err:
            if self.aborted:  # interrupted: the trial stays running, for a resume
                self._settle(trial)
                return False
            failure = dict(failed=f"{type(err).__name__}: {err}", traceback=tb.format_exc())
            if not isinstance(err, self.catch):
                with contextlib.suppress(TooManyFailures):
                    self._settle(trial, **failure)
                raise
            self._settle(trial, **failure)
            return True
        except BaseException:
            self._settle(trial)
            raise
        self._settle(trial, result)
        with study._lock:
            self.refusals = 0
        return True

    def _settle(self, trial, *args, **kwargs):
        """Tell ``trial``'s outcome (none: leave it running) and free its place."""
        with self.study._lock:
            self.running -= 1
            if args or kwargs:
                self.study.tell(trial, *args, **kwargs)
