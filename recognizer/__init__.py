"""The recognizer: decode a frame, detect faces, embed them, classify open-set, look people up."""
