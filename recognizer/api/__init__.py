"""What both Lambdas share at the API Gateway edge: the proxy event, the device behind an API key, JSON answers."""
