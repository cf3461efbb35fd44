"""Shared test set-up: quiet TensorFlow, two threads (the CI machine has two cores)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# under pytest-xdist (-n 2) each worker has one core of its own
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
