"""A search as one self-contained HTML page: what was searched and how (spec, strategy, seed,
library versions), how the search went (best so far against trials and against time, as
inline SVG), every trial (a sortable table; failed and stopped trials with their reasons) and
why the winner won (its margin over the runner-up, the ensemble's members, its
architecture). No file beside it, no network, no plotting library: it opens anywhere."""

import html
import importlib.metadata
import json
import math
import os
import platform
import time

from autoarch.files import atomic_path

PACKAGES = ("autoarch", "tensorflow", "keras", "keras-tuner", "scikit-learn", "numpy")
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eee;
text-align:left;vertical-align:top}th{cursor:pointer;background:#f6f6f6}
.FAILED{color:#b00}.best{background:#eef8ee}.reason{color:#666;font-size:12px}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}
.charts{display:flex;gap:2em;flex-wrap:wrap}
"""
# sorts the trials table by the clicked column (numbers as numbers), then back on a second click
_SORT = """
document.querySelectorAll("table.sortable th").forEach((th, col) => th.onclick = () => {
  const body = th.closest("table").tBodies[0], rows = [...body.rows];
  const key = r => { const t = r.cells[col].dataset.v ?? r.cells[col].textContent;
                     const n = parseFloat(t); return isNaN(n) ? t : n; };
  const dir = th.dataset.dir = th.dataset.dir === "1" ? "-1" : "1";
  rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * dir);
  rows.forEach(r => body.appendChild(r));
});
"""


#: the classical members' names (``autoarch.engine.search``'s keys)
CLASSICAL_NAMES = {"trees": "boosted trees", "table_linear": "linear model",
                   "linear": "tf-idf linear SVM", "nb_linear": "tf-idf NBSVM",
                   "neighbours": "nearest neighbours"}


def member_name(key):
    """An ensemble member's name: a trial's number, or a classical member's."""
    return f"trial {key}" if isinstance(key, int) else CLASSICAL_NAMES.get(key, str(key))


def members_line(members):
    """An ensemble's members and weights, in a line; those left out say why."""
    return ", ".join(f"{member_name(m['trial'])} "
                     f"({m.get('left_out') or format(m['weight'], '.2f')})" for m in members)


def crossval_line(record):
    """A cross-validated selection (:mod:`autoarch.engine.crossval`) in a line: each
    candidate's out-of-fold score, best first, and the weights chosen."""
    def name(key):  # the journal's keys are strings: "12" is trial 12
        return member_name(int(key) if key.isdigit() else key)

    scores = sorted(record["scores"].items(), key=lambda kv: -kv[1][-1])  # by log loss
    return (f"{record['folds']} folds of {record['rows']} rows in {record['seconds']} s; "
            "out-of-fold accuracy: " + ", ".join(f"{name(k)} {v[0]:.4f}" for k, v in scores)
            + "; chosen: " + ", ".join(f"{name(k)} ({w:.2f})"
                                       for k, w in record["weights"].items()))


def _versions():
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def _best_so_far(points, maximize):
    best, curve = None, []
    for x, value in points:
        if value is not None and math.isfinite(value):
            best = value if best is None else (max if maximize else min)(best, value)
        curve.append((x, best))
    return curve


class _Plot:
    """An SVG plot area over the ranges of ``xs`` and ``ys``: ``sx``/``sy`` place a value,
    ``svg(body, ...)`` frames what was drawn with ticks and axis labels."""

    pad, bottom = 24, 36

    def __init__(self, xs, ys, width, height, left):
        self.width, self.height, self.left = width, height, left
        self.x0, self.y0 = min(xs), min(ys)
        self.x1 = max(xs) if max(xs) > self.x0 else self.x0 + 1
        self.y1 = max(ys) if max(ys) > self.y0 else self.y0 + 1

    def sx(self, x):
        return self.left + (x - self.x0) / (self.x1 - self.x0) * (
            self.width - self.left - self.pad)

    def sy(self, y):
        return self.height - self.bottom - (y - self.y0) / (self.y1 - self.y0) * (
            self.height - self.bottom - self.pad)

    def svg(self, body, x_label, y_label):
        width, height, left, bottom, pad = (self.width, self.height, self.left, self.bottom,
                                            self.pad)
        ticks = "".join(
            f'<text x="{left - 4}" y="{self.sy(v) + 4:.1f}" text-anchor="end" '
            f'font-size="11">{v:.4g}</text>'
            for v in (self.y0, (self.y0 + self.y1) / 2, self.y1))
        ticks += "".join(
            f'<text x="{self.sx(v):.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="11">{v:.4g}</text>'
            for v in (self.x0, (self.x0 + self.x1) / 2, self.x1))
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                f'role="img" aria-label="{html.escape(y_label)} against '
                f'{html.escape(x_label)}"><rect x="{left}" y="{pad}" '
                f'width="{width - left - pad}" height="{height - bottom - pad}" '
                f'fill="#fcfcfc" stroke="#ccc"/>{body}{ticks}'
                f'<text x="{(width + left) / 2}" y="{height - 4}" text-anchor="middle" '
                f'font-size="12">{html.escape(x_label)}</text><text x="12" y="{height / 2}" '
                f'font-size="12" transform="rotate(-90 12 {height / 2})" '
                f'text-anchor="middle">{html.escape(y_label)}</text></svg>')


def svg_chart(points, maximize, x_label, y_label, width=480, height=260):
    """Each trial's value as a dot and the best so far as a step line; ``points`` are
    ``(x, value or None)``. Plain SVG, so the page needs nothing beside it."""
    done = [(x, v) for x, v in points if v is not None and math.isfinite(v)]
    if not done:
        return "<p>No trial has a value yet.</p>"
    plot = _Plot([x for x, _ in points], [v for _, v in done], width, height, left=56)
    steps, previous = [], None
    for x, best in _best_so_far(points, maximize):
        if best is None:
            continue
        if previous is not None:
            steps.append(f"{plot.sx(x):.1f},{plot.sy(previous):.1f}")
        steps.append(f"{plot.sx(x):.1f},{plot.sy(best):.1f}")
        previous = best
    dots = "".join(f'<circle cx="{plot.sx(x):.1f}" cy="{plot.sy(v):.1f}" r="3" fill="#88a"/>'
                   for x, v in done)
    return plot.svg(f'{dots}<polyline points="{" ".join(steps)}" fill="none" stroke="#2a7" '
                    'stroke-width="2"/>', x_label, y_label)


def _table(rows, header=None, css=""):
    head = "" if header is None else \
        "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>"
    return f'<table class="{css}">{head}<tbody>{"".join(rows)}</tbody></table>'


def _cell(text, sort_value=None):
    value = "" if sort_value is None else f' data-v="{html.escape(str(sort_value))}"'
    return f"<td{value}>{text}</td>"


def _architecture(model):
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=100)
    return "<pre>" + html.escape("\n".join(lines)) + "</pre>"


def _supernet_phase(notes):
    """A one-shot search's supernet phase: each epoch's metrics and, for DARTS/GDAS, how
    each choice's strongest operation and its weight evolved; then the candidates."""
    epochs = [n for n in notes if "epoch" in n]
    if not epochs:
        return []
    choices = list(epochs[-1].get("weights") or {})
    metrics = sorted({k for n in epochs for k in n.get("metrics", {})})
    header = ["stage", "epoch", *metrics, "seconds", *choices]
    rows = []
    for n in epochs:
        cells = [_cell(html.escape(n["stage"])), _cell(n["epoch"], n["epoch"])]
        cells += [_cell(f"{n['metrics'][m]:.4f}" if m in n.get("metrics", {}) else "")
                  for m in metrics]
        cells.append(_cell(f"{n.get('seconds', 0):.1f}"))
        for name in choices:
            weights = (n.get("weights") or {}).get(name, {})
            top = max(weights, key=weights.get) if weights else ""
            cells.append(_cell(f"{html.escape(top)} ({weights[top]:.2f})" if top else ""))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    parts = ["<h2>Supernet phase</h2><p>Each epoch of the weight-sharing supernet; for "
             "DARTS/GDAS, each choice's strongest operation and its weight.</p>"
             + _table(rows, header, css="sortable")]
    parts += _shrinking([n for n in notes if n.get("stage") == "shrink"])
    parts += _selection([n for n in notes if n.get("stage") == "selection"])
    done = [n for n in notes if n.get("stage") == "done"]
    if done:
        found = done[-1].get("top") or [{"path": done[-1].get("derived"), "score": None}]
        items = "".join(
            "<li>" + html.escape(", ".join(f"{k}={v}" for k, v in (c["path"] or {}).items()))
            + ("" if c.get("score") is None else f" (inherited-weight score {c['score']:.4f})")
            + "</li>" for c in found)
        order = ": each choice's best option by the last round of shrinking's means, then " \
            "the best paths on the supernet" if any(
                n.get("stage") == "shrunk_path" for n in notes) else ", best first"
        parts.append(f"<p>Candidates trained from scratch{order}:</p><ol>{items}</ol>")
    return parts


def _shrinking(notes):
    """A one-shot search's rounds of shrinking: per choice, the options kept (best first)
    and those dropped, each with the mean inherited-weight score of its scored paths."""
    rows = []
    for n in notes:
        for choice, means in (n.get("means") or {}).items():
            kept = n["kept"][choice]

            def listed(options):
                return html.escape(", ".join(f"{o} ({means[o]:.4f})" for o in options))

            dropped = [o for o in means if o not in kept]
            rows.append("<tr>" + _cell(n["round"], n["round"]) + _cell(html.escape(choice))
                        + _cell(listed(kept)) + _cell(listed(dropped)) + "</tr>")
    if not rows:
        return []
    return ["<p>Shrinking: each round scored paths drawn evenly over each choice's options "
            "and kept the better half of them by their paths' mean score (in brackets).</p>"
            + _table(rows, ["round", "choice", "kept", "dropped"])]


def _selection(notes):
    """A DARTS/GDAS search's perturbation-based selection: per choice, its options by how
    much the supernet's validation objective worsened without each, strongest first."""
    importance = (notes[-1].get("importance") or {}) if notes else {}
    rows = ["<tr>" + _cell(html.escape(choice)) + _cell(html.escape(", ".join(
        f"{o} ({v:+.4f})" for o, v in sorted(values.items(), key=lambda item: -item[1]))))
        + "</tr>" for choice, values in importance.items()]
    if not rows:
        return []
    return ["<p>Selection: each operation removed from the trained supernet in turn, and how "
            "much its validation objective worsened (in brackets); the strongest derive.</p>"
            + _table(rows, ["choice", "options, strongest first"])]


def _screening(notes):
    """A ``zero_cost`` search's screening: how many candidates were scored, and the ones
    trained, best first, with their proxy scores."""
    if not notes:
        return []
    note = notes[-1]
    names = list(note.get("proxies") or [])
    rows = []
    for i, c in enumerate(note.get("top") or []):
        params = ", ".join(f"{k}={v}" for k, v in c["params"].items())
        cells = [_cell(i + 1, i + 1), _cell(f"{c['rank_score']:.4f}", c["rank_score"])]
        cells += [_cell(f"{c['scores'].get(n, float('nan')):.4g}") for n in names]
        rows.append("<tr>" + "".join(cells) + _cell(html.escape(params)) + "</tr>")
    return [f"<h2>Zero-cost screening</h2><p>{note['screened']} candidates scored untrained "
            f"in {note['seconds']:.0f} s by {html.escape(note['proxy'])}; the trained ones, "
            "best-ranked first:</p>"
            + _table(rows, ["#", "rank score", *names, "parameters"], css="sortable")]


def _columns(notes, best):
    """A table's columns ranked by importance (what ``TableFeatures`` keeps from), and the
    ones the winner kept."""
    parts = []
    for note in notes:
        ranking = note.get("column_importance") or []
        if not ranking:
            continue
        keep = ((best or {}).get("params") or {}).get(f"{note['block']}/keep", "all")
        rows = ["<tr>" + _cell(i + 1, i + 1) + _cell(html.escape(str(name)))
                + _cell(f"{mean:.4f} ± {std:.4f}", mean) + _cell("yes" if informative else "")
                + _cell("kept" if informative or keep != "informative" else "") + "</tr>"
                for i, (name, mean, std, informative) in enumerate(ranking)]
        parts.append("<h2>Columns by importance</h2><p>Permutation importance of a quick "
                     "gradient boosting model on the training rows: the drop of its score when "
                     "the column is shuffled (mean ± spread over shuffles); informative: a mean "
                     f"above twice the spread. The winner kept {html.escape(str(keep))} "
                     "columns.</p>"
                     + _table(rows, ["#", "column", "importance", "informative", "winner"],
                              css="sortable"))
    return parts


def svg_scatter(points, marked, x_label, y_label, width=480, height=300, join=True):
    """Every ``(x, y)`` point as a grey dot and the ``marked`` ones (the Pareto front) as
    green dots, joined in order of x with ``join``. Plain SVG."""
    points = [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]
    if not points:
        return ""
    plot = _Plot([x for x, _ in points], [y for _, y in points], width, height, left=64)
    dots = "".join(f'<circle cx="{plot.sx(x):.1f}" cy="{plot.sy(y):.1f}" r="3" fill="#bbb"/>'
                   for x, y in points)
    front = sorted((x, y) for x, y in marked if math.isfinite(x) and math.isfinite(y))
    line = " ".join(f"{plot.sx(x):.1f},{plot.sy(y):.1f}" for x, y in front) if join else ""
    dots += "".join(f'<circle cx="{plot.sx(x):.1f}" cy="{plot.sy(y):.1f}" r="4" fill="#2a7"/>'
                    for x, y in front)
    return plot.svg(f'<polyline points="{line}" fill="none" stroke="#2a7"/>{dots}', x_label,
                    y_label)


def _pareto(notes, trials):
    """A search with several objectives or constraints: its front as a table, and every
    trial against the front in the first two objectives."""
    if not notes:
        return []
    note = notes[-1]
    names = [name for name, _ in note["objectives"]]
    rows = []
    for point in note["points"]:
        cells = [_cell(point["trial"], point["trial"])]
        cells += [_cell(f"{point.get(n, float('nan')):.4g}", point.get(n)) for n in names]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    bounds = ", ".join(f"{k} {'≤' if _direction(note, k) == 'min' else '≥'} {v:g}"
                       for k, v in (note.get("constraints") or {}).items())
    text = (f"<h2>Pareto front</h2><p>{len(note['points'])} trials no other beats in every "
            f"objective ({', '.join(f'{n} ({d}imized)' for n, d in note['objectives'])})"
            + (f", among those within the constraints ({html.escape(bounds)})" if bounds
               else "") + ".</p>" + _table(rows, ["trial", *names], css="sortable"))
    if len(names) >= 2:
        everything, front = _front_points(note, trials)
        text += svg_scatter(everything, front, names[1], names[0], join=len(names) == 2)
    return [text]


def _front_points(note, trials):
    """``(every completed trial, the front)`` as ``(second objective, first objective)``
    points, the front in the order of the second."""
    first, second = [name for name, _ in note["objectives"][:2]]
    values = {t["number"]: ((t.get("metrics") or {}).get(second), t["value"])
              for t in trials if t["status"] == "COMPLETED" and t["value"] is not None}
    values = {n: v for n, v in values.items() if v[0] is not None}
    front = sorted(values[p["trial"]] for p in note["points"] if p["trial"] in values)
    return list(values.values()), front


def _direction(note, name):
    directions = dict(note["objectives"])
    if name in directions:
        return directions[name]
    from autoarch.objectives import infer_direction

    return infer_direction(name)


def render(trials, settings, notes=(), model=None, spec_text=None, title="autoarch search"):
    """The page, as a string. ``trials``: ``Trial.as_dict()`` records; ``settings``: the
    journal's header (strategy, options, seed, objective, space); ``notes``: its notes
    (the summary, a supernet's epochs); ``model``: the final Keras model, if there is one."""
    name, direction = settings["objective"]
    maximize = direction == "max"
    finished = [t for t in trials if t["status"] != "RUNNING"]
    scored = [t for t in trials if t["status"] == "COMPLETED" and t["value"] is not None]
    refused = [t for t in trials if t["status"] == "REFUSED"]
    ranked = sorted(scored, key=lambda t: -t["value"] if maximize else t["value"])
    fronts = [n for n in notes if n.get("event") == "pareto_front"]
    if fronts:  # the winner is the front's best in the first objective, within constraints
        on_front = [p["trial"] for p in fronts[-1]["points"]]
        ranked = [t for t in ranked if t["number"] in on_front]
    best = ranked[0] if ranked else None
    parts = [f"<h1>{html.escape(title)}</h1>"]
    rows = [f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in (
        ("objective", f"{name} ({'maximized' if maximize else 'minimized'})"),
        ("strategy", settings.get("strategy")),
        ("strategy options", json.dumps(settings.get("strategy_options") or {})),
        ("seed", settings.get("seed")),
        ("started", time.strftime("%Y-%m-%d %H:%M:%S",
                                  time.localtime(settings.get("created") or 0))),
        ("trials", f"{len(finished) - len(refused)} finished ({len(scored)} with a value, "
                   f"{len(finished) - len(scored) - len(refused)} failed), "
                   f"{len(trials) - len(finished)} in flight"
                   + (f", {len(refused)} refused before training" if refused else "")),
        ("versions", ", ".join(f"{k} {v}" for k, v in _versions().items())))]
    parts.append(_table(rows, css="settings"))
    summary = [n for n in notes if n.get("event") == "summary"]
    if summary:
        rows = []
        for key, value in summary[-1].items():
            if key == "event" or value is None:
                continue
            if key == "ensemble":  # members and weights, and its validation score
                value = members_line(value["members"])
            elif key == "cross_validation":
                value = crossval_line(value)
            rows.append(f"<tr><th>{html.escape(key.replace('_', ' '))}</th>"
                        f"<td>{html.escape(str(value))}</td></tr>")
        parts.append("<h2>How the budget was spent</h2>" + _table(rows, css="settings"))
    if best is not None:
        why = f"Trial {best['number']} reached {name} = {best['value']:.4f}"
        if len(ranked) > 1:
            runner = ranked[1]
            why += (f", {abs(best['value'] - runner['value']):.4f} "
                    f"{'above' if maximize else 'below'} the runner-up, trial "
                    f"{runner['number']} ({runner['value']:.4f})")
        why += ", with " + ", ".join(f"{k}={v}" for k, v in best["params"].items()
                                     if not k.startswith("tuner/")) + "."
        useful = [n["value"] for n in notes if n.get("event") == "useful_from"]
        # the bar holds only while some trial clears it (``Study.useful_from``)
        if useful and useful[-1] is not None and \
                (best["value"] - useful[-1]) * (1 if maximize else -1) > 0:
            why += (f" To be eligible a trial had to beat {name} = {useful[-1]:.4f}, what "
                    "predicting the majority class reaches.")
        parts.append(f"<h2>Why the winner won</h2><p>{html.escape(why)}</p>")
    for note in (n for n in notes if n.get("event") == "no_trial_completed"):
        why = (f"No trial completed ({note['reason'] or 'none ran'}): the final model is made "
               f"of the classical members alone ({note['members']}).")
        parts.append(f"<h2>Why the winner won</h2><p>{html.escape(why)}</p>")
    parts += _supernet_phase([n for n in notes if n.get("event") == "supernet"])
    parts += _screening([n for n in notes if n.get("event") == "zero_cost"])
    parts += _columns([n for n in notes if n.get("event") == "adapted"], best)
    parts += _pareto(fronts, trials)
    start = min((t["started"] for t in trials if t.get("started")), default=0.0)
    by_trial = [(t["number"], t["value"]) for t in sorted(finished, key=lambda t: t["number"])]
    by_time = [((t["finished"] or start) - start, t["value"])
               for t in sorted(finished, key=lambda t: t["finished"] or 0)]
    parts.append('<h2>Best so far</h2><div class="charts">'
                 + svg_chart(by_trial, maximize, "trial", name)
                 + svg_chart(by_time, maximize, "seconds since the first trial", name)
                 + "</div>")
    header = ["trial", "status", name, "seconds", "epochs", "parameters / reason"]
    rows = []
    for t in sorted(trials, key=lambda t: t["number"]):
        value = "" if t["value"] is None else f"{t['value']:.4f}"
        seconds = "" if t.get("duration") is None else f"{t['duration']:.1f}"
        params = ", ".join(f"{k}={v}" for k, v in t["params"].items()
                           if not k.startswith("tuner/"))
        reason = t.get("message") or (t.get("info") or {}).get("stopped") or ""
        extra = f'<div class="reason">{html.escape(reason.splitlines()[0])}</div>' \
            if reason else ""
        css = "best" if best is not None and t["number"] == best["number"] else t["status"]
        rows.append(f'<tr class="{css}">' + _cell(t["number"], t["number"])
                    + _cell(t["status"]) + _cell(value, t["value"] if value else "")
                    + _cell(seconds) + _cell((t.get("metrics") or {}).get("epochs_run", ""))
                    + _cell(html.escape(params) + extra) + "</tr>")
    parts.append("<h2>Trials</h2><p>Click a column to sort.</p>"
                 + _table(rows, header, css="sortable trials"))
    if model is not None:
        parts.append("<h2>The final model</h2>" + _architecture(model))
    if spec_text:
        parts.append("<h2>The spec</h2><pre>" + html.escape(spec_text) + "</pre>")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
            + "\n".join(parts) + f"<script>{_SORT}</script></body></html>")


def write_report(path, trials, settings, **page):
    """Write the page to ``path`` (atomically); returns the path. A search with a Pareto
    front also gets its plot as a PNG beside it (``<page>.pareto.png``) where matplotlib is
    installed (the page itself needs nothing)."""
    with atomic_path(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(render(trials, settings, **page))
    fronts = [n for n in page.get("notes") or () if n.get("event") == "pareto_front"]
    if fronts and len(fronts[-1]["objectives"]) >= 2:
        pareto_png(os.path.splitext(os.fspath(path))[0] + ".pareto.png", fronts[-1], trials)
    return os.fspath(path)


def pareto_png(path, note, trials):
    """The front in the first two objectives as a PNG; None where matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
    except ImportError:
        return None
    first, second = [name for name, _ in note["objectives"][:2]]
    points, front = _front_points(note, trials)
    figure = Figure(figsize=(5, 3.5), dpi=120)
    axes = figure.add_subplot()
    axes.scatter([x for x, _ in points], [y for _, y in points], s=12, c="#bbb",
                 label="trials")
    # joined where the front is the staircase of two objectives, not a projection of more
    axes.plot([x for x, _ in front], [y for _, y in front],
              "o-" if len(note["objectives"]) == 2 else "o", c="#2a7", ms=5,
              label="Pareto front")
    axes.set_xlabel(second)
    axes.set_ylabel(first)
    axes.legend()
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    return path
