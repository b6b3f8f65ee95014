"""The camera device: record clips, recognise a frame of each, upload the clip.

Data path, by module: camera/ (picamera2 | recorded video) → clip_recorder (0.5 s clips via clip_encoder,
frame_choice, image_encoding) → spool (one folder per clip, durable) → work_queue (newest first) →
worker_pool → clip_worker (recognize_client, then s3_uploader with clip_metadata) → events → stats, views,
and actions/ (GPIO pulses and webhook alerts per visit, from rules in a TOML file: actions.example.toml).
device_app wires them; device_cli is `facegate run`, `facegate check-actions` and `facegate collect` (face_collector).
"""
