"""The torch reference path: facenet-pytorch's MTCNN and the torchvision stand-in it needs. Used by parity tests,
benchmarks and the `lambda-torch` comparison image; the lean Lambda image carries none of it."""
