"""How much one simulation may be asked to do: replications and seeds in range (docs/limits.md),
so that a run asked for is a run that ends, whether `sla simulate` asks or the library's
`sla_dsl.simulate` does. Light on purpose: the command line reads it before loading the model.
"""

from __future__ import annotations

MOST_REPLICATIONS = 1000
MOST_SEED = 2**63 - 1


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def replications_problem(count: object, least: int = 2, name: str = "--replications"
                         ) -> str | None:
    """Why `count` replications cannot be run, or None. A single run (`least` 2) needs two for
    an interval; a sweep's points and a sizing's trials (`least` 1) may take one."""
    if not _whole(count):
        return f"{name} {count!r} is not a whole number of replications"
    if count < least and least > 1:
        return (f"{name} {count}: an interval needs at least {least} replications\n"
                "  help: use 20 or more for intervals worth reading")
    if not least <= count <= MOST_REPLICATIONS:
        return (f"{name} {count:,} is out of range: from {least} to {MOST_REPLICATIONS:,}\n"
                "  help: 20 to 100 give intervals worth reading")
    return None


def seed_problem(seed: object, name: str = "--seed") -> str | None:
    """Why `seed` cannot seed a run, or None."""
    if not _whole(seed) or not 0 <= seed <= MOST_SEED:
        return (f"{name} {seed!r} is out of range: a whole number from 0 to {MOST_SEED:,}\n"
                "  help: any number in the range; the same seed repeats the same run")
    return None
