"""Embed: one vector per detected face (registry.py names the embedders, one module each), and the compact
descriptor the device's visits use."""
