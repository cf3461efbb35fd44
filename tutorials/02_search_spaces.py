"""Tutorial 2: your own search space, composed from blocks in Python or written in YAML.

A block's argument left out is searched over the block's default range, a plain value fixes
it, a list is a choice, and a definition (``{"type": "int", "min": 1, "max": 3}``) gives a
range of its own. The same space can be written as Python blocks or as a YAML spec.

Run it: ``python tutorials/02_search_spaces.py`` (a few minutes on 2 CPU cores).
``AUTOARCH_SMOKE=1`` shrinks every budget to a few seconds.
"""

import os
import tempfile

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from autoarch import ImageClassifier, load_spec
from autoarch.blocks import BlockChoice, CellBlock, ClassificationHead, ConvBlock, DenseBlock

SMOKE = os.environ.get("AUTOARCH_SMOKE") == "1"
budget = dict(max_trials=2, epochs=1) if SMOKE else dict(max_trials=8, epochs=20)

digits = load_digits()
images = digits.images[..., None] / 16.0  # (N, 8, 8, 1) images
X_train, X_test, y_train, y_test = train_test_split(images, digits.target, stratify=digits.target,
                                                    random_state=0)

# 1. A macro space in Python: either a plain conv stack or a searched NAS-Bench-201-style cell
#    (every edge of a 4-node DAG picks an operation), then a small dense layer.
blocks = [
    BlockChoice([ConvBlock(num_blocks=[1, 2], filters=[32, 64], kernel_size=3),
                 CellBlock(num_nodes=4, stacks=2, cells_per_stack=1, filters=16)]),
    DenseBlock(num_layers=1, units=[64, 128]),
    ClassificationHead(),
]
clf = ImageClassifier(spec=blocks, strategy="evolution", seed=0,
                      directory=tempfile.mkdtemp(prefix="autoarch-blocks-"), **budget)
clf.fit(X_train, y_train)
print("python blocks: test accuracy", round(clf.score(X_test, y_test), 4))
print("  winner:", clf.best_params_)

# 2. The same kind of space as YAML. Errors in a spec name the file, line and column.
spec_text = """
name: digits-yaml
task: classification
strategy: evolution
space:
  blocks:
    - block: choice
      options:
        - {block: conv, num_blocks: [1, 2], filters: [32, 64], kernel_size: 3}
        - {block: cell, num_nodes: 4, stacks: 2, cells_per_stack: 1, filters: 16}
    - block: dense
      num_layers: 1
      units: {type: int, min: 32, max: 128, step: 32}
    - block: classification_head
"""
spec_path = os.path.join(tempfile.mkdtemp(), "space.yaml")
with open(spec_path, "w") as f:
    f.write(spec_text)
spec = load_spec(spec_path)
print("the YAML spec's blocks:", spec.blocks)
clf = ImageClassifier(spec=spec_path, strategy="evolution", seed=0,
                      directory=tempfile.mkdtemp(prefix="autoarch-yaml-"), **budget)
clf.fit(X_train, y_train)
print("yaml spec: test accuracy", round(clf.score(X_test, y_test), 4))
print("  the winner's architecture:")
clf.best_model_.summary(line_length=90)
