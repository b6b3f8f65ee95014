"""Build-time exports of the networks the Lambda serves (never in the Lambda image)."""
