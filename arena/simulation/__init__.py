"""Simulated voters: HTTP clients of the real JSON API that judge shapes-world battles by their ground truth
(:mod:`~arena.simulation.voters`, :mod:`~arena.simulation.client`), and the calibration run built on them
(:mod:`~arena.simulation.calibrate`)."""
