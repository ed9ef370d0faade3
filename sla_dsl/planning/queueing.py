"""Queues of leads: Erlang C's M/M/c steady state, and the same queue through changing days.

A first-touch clock is a queue: leads arrive (Poisson), `c` reps each take one at a time
(exponential work time), and a lead waits while all are busy. Erlang C gives the chance of
waiting and the service level P(wait <= t) in closed form, the yardstick the simulator's simple
cases are held to. A team with a calendar never reaches that steady state, so the planner uses
`Backlog`: the same queue with hourly arrivals and reps who go home, solved step by step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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


# ------------------------------------------------------------ a queue whose world changes


class Backlog:
    """The number of leads a queue of `servers` reps holds (waiting or being touched), as a
    probability distribution moved forward step by step: the M(t)/M/c(t) queue whose arrivals
    change with the hour and whose reps work only while their calendar is open.

    Erlang C assumes a steady state that a team with a calendar never reaches: the night's and
    the weekend's leads are all waiting at the opening. The Kolmogorov forward equations of the
    birth-death chain are solved exactly for each piece of constant rates (the matrix
    exponential of its generator, kept per kind of piece), so the morning surge is in the
    distribution rather than averaged away. At a closing the reps finish the touches they
    started (already touched: they leave the count) and start no more until the opening.

    The state space is 0..`most` leads; arrivals that would pass it are dropped, and
    `spilled` keeps the largest probability seen at the bound, so a caller can tell when the
    bound was too small."""

    def __init__(self, servers: int, service_hours: float, most: int) -> None:
        self.servers = servers
        self.rate = 1.0 / service_hours  # touches a rep finishes an open hour
        self.most = most
        self.states = np.arange(most + 1)
        self.now = np.zeros(most + 1)
        self.now[0] = 1.0
        self.low, self.high = 0, 1  # the states that may hold probability: [low, high)
        self.spilled = 0.0
        self.working = False  # the last piece moved through was open time
        self._moves: dict[tuple[float, bool, float], Move] = {}
        self._kept = 0  # floats in the kept moves (heads and steady states)

    def _move(self, arrivals: float, open_: bool, hours: float) -> Move:
        """How a piece of constant rates moves the distribution (kept per kind of piece)."""
        key = (round(arrivals, 9), open_, round(hours, 6))
        move = self._moves.get(key)
        if move is None:
            move = self._transitions(arrivals, open_, hours)
            self._kept += move.head.size
            while self._moves and self._kept > _FLOATS_KEPT:
                self._kept -= self._moves.pop(next(iter(self._moves))).floats
            self._moves[key] = move
        return move

    def _transitions(self, arrivals: float, open_: bool, hours: float) -> Move:
        """exp(Q x hours) on 0..most. From `edge` on every reachable state has all reps busy,
        so the chain looks the same from each of them: their rows are one row shifted, a
        kernel to convolve with. Only a small chain (a few dozen states, not hundreds) is
        solved, and what would pass the bound stays at it."""
        servers = self.servers if open_ else 0
        up = _reach(arrivals * hours)
        down = _reach(servers * self.rate * hours) if servers else 0
        edge = servers + down
        size = min(edge + up + 2, self.most + 1)
        deaths = np.minimum(np.arange(size), servers) * self.rate
        if size == self.most + 1:  # a small state space: the whole matrix
            return Move(_uniformised(arrivals, deaths, hours, size), np.zeros(0), size, 0,
                        arrivals, servers)
        rows = _uniformised(arrivals, deaths, hours, edge + 1)
        return Move(rows[:edge], rows[edge, edge - down:edge + up + 1].copy(), edge, down,
                    arrivals, servers)

    def _apply(self, move: Move) -> None:
        """The distribution through one piece, over the states it holds."""
        low, high = _support(self.now, self.low, self.high)
        self.now, self.low, self.high = _moved(self.now, low, high, move, self.most)

    def _through(self, move: Move, pieces: int) -> None:
        """`pieces` pieces of one kind in a row. A queue whose reps end many touches in a step
        forgets within a few pieces where it started: its distribution reaches the piece's
        steady state and the rest of the pieces leave it there. A step of 120 reps at a
        1-second touch is 13,500 pieces, a year of them hours of work, so once the distribution
        lies within `_SETTLED` (summed over the states) of the steady state, that is where it
        ends: no piece moves two distributions apart (a Markov step is a contraction), so the
        pieces skipped would have kept it as close. Looked at after 0, 1, 2, 4, ... pieces:
        at most twice the pieces needed are run."""
        steady = self._steady(move, pieces)
        look = 0
        for done in range(pieces):
            if steady is not None and done == look:
                if float(np.abs(self.now - steady.distribution).sum()) < _SETTLED:
                    self.now = steady.distribution.copy()
                    self.low, self.high = steady.low, steady.high
                    return
                look = max(1, 2 * look)
            self._apply(move)

    def _steady(self, move: Move, pieces: int) -> Steady | None:
        """The piece's steady state if the pieces may reach it and it is one for the piece as
        solved: `_stationary`'s, moved once by the piece no farther than the pieces could add
        up to `_SETTLED` (the pile at the bound, where arrivals stay, is not the chain's)."""
        if pieces < 3 or not move.servers:
            return None
        if move.steady is None:
            distribution = _stationary(move.arrivals, move.servers, self.rate, self.most)
            low, high = _support(distribution, 0, self.most + 1)
            moved = _moved(distribution, low, high, move, self.most)[0]
            move.steady = Steady(distribution, low, high,
                                 float(np.abs(moved - distribution).sum()))
            self._kept += distribution.size
        return move.steady if move.steady.residual * pieces < _SETTLED else None

    def advance(self, arrivals: float, open_hours: float, closed_hours: float,
                open_first: bool) -> None:
        """One step: `arrivals` an hour throughout, the reps working `open_hours` of it, the
        open part first when the step starts open (then the closing comes inside the step)."""
        parts = ((True, open_hours), (False, closed_hours)) if open_first \
            else ((False, closed_hours), (True, open_hours))
        for open_, hours in parts:
            if hours <= 0:
                continue
            if self.working and not open_:
                self._close()
            self.working = open_
            # pieces short enough that few events fit in one: a big team's many touches an
            # hour would otherwise make every piece's solution as wide as the state space
            rate = arrivals + (self.servers * self.rate if open_ else 0.0)
            pieces = max(1, math.ceil(rate * hours / _EVENTS_A_PIECE))
            self._through(self._move(arrivals, open_, hours / pieces), pieces)
        self.spilled = max(self.spilled, float(self.now[-1]))

    def _close(self) -> None:
        """The reps finish what they started and start nothing more: those leads leave."""
        c = self.servers
        kept = np.zeros_like(self.now)
        kept[0] = self.now[:c + 1].sum()
        kept[1:self.most + 1 - c] = self.now[c + 1:]
        self.now = kept
        self.low, self.high = 0, max(1, self.high - c)


@dataclass
class Steady:
    """A piece's steady state: the distribution, the states holding it ([low, high)), and how
    far the piece as solved moves it (summed over the states)."""

    distribution: np.ndarray
    low: int
    high: int
    residual: float


@dataclass
class Move:
    """A piece's transitions: rows 0..edge-1 in full (`head`), the rest one `kernel` (the
    count moved from `down` below to the kernel's end above); the rates it was solved for,
    and its steady state once asked for (`Backlog._steady`)."""

    head: np.ndarray
    kernel: np.ndarray
    edge: int
    down: int
    arrivals: float = 0.0
    servers: int = 0
    steady: Steady | None = None

    @property
    def floats(self) -> int:
        """The floats it keeps: its head, and its steady state once worked out."""
        return self.head.size + (self.steady.distribution.size if self.steady else 0)


def _support(now: np.ndarray, low: int, high: int) -> tuple[int, int]:
    """[low, high) narrowed to the states holding at least `_TINY` (one state if none do)."""
    held = np.flatnonzero(now[low:high] >= _TINY)
    if not held.size:
        return low, low + 1
    return low + int(held[0]), low + int(held[-1]) + 1


def _moved(now: np.ndarray, low: int, high: int, move: Move, most: int
           ) -> tuple[np.ndarray, int, int]:
    """A distribution held by [low, high) through one piece: the head rows by their own
    matrix, the rest by the kernel; with the states the result may hold."""
    moved = np.zeros(most + 1)
    first, last = most + 1, 0
    head = min(high, move.edge)
    if low < head:
        width = move.head.shape[1]
        moved[:width] = now[low:head] @ move.head[low:head]
        first, last = 0, width
    if high > move.edge:
        start = max(low, move.edge)
        spread = np.convolve(now[start:high], move.kernel)
        begin = start - move.down
        end = begin + len(spread)
        if end > most + 1:  # what would pass the bound stays at it
            moved[most] += spread[most + 1 - begin:].sum()
            spread, end = spread[:most + 1 - begin], most + 1
        moved[begin:end] += spread
        first, last = min(first, begin), max(last, end)
    return moved, first, last


def _stationary(arrivals: float, servers: int, rate: float, most: int) -> np.ndarray:
    """The birth-death chain's stationary distribution on 0..most (arrivals blocked at the
    top): each state's weight the one below's x arrivals / touches ended, M/M/c's truncated."""
    if arrivals <= 0:
        distribution = np.zeros(most + 1)
        distribution[0] = 1.0
        return distribution
    ended = np.minimum(np.arange(1, most + 1), servers) * rate
    logs = np.concatenate(([0.0], np.cumsum(np.log(arrivals / ended))))
    weights = np.exp(logs - logs.max())
    return weights / weights.sum()


_EVENTS_A_PIECE = 16  # expected arrivals and touches ended in one piece, at most
_FLOATS_KEPT = 2_000_000  # the moves kept per queue: 16 MB (a head is a few hundred floats,
# or the whole matrix of a small state space, or of a big team's)
def _uniformised(arrivals: float, deaths: np.ndarray, hours: float, starts: int) -> np.ndarray:
    """Rows 0..starts-1 of exp(Q x hours) for the birth-death chain on len(deaths) states
    (births `arrivals` below the top, deaths `deaths[n]` from n), by uniformisation: a sum of
    Poisson-weighted powers of the chain's one-jump matrix, each power one tridiagonal step.
    Elementwise numpy only: a small matrix exponential through a threaded BLAS is slow on a
    busy machine, and this is exact to the sum's tail (below 1e-15)."""
    size = len(deaths)
    births = np.full(size, arrivals)
    births[-1] = 0.0
    total = float((births + deaths).max())
    if total == 0 or hours == 0:
        return np.eye(size)[:starts]
    stay = 1 - (births + deaths) / total
    rise, fall = births[:-1] / total, deaths[1:] / total
    mean = total * hours
    terms = _reach(mean)
    term = np.eye(size)[:starts]
    result = np.zeros_like(term)
    for k in range(terms + 1):
        result += math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1)) * term
        moved = term * stay
        moved[:, 1:] += term[:, :-1] * rise
        moved[:, :-1] += term[:, 1:] * fall
        term = moved
    return result


def _reach(mean: float) -> int:
    """Events of a Poisson count with this mean that a step can hold: past it, less than
    1e-15 of the probability."""
    return math.ceil(mean + 10 * math.sqrt(mean) + 12) if mean > 0 else 0


_TINY = 1e-15  # probabilities below this are left out of a step (their sum stays below 1e-12)
_SETTLED = 1e-10  # how near its steady state a step's distribution ends it (summed)


def reached_within(ahead: np.ndarray, servers: int, rate: float, open_hours: float,
                   free: bool, variability: float = 1.0) -> np.ndarray:
    """P(a lead arriving behind `ahead` leads is first touched within `open_hours` of its
    reps' open time): with FIFO it waits for `ahead - servers + 1` touches to end at
    `servers x rate` an open hour; with a rep free it waits for none, met when `free` (the
    deadline does not fall before the rep's start).

    With exponential touches (`variability`, the squared coefficient of variation of a
    touch, 1) that wait is an Erlang one. Steadier touches end more evenly: the first of the
    busy reps to finish does so sooner (half a touch for one rep with fixed touches) and the
    rest one touch apart, so the wait is a gamma with that mean and spread."""
    needed = ahead - servers + 1
    waits = needed > 0
    met = np.where(waits, 0.0, 1.0 if free else 0.0)
    if open_hours <= 0:
        return met
    from scipy.special import gammainc

    k = needed[waits].astype(float)
    pace = servers * rate
    if variability == 1.0:
        met[waits] = gammainc(k, pace * open_hours)
        return met
    spread = (1 + 2 * variability) / 3  # the first touch to end: its squared variation
    first = _first_to_end(servers, variability)
    mean = (first + k - 1) / pace
    variance = (first * first * spread + (k - 1) * variability) / pace ** 2
    variance = np.maximum(variance, (0.02 * mean) ** 2)
    met[waits] = gammainc(mean * mean / variance, mean / variance * open_hours)
    return met


def _first_to_end(servers: int, variability: float) -> float:
    """When the first of `servers` busy reps ends their touch, in touches of the team's pace:
    1 for exponential touches, half a touch for one rep with fixed ones."""
    return (servers + variability) / (servers + 1)


def wait_behind(ahead: np.ndarray, servers: int, rate: float, variability: float = 1.0
                ) -> np.ndarray:
    """The mean open-time wait of a lead arriving behind `ahead` leads (`reached_within`'s)."""
    needed = ahead - servers + 1
    first = _first_to_end(servers, variability)
    return np.where(needed > 0, (first + needed - 1) / (servers * rate), 0.0)


def wait_second_moment(ahead: np.ndarray, servers: int, rate: float, variability: float = 1.0
                       ) -> np.ndarray:
    """The mean squared open-time wait of a lead arriving behind `ahead` leads, with the
    spread `reached_within` gives that wait: its variance plus its mean squared."""
    needed = ahead - servers + 1
    waits = needed > 0
    k = np.where(waits, needed, 1).astype(float)
    pace = servers * rate
    if variability == 1.0:
        mean, variance = k / pace, k / pace ** 2
    else:
        first = _first_to_end(servers, variability)
        spread = (1 + 2 * variability) / 3
        mean = (first + k - 1) / pace
        variance = np.maximum((first * first * spread + (k - 1) * variability) / pace ** 2,
                              (0.02 * mean) ** 2)
    return np.where(waits, variance + mean * mean, 0.0)
