"""The strategy lab: what a strategy will earn and lose before it ships.

:func:`simulate` decides a book under one or more strategies through the application
layer and prices the decisions (expected loss, revenue, cost of funds, provision and
profit, each with an interval); :func:`simulation_summary` puts it in figures, per
strategy, segment and grade, with the swap set between strategies and, where the
book's outcomes are known, a back-test.
"""

from linewise.simulate.assumptions import Assumptions, read_assumptions, read_assumptions_file
from linewise.simulate.run import Simulation, simulate
from linewise.simulate.summary import simulation_summary

__all__ = ["Assumptions", "Simulation", "read_assumptions", "read_assumptions_file", "simulate", "simulation_summary"]
