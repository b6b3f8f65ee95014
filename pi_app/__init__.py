"""The camera device: record clips, recognise a frame of each, upload the clip.

Data path, by module: camera/ (picamera2 | recorded video) → clip_recorder (0.5 s clips via clip_encoder,
frame_choice, image_encoding; motion_gate scores each clip) → spool (one folder per clip, durable) →
work_queue (newest first) → worker_pool → clip_worker (recognize_client unless the motion gate skips a
still clip, then s3_uploader with clip_metadata) → events → stats, views, visits/ (who is at the door
over several clips) and actions/ (GPIO pulses and webhook alerts per visit, from rules in a TOML file:
actions.example.toml); event_relay lets a sink emit events.
device_app wires them; device_cli is `facegate run`, `facegate check-actions` and `facegate collect` (face_collector).
"""
