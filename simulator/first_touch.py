"""Where `simulate` and `NotSimulated` first lived; kept so older imports still work."""

from simulator.routing import NotSimulated
from simulator.simulation import simulate

__all__ = ["NotSimulated", "simulate"]
