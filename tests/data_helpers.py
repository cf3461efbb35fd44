"""Made-up data shared by the tests of the classical members: raw signals, texts."""

import numpy as np


def waves(rows=120, classes=3, length=48, seed=0, noise=0.3):
    """Sine waves of one frequency per class at a random phase, with noise: the class is
    in the shape, not in any one column."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, rows)
    t = np.linspace(0, 1, length)
    x = np.sin(2 * np.pi * (2 + 2 * y[:, None]) * t + rng.uniform(0, 0.6, (rows, 1)))
    return (x + rng.normal(scale=noise, size=x.shape)).astype("float32"), y


FILLERS = ["the", "a", "was", "with", "and", "of", "new", "old", "very", "some"]


def topic_texts(rows=300, classes=3, seed=0):
    """Texts of six to nine words, each drawn from its class's topic words with
    probability 0.5, else from fillers and every topic's words; and their classes."""
    rng = np.random.default_rng(seed)
    topics = [[f"topic{k}word{i}" for i in range(8)] for k in range(classes)]
    everything = FILLERS + [w for topic in topics for w in topic]
    y = rng.integers(0, classes, rows)
    texts = np.array([" ".join(rng.choice(topics[label]) if rng.random() < 0.5
                               else rng.choice(everything) for _ in range(rng.integers(6, 10)))
                      for label in y], dtype=object)
    return texts, y
