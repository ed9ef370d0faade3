"""Erlang C: the M/M/c queue, for instant estimates and as the simulator's yardstick.

A first-touch clock is a queue: leads arrive (Poisson), `c` reps each take one at a time
(exponential work time), and a lead waits while all are busy. Erlang C gives the chance of
waiting and the service level P(wait <= t) in closed form, so a planner gets an answer before
any simulation, and the simulator's simple cases can be held to it.
"""

from __future__ import annotations

import math


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability B(c, A), by the stable recurrence B(k) = A·B(k-1) / (k + A·B(k-1))."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arriving lead waits, C(c, A); 1 when the team is overloaded (A >= c),
    because then the queue grows without bound."""
    if servers <= 0 or load >= servers:
        return 1.0
    blocking = erlang_b(servers, load)
    return servers * blocking / (servers - load * (1 - blocking))


def service_level(servers: int, load: float, wait: float, handling: float) -> float:
    """P(wait <= `wait`) = 1 - C(c, A)·exp(-(c - A)·wait / handling); 0 when overloaded."""
    if load >= servers:
        return 0.0
    return 1 - erlang_c(servers, load) * math.exp(-(servers - load) * wait / handling)


def mean_wait(servers: int, load: float, handling: float) -> float:
    """Mean wait C(c, A)·AHT / (c - A); infinite when overloaded."""
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * handling / (servers - load)


def servers_for(target: float, load: float, wait: float, handling: float,
                most: int = 10_000) -> int | None:
    """The smallest team whose service level reaches `target` (a fraction), or None."""
    start = max(1, math.floor(load) + 1)
    for servers in range(start, most + 1):
        if service_level(servers, load, wait, handling) >= target:
            return servers
    return None
