"""Build-time converters from dlib's model files to formats served without dlib."""
