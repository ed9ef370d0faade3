"""What the replayed leads add up to: goals and triggers per period, what the data covers, round-
robin assignments, attribution of won deals and the revenue goal."""
