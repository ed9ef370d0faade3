"""What the simulator says when it will not model something.

Kept apart from the model itself, with no imports, so that `sla_dsl.simulator` can name it at
import time while the model (numpy, simpy, scipy) loads only when `simulate` is first used.
"""


class NotSimulated(Exception):
    """A policy or scenario the model does not cover, said plainly with the fix."""
