"""The camera device: record clips, recognise a frame of each, upload the clip."""
