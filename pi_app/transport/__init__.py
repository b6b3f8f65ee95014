"""Frame → API, and clip → bucket: every call the device makes to its stack.

api_session is the one HTTP session with the device's key (one attempt per call, every failure one of
service_errors); recognize_client posts a frame and decodes the contract's answer; api_clip_transfers (presigned by
the API) or s3_uploader (AWS credentials) store clips; visit_reporter sends visit reports; stack_connection picks
them from a device file or the deploy outputs. retry_gate, backoff and retry_after decide when to try again.
"""
