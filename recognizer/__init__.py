"""The recognizer: two Lambdas on one image, and the face pipeline they serve.

    recognize/  the recognition Lambda: handler → service → pipeline.py → people_details, sightings_log
    control/    the control Lambda: upload URLs, clip links, visit reports
    api/        what both share: the API Gateway event, the device behind an API key, JSON answers
    pipeline.py detect/ → embed/ → classify/   (faces.py: the types they pass along)
    face_library/, training/, export/, torch_reference/: tools and build-time code, never in the Lambda image
"""
