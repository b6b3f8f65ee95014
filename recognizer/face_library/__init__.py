"""The face library (never in the Lambda image): enrolling and removing people, their photos, door calibration
and the stack they live in; the console and `facegate enroll | people | forget` use it."""
