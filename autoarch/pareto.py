"""Pareto logic for searches with several objectives: domination, constraints, non-dominated
sorting and crowding (NSGA-II; Deb et al. 2002) and the hypervolume of a front.

A point is a sequence of objective values; ``directions`` says per objective whether larger
(``"max"``) or smaller (``"min"``) is better. Constraints are ``{index: (bound, direction)}``
read as "at most ``bound``" for ``"min"`` objectives and "at least ``bound``" for ``"max"``
ones; a point that breaks one is dominated by every point that breaks none (Deb's
constrained domination), and among breaking points the smaller total relative violation
wins.
"""

import numpy as np


def _oriented(points, directions):
    """Points as floats turned so that larger is better in every objective."""
    signs = np.array([1.0 if d == "max" else -1.0 for d in directions])
    return np.asarray(points, dtype=float).reshape(-1, len(signs)) * signs


def dominates(a, b, directions):
    """Whether ``a`` is at least as good as ``b`` in every objective and better in one."""
    a, b = _oriented([a, b], directions)
    return bool(np.all(a >= b) and np.any(a > b))


def violation(point, constraints):
    """Total relative amount by which ``point`` breaks ``constraints`` (0: feasible)."""
    total = 0.0
    for index, (bound, direction) in constraints.items():
        excess = point[index] - bound if direction == "min" else bound - point[index]
        if excess > 0:
            total += excess / max(abs(bound), 1e-12)
    return total


def non_dominated_sort(points, directions, violations=None):
    """The fronts: lists of indices, the first holding the points no other dominates.
    ``violations`` (one per point) applies constrained domination."""
    oriented = _oriented(points, directions)
    n = len(oriented)
    violations = np.zeros(n) if violations is None else np.asarray(violations, dtype=float)

    def beats(i, j):
        if violations[i] != violations[j]:
            return violations[i] < violations[j]
        return bool(np.all(oriented[i] >= oriented[j]) and np.any(oriented[i] > oriented[j]))

    beaten_by = [0] * n
    beats_list = [[] for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if beats(i, j):
                beats_list[i].append(j)
                beaten_by[j] += 1
            elif beats(j, i):
                beats_list[j].append(i)
                beaten_by[i] += 1
    fronts, current = [], [i for i in range(n) if beaten_by[i] == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in beats_list[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def crowding_distance(points):
    """Per point of one front, the sum over objectives of the normalised gap between its
    neighbours (infinite at the extremes): larger means a less crowded region."""
    points = np.asarray(points, dtype=float)
    n = len(points)
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for column in points.T:
        order = np.argsort(column, kind="stable")
        span = column[order[-1]] - column[order[0]]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (column[order[2:]] - column[order[:-2]]) / span
    return distance


def pareto_front(points, directions, violations=None):
    """Indices of the points on the first front (feasible ones first, as constrained
    domination has it)."""
    if len(points) == 0:
        return []
    return non_dominated_sort(points, directions, violations)[0]


def hypervolume(points, reference, directions):
    """The volume dominated by ``points`` and bounded by ``reference`` (a point every useful
    point beats in every objective); exact, by slicing along the first objective."""
    oriented = _oriented(points, directions)
    ref = _oriented([reference], directions)[0]
    inside = oriented[np.all(oriented > ref, axis=1)] - ref  # now maximise from 0
    return _volume(inside)


def _volume(points):
    if len(points) == 0:
        return 0.0
    if points.shape[1] == 1:
        return float(points.max())
    order = np.argsort(-points[:, 0], kind="stable")
    points = points[order]
    total = 0.0
    for k in range(len(points)):  # slab between this point's first value and the next's
        low = points[k + 1, 0] if k + 1 < len(points) else 0.0
        if points[k, 0] > low:
            total += (points[k, 0] - low) * _volume(points[:k + 1, 1:])
    return total
