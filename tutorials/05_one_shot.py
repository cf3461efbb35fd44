"""Tutorial 5: one-shot search, one weight-sharing supernet for a whole space.

A supernet holds every option of a space's searched operations (a cell's edges, a chain's
layers) and of its block choices at once, each with its own weights, shared by every
candidate that uses it. Training it once and scoring candidates with its weights searches
the whole space for the price of a few trainings; the best candidates are then trained
from scratch like any trial. ``strategy="oneshot"`` samples one path per batch (single-path
one-shot), ``"darts"`` and ``"gdas"`` learn a weight per option by gradient.

Run it: ``python tutorials/05_one_shot.py`` (a few minutes on 2 CPU cores).
``AUTOARCH_SMOKE=1`` shrinks every budget to a few seconds.
"""

import json
import os
import tempfile

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from autoarch import ImageClassifier
from autoarch.blocks import BlockChoice, CellBlock, ClassificationHead, ConvBlock, ModelSpace
from autoarch.inputs import ImageInput
from autoarch.oneshot import Supernet

SMOKE = os.environ.get("AUTOARCH_SMOKE") == "1"
epochs = 1 if SMOKE else 20
paths = 10 if SMOKE else 60  # scored on the supernet by the path search
# smoke runs shrink on a small budget (paths scored per round, epochs trained after each);
# full runs use the strategy's defaults (200 paths, 3 epochs)
shrink = {"shrink_samples": 20, "shrink_epochs": 1} if SMOKE else {}

digits = load_digits()
images = (digits.images[..., None] / 16.0).astype("float32")  # (N, 8, 8, 1) images
X_train, X_test, y_train, y_test = train_test_split(images, digits.target, stratify=digits.target,
                                                    random_state=0)


def blocks():
    """A choice of two stems (one output shape: 16 channels, no pooling), then two stacks of
    a 3-node cell whose three edges each pick one of seven operations, joined by a fixed
    reduction cell (max pooling): 2 x 7^3 = 686 candidates."""
    stem = dict(num_blocks=1, num_layers=1, filters=16, pooling="none")
    reduction = {f"reduce_{i}_{j}": "maxpool3x3" for i, j in ((0, 1), (0, 2), (1, 2))}
    return [BlockChoice([ConvBlock(name="plain", **stem),
                         ConvBlock(name="separable", separable=True, **stem)], name="stem"),
            CellBlock(num_nodes=3, stacks=2, filters=16, **reduction),
            ClassificationHead(num_classes=10)]


directory = tempfile.mkdtemp(prefix="autoarch_one_shot_")

# 1. strategy="oneshot": train the supernet; shrink each edge's seven operations to four,
#    then two, by the mean inherited-weight accuracy of the paths each is in (two rounds,
#    the supernet trained a little more on what is left after each); score the paths left
#    with its weights (2 x 2^3 = 16: each of them, at most 60 by evolution in a larger
#    space); train from scratch two that build different models: the best paths, and
#    first, where the last round scored every path it had (all 128 in a full run), each
#    choice's best option by its means, steadier than any one path's score (a cell whose
#    first edge is "none" builds the same model whatever its edge out of node 1 is).
#    signal_neighbours=False keeps the nearest-neighbours member out of the final model, so
#    it is made of the searched cells alone.
oneshot_dir = os.path.join(directory, "oneshot")
clf = ImageClassifier(spec=blocks(), strategy="oneshot",
                      strategy_options={"supernet_epochs": epochs, "search_trials": paths,
                                        "top_k": 2, **shrink},
                      epochs=epochs, learning_rate=0.01, signal_neighbours=False, seed=0,
                      directory=oneshot_dir)
clf.fit(X_train, y_train)
print(f"oneshot: test accuracy {clf.score(X_test, y_test):.4f}")
# the phase's outcome is kept in the run directory (and in its journal and HTML report)
with open(os.path.join(oneshot_dir, "oneshot", "candidates.json")) as handle:
    phase = json.load(handle)
print(f"  operations left after shrinking: {phase['shrunk']}")
for found in phase["top"]:  # score: None for a path the path search did not score
    score = "not scored" if found["score"] is None else f"{found['score']:.3f}"
    print(f"  supernet's pick (inherited-weight accuracy {score}): {found['path']}")
print(f"  passed over, building the model of a pick: {len(phase['same_model'])} path(s)")

# 2. strategy="darts": every option mixed by the softmax of its weight; after training,
#    each option is removed from the mix in turn, and the ones whose removal costs the
#    supernet most validation accuracy make the derived architecture (selection:
#    "perturbation"; "weight" takes the largest weights instead), trained from scratch with
#    the next strongest paths (top_k: 3 in all), the best on validation kept.
darts_dir = os.path.join(directory, "darts")
clf = ImageClassifier(spec=blocks(), strategy="darts",
                      strategy_options={"supernet_epochs": epochs},
                      epochs=epochs, learning_rate=0.01, signal_neighbours=False, seed=0,
                      directory=darts_dir)
clf.fit(X_train, y_train)
with open(os.path.join(darts_dir, "oneshot", "candidates.json")) as handle:
    phase = json.load(handle)
print(f"darts: test accuracy {clf.score(X_test, y_test):.4f}; derived {phase['derived']}")
print(f"  the stems' weights: {phase['weights']['stem/block']}")
print(f"  the stems' accuracy lost without each: {phase['importance']['stem/block']}")

# 3. The supernet by hand: train it, score paths with its weights (batch norm re-estimated
#    on a few hundred training rows first), and take one path out as a plain Keras model.
#    Such scores are estimates: they rank a space roughly as training each path would
#    (Kendall tau about 0.6 in benchmarks/oneshot.py), and favour paths that use few of the
#    shared operations, which is why `oneshot` shrinks the space by each operation's mean
#    over many paths first, and the strategies train their best few from scratch.
space = ModelSpace(blocks(), training={"learning_rate": 0.01},
                   inputs={"input": ImageInput("input").fit(X_train)})
supernet = Supernet(space)
print(f"supernet choices: {supernet.choices}")
supernet.train(X_train, y_train, epochs=epochs, seed=0)
deep = {"stem/block": "plain", "cell_1/normal_0_1": "conv3x3", "cell_1/normal_0_2": "skip",
        "cell_1/normal_1_2": "conv3x3"}
light = {**deep, "cell_1/normal_0_1": "avgpool3x3", "cell_1/normal_1_2": "maxpool3x3"}
for name, path in (("deep", deep), ("light", light)):
    accuracy = supernet.score(path, X_test, y_test, calibration=X_train[:320])["accuracy"]
    print(f"  {name} path, inherited weights: test accuracy {accuracy:.4f}")
model = supernet.extract(deep)  # its switches hold one option each, with the shared weights
model.save(os.path.join(directory, "deep_path.keras"))
print(f"extracted path saved: {model.count_params()} parameters in "
      f"{os.path.join(directory, 'deep_path.keras')}")
