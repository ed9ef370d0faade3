"""What the simulator says when it will not model something.

Kept apart from the model itself, with no imports, so that `sla_dsl.simulator` can name it at
import time while the model (numpy, simpy, scipy) loads only when `simulate` is first used.
"""


class NotSimulated(Exception):
    """A policy or scenario the model does not cover, said plainly with the fix.

    `too_few_reps` says a larger team would be simulated (a file names a rep the team does not
    have), so that a `--target` search goes on to the larger teams."""

    def __init__(self, message: str, *, too_few_reps: bool = False) -> None:
        super().__init__(message)
        self.too_few_reps = too_few_reps
