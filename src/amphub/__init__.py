"""amphub: an open charge point management system."""

__version__ = "0.1.0"
