"""Classify: the open-set classifier that names a vector or answers "unknown", and its published versions."""
