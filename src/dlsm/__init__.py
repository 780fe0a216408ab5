"""dlsm: hands-on labs for the course Deep Learning and Sparse Modeling."""

__version__ = "0.1.0"
