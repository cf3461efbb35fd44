"""Pareto logic on hand-made points: domination, ties, constraints, crowding, hypervolume."""

import math

import numpy as np
import pytest

from autoarch.pareto import (crowding_distance, dominates, hypervolume, non_dominated_sort,
                             pareto_front, violation)

ACC_SIZE = ("max", "min")  # accuracy up, parameters down


def test_domination_needs_one_strict_gain_and_no_loss():
    assert dominates((0.9, 100), (0.8, 200), ACC_SIZE)
    assert dominates((0.9, 100), (0.9, 200), ACC_SIZE)
    assert not dominates((0.9, 100), (0.9, 100), ACC_SIZE)  # a tie dominates nothing
    assert not dominates((0.9, 300), (0.8, 200), ACC_SIZE)  # a trade-off
    assert dominates((0.8, 200), (0.9, 300), ("min", "min"))


def test_non_dominated_sort_layers_the_points():
    points = [(0.9, 300), (0.8, 100), (0.85, 200), (0.7, 300), (0.8, 150), (0.9, 300)]
    fronts = non_dominated_sort(points, ACC_SIZE)
    # 0 and 5 tie (both stay on the first front); 4 is beaten by 1; 3 by everyone but 4
    assert fronts == [[0, 1, 2, 5], [4], [3]]
    assert pareto_front(points, ACC_SIZE) == [0, 1, 2, 5]
    assert pareto_front([], ACC_SIZE) == []


def test_constrained_domination_puts_feasible_points_first():
    points = [(0.95, 900), (0.8, 100), (0.85, 400)]
    constraints = {1: (500, "min")}
    violations = [violation(p, constraints) for p in points]
    assert violations == [pytest.approx(0.8), 0.0, 0.0]
    assert non_dominated_sort(points, ACC_SIZE, violations) == [[1, 2], [0]]
    # a lower bound on a maximised objective
    assert violation((0.6, 10), {0: (0.8, "max")}) == pytest.approx(0.25)
    # among infeasible points the smaller violation wins
    assert non_dominated_sort([(1.0, 2000), (0.1, 600)], ACC_SIZE,
                              [violation(p, constraints) for p in ((1.0, 2000), (0.1, 600))]
                              ) == [[1], [0]]


def test_crowding_distance_by_hand():
    distance = crowding_distance([(0, 0), (1, 1), (3, 3), (4, 0.5)])
    # sorted on the first objective: 0, 1, 2, 3 -> point 1: (3-0)/4; point 2: (4-1)/4
    # on the second: 0 (0), 3 (0.5), 1 (1), 2 (3) -> point 3: (1-0)/3, point 1: (3-0.5)/3
    assert math.isinf(distance[0]) and math.isinf(distance[2])
    assert distance[1] == pytest.approx(3 / 4 + 2.5 / 3)
    assert math.isinf(distance[3])  # an extreme in the first objective
    assert np.all(np.isinf(crowding_distance([(0, 1), (1, 0)])))


def test_hypervolume_against_closed_forms():
    assert hypervolume([(1, 3), (2, 2), (3, 1)], (0, 0), ("max", "max")) == pytest.approx(6)
    # a dominated point adds nothing; one beyond the reference counts for nothing
    assert hypervolume([(1, 3), (2, 2), (3, 1), (1, 1), (-1, 5)], (0, 0),
                       ("max", "max")) == pytest.approx(6)
    # minimised objectives: accuracy up, size down, reference (0.5 accuracy, 1000 weights)
    assert hypervolume([(0.9, 200), (0.7, 100)], (0.5, 1000), ACC_SIZE) == pytest.approx(
        0.4 * 800 + 0.2 * 100)
    assert hypervolume([(2, 3, 4)], (0, 0, 0), ("max",) * 3) == pytest.approx(24)
    assert hypervolume([(2, 2, 2), (1, 1, 3)], (0, 0, 0), ("max",) * 3) == pytest.approx(
        8 + 3 - 2)
    assert hypervolume([], (0, 0), ("max", "max")) == 0.0
