"""Build-time exports of the networks the Lambda serves (never in the Lambda image): MTCNN (and facenet, given
weights) from torch, dlib's face ResNet and 5-point shape predictor from dlib's own files, no dlib needed."""
