"""Rigs that drive the stack with the project's fixtures, shared by the integration tests and the benches: a
throwaway deployed stack with the demo person enrolled, device runs, the doorway with its actions, many devices
at once (load), faults and kills (chaos), and the benches' frames, statistics and result files.

Dev-only: no role (pi_app, recognizer, services) nor the CLI imports it (tests/unit/test_role_boundaries.py); it
reads fixtures from the checkout, so it is used from an editable install (scripts/dev-env) or a clone.
"""
