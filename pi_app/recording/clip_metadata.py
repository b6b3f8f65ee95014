"""The S3 object metadata of an uploaded clip: the recognition result, as short ASCII strings.

S3 sends user metadata as HTTP headers (x-amz-meta-*): values must be ASCII and all of them together
at most 2 KB, so every value is made ASCII and cut short.
"""
from __future__ import annotations

from pi_app.recording.clip_state import ClipState

MAX_VALUE_CHARS = 256


def ascii_value(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    """`value` as printable ASCII (other characters \\u-escaped), at most `limit` characters."""
    escaped = value.encode("ascii", "backslashreplace").decode("ascii")
    printable = "".join(c if 32 <= ord(c) < 127 else "?" for c in escaped)
    return printable[:limit]


def clip_metadata(state: ClipState) -> dict[str, str]:
    """Metadata for the clip's S3 object: device, recognition status, frame count, the codec (the console makes a
    browser copy of codecs browsers do not play), which frame was recognised (face boxes are in that frame) and,
    when known, names, confidence, model."""
    recognition = state.recognition
    metadata = {"device": state.device_id, "recognition": recognition.status, "frames": str(state.frames),
                "codec": state.fourcc, "frame-index": str(state.frame_index)}
    if recognition.names:
        metadata["names"] = ",".join(recognition.names)
    if recognition.confidence is not None:
        metadata["confidence"] = f"{recognition.confidence:.3f}"
    if recognition.model_version:
        metadata["model-version"] = recognition.model_version
    return {key: ascii_value(value) for key, value in metadata.items()}
