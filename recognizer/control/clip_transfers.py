"""Short-lived presigned S3 URLs for a device's own clips: a PUT to upload one (or a visit's bundle of them), a GET to
link to one in an alert.

Devices hold no AWS credentials: they ask the API, which signs with the Lambda's role for a key under the
calling device's own prefix only (`clips/<device>/…`). The signature covers the key, the content type and the
metadata, so a URL cannot be reused for another key.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facegate_contract import BUNDLE_CONTENT_TYPE, CLIP_CONTENT_TYPE, PRESIGN_REQUEST_HOST, clip_key
from facegate_contract.wire import ClipLink, ClipLinkRequest, UploadLink, UploadRequest
from recognizer.api.device_identity import require_own_clip
from recognizer.api.event import RequestError, header

UPLOAD_EXPIRES_S = 900  # the device uses the URL at once; a retry asks for a fresh one
MAX_METADATA_BYTES = 1800  # S3 allows 2 KB of user metadata; keep room for the names


def _metadata(raw: dict[str, str]) -> dict[str, str]:
    """The metadata to sign (keys and values are already checked by the contract's UploadRequest)."""
    if sum(len(k) + len(v) for k, v in raw.items()) > MAX_METADATA_BYTES:
        raise RequestError(400, "bad_metadata", f"metadata exceeds {MAX_METADATA_BYTES} bytes")
    return {k.lower(): v for k, v in raw.items()}


class ClipTransfers:
    """Signs clip URLs for one bucket. `presign_endpoint`: None on AWS; PRESIGN_REQUEST_HOST on an emulator, where
    the URL must name the host the device itself called (the Lambda reaches the emulator by another name)."""

    def __init__(self, bucket: str, s3_for_endpoint: Callable[[str | None], Any],
                 presign_endpoint: str | None = None) -> None:
        self.bucket = bucket
        self._s3_for_endpoint = s3_for_endpoint
        self._presign_endpoint = presign_endpoint
        self._clients: dict[str | None, Any] = {}

    def _s3(self, event: dict[str, Any]) -> Any:
        endpoint = None
        if self._presign_endpoint == PRESIGN_REQUEST_HOST:
            host = header(event, "host")
            if not host:
                raise RequestError(400, "bad_request", "no Host header to sign the URL for")
            endpoint = f"{header(event, 'x-forwarded-proto') or 'http'}://{host}"
        elif self._presign_endpoint:
            endpoint = self._presign_endpoint
        if endpoint not in self._clients:
            self._clients[endpoint] = self._s3_for_endpoint(endpoint)
        return self._clients[endpoint]

    def upload(self, event: dict[str, Any], device: str, request: UploadRequest) -> UploadLink:
        """A PUT URL for the device's clip `request.clip` or its visit bundle `request.bundle` (403 for a bundle key
        under another device's prefix), with its metadata signed in."""
        if request.bundle is not None:
            require_own_clip(request.bundle, device, "a device may upload only its own bundles")
            key, content_type = request.bundle, BUNDLE_CONTENT_TYPE
        else:
            key, content_type = clip_key(device, str(request.clip)), CLIP_CONTENT_TYPE
        # The length is a signed header: S3 takes exactly `size` bytes through this URL, no more.
        params = {"Bucket": self.bucket, "Key": key, "ContentType": content_type, "ContentLength": request.size}
        metadata = _metadata(request.metadata)
        if metadata:
            params["Metadata"] = metadata
        url = self._s3(event).generate_presigned_url("put_object", Params=params, ExpiresIn=UPLOAD_EXPIRES_S)
        # Content type and metadata are signed headers: the PUT must send exactly these.
        headers = {"Content-Type": content_type, "Content-Length": str(request.size),
                   **{f"x-amz-meta-{k}": v for k, v in metadata.items()}}
        return UploadLink(key=key, url=url, headers=headers, expires_in=UPLOAD_EXPIRES_S)

    def link(self, event: dict[str, Any], device: str, request: ClipLinkRequest) -> ClipLink:
        """A GET URL for one of the device's own clips (`request.key`), for an alert's receiver."""
        require_own_clip(request.key, device, "a device may link only to its own clips")
        url = self._s3(event).generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": request.key},
                                                     ExpiresIn=request.expires_in)
        return ClipLink(key=request.key, url=url, expires_in=request.expires_in)


def s3_presigner(endpoint: str | None, region: str | None = None) -> Any:
    """An S3 client that signs SigV4 URLs for `region` (path style on an emulator endpoint)."""
    import boto3
    from botocore.config import Config

    style = "path" if endpoint else "virtual"
    return boto3.client("s3", endpoint_url=endpoint, region_name=region,
                        config=Config(signature_version="s3v4", s3={"addressing_style": style}))
