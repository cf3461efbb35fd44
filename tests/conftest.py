"""Shared test set-up: quiet TensorFlow, two threads (the CI machine has two cores)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# under pytest-xdist (-n 2) each worker has one core of its own: one TensorFlow thread, and
# one BLAS thread (numpy and scipy are loaded after this file). OpenBLAS's threads spin while
# they wait, so two workers with two threads each ran the Gaussian-process fits of Bayesian
# optimization 4.5 times slower than with one (48.8 s against 10.8 s a seed).
if os.environ.get("PYTEST_XDIST_WORKER"):
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
