"""The camera device: record clips, recognise a frame of each, upload the clip.

Data path, by package: camera/ (picamera2 | recorded video) → recording/ (clip_recorder cuts 0.5 s clips, the
motion gate scores each, spool keeps them durable) → runtime/ (work_queue, worker_pool, clip_worker) → transport/
(recognize_client sends the frame to the API unless the motion gate skips a still clip, then the clip is uploaded)
→ runtime/events (the contract's typed device events) → stats, views, visits/ (who is at the door over several
clips, reported by transport/visit_reporter) and actions/ (GPIO pulses and webhook alerts per visit, from rules in a
TOML file: actions.example.toml). runtime/device_app wires them; runtime/device_cli is `facegate run`,
`facegate check-actions` and `facegate collect` (tools/face_collector); tools/run_check scores a run.
"""
