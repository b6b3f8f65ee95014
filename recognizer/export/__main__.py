"""`python -m recognizer.export --out DIR`: every served network into one folder (see recognizer.export.networks)."""
from recognizer.export.networks import main

main()
