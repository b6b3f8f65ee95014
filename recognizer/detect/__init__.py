"""Detect: where the faces are in a frame (registry.py names the detectors, one module each)."""
