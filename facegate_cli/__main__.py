"""`python -m facegate_cli` runs the facegate command."""
from facegate_cli.app import main

main()
