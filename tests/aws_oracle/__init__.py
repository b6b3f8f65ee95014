"""A stricter AWS for CI (moto in server mode, TLS, IAM enforced) and the Engine API proxy its ECR needs."""
