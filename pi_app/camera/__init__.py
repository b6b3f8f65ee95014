"""Cameras behind one small interface: picamera2 on a Raspberry Pi, recorded video anywhere else."""
from pi_app.camera.base import Camera, Frame
from pi_app.camera.pi_camera import PiCamera2Camera
from pi_app.camera.spec import CameraSpec, open_camera, parse_camera_spec
from pi_app.camera.video_file import VideoFileCamera

__all__ = ["Camera", "CameraSpec", "Frame", "PiCamera2Camera", "VideoFileCamera", "open_camera", "parse_camera_spec"]
