"""Tools around the device, not on its data path: run_check scores a run's events against a video_manifest (the
demo, tests and benches); face_collector (with hog_face_finder) captures training photos for `facegate collect`.
"""
