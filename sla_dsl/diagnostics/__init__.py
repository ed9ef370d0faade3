"""What the tool says about a policy: the diagnostic codes, the `Diagnostic` record and its
reporter, and its renderings for a terminal, SARIF and GitHub annotations."""
