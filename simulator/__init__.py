"""The simpy model of lead arrivals and rep bandwidth, and the replications that give its
answers confidence intervals."""
