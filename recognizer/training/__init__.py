"""Training-time code (never in the Lambda image): the seed's data layout, fitting and evaluating the open-set
classifier, facenet fine-tuning and the `facegate train | evaluate | enroll | publish` commands."""
