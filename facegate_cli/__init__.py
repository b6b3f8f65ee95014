"""The `facegate` command line: the root above the three roles (services, pi_app, recognizer), and the demo,
which spans them."""
