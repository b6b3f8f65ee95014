"""`python -m services` runs the facegate CLI."""
from services.cli import main

main()
