"""Feature families: each declares its specs and computes them from a panel window."""
