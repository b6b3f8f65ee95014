"""The recognition Lambda: POST /recognize, a frame in, every face named (handler → service → pipeline)."""
