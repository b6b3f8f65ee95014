"""`facegate console`: a small web app over the same stack as every other command (emulator by endpoint, AWS by
profile): the live timeline of visits with their clips, the face library, and strangers to review and enrol."""
