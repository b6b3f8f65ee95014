"""Infrastructure as code for facegate: one boto3 code path for an emulator and real AWS."""
