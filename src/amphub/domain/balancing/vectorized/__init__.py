"""The allocator for large groups: the same rules and floats as the scalar modules, over
numpy arrays (see ``cycle.py``)."""
