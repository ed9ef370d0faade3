"""What CI runs on a policy change: the policy's own test cases and their outputs, the semantic
diff of two policies, and the change's impact on past leads."""
