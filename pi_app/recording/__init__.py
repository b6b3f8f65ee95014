"""Camera → clip → frame, on the device's own disk.

clip_recorder cuts the camera's frames into 0.5 s clips (clip_encoder writes the video, frame_choice picks the
sharpest frame, image_encoding makes its JPEG, motion_gate scores the clip); spool keeps one durable folder per clip
(durable_files, clip_names, clip_state, clip_metadata) within the disk budget of spool_budget; clip_video reads a
frame back from a clip.
"""
