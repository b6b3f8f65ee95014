"""Short-lived presigned S3 URLs for a device's own clips: a PUT to upload one (or a visit's bundle of them), a POST
policy (an upload grant) to upload many of them within 15 minutes, a GET to link to one in an alert.

Devices hold no AWS credentials: they ask the API, which signs with the Lambda's role for a key under the
calling device's own prefix only (`clips/<device>/…`). A PUT's signature covers the key, the length, the content type
and the metadata, so a URL cannot be reused for another key; a grant's policy covers the prefix, a length range, the
content type and the metadata names, so it cannot be used for another device's keys.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from facegate_contract import (BUNDLE_CONTENT_TYPE, CLIP_CONTENT_TYPE, MAX_CLIP_BYTES, PRESIGN_REQUEST_HOST,
                               UPLOAD_GRANT_EXPIRES_S, clip_key, device_clips_prefix)
from facegate_contract.wire import (ClipLink, ClipLinkRequest, UploadGrant, UploadGrantRequest, UploadLink,
                                    UploadRequest, WireError, upload_metadata)
from recognizer.api.device_identity import require_own_clip
from recognizer.api.event import RequestError, header

UPLOAD_EXPIRES_S = 900  # the device uses the URL at once; a retry asks for a fresh one
FILENAME = "${filename}"  # botocore: a key ending so is signed as a `starts-with $key` condition on the rest


def _metadata(raw: dict[str, str]) -> dict[str, str]:
    """The metadata to sign (keys and values are already checked by the contract's UploadRequest)."""
    try:
        return upload_metadata(raw)
    except WireError as exc:
        raise RequestError(400, "bad_metadata", str(exc)) from exc


def grant_conditions(content_type: str, metadata: list[str]) -> list[Any]:
    """An upload grant's policy conditions besides the bucket, the key's prefix and the signature's own: 1 byte to
    MAX_CLIP_BYTES, exactly one content type (a policy has no "one of": a grant per kind is the tightest), and each
    metadata name, any value (the values differ per upload; S3 refuses a form field the policy does not name)."""
    return [["content-length-range", 1, MAX_CLIP_BYTES], {"Content-Type": content_type},
            *(["starts-with", f"$x-amz-meta-{name}", ""] for name in metadata)]


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

    def grant(self, event: dict[str, Any], device: str, request: UploadGrantRequest) -> UploadGrant:
        """A presigned POST policy for any key under the device's own prefix (`clips/<device>/`), of the request's
        content type and with exactly its metadata names, for UPLOAD_GRANT_EXPIRES_S (S3 refuses it sooner when the
        role's credentials that signed it end first)."""
        prefix = device_clips_prefix(device)
        names = sorted(name.lower() for name in request.metadata)  # S3 keeps metadata names lower-case
        expires_at = int(time.time()) + UPLOAD_GRANT_EXPIRES_S
        post = self._s3(event).generate_presigned_post(
            self.bucket, prefix + FILENAME, Fields={"Content-Type": request.content_type},
            Conditions=grant_conditions(request.content_type, names), ExpiresIn=UPLOAD_GRANT_EXPIRES_S)
        # The device names each upload's key itself (the policy's `starts-with` holds it under the prefix).
        fields = {name: value for name, value in post["fields"].items() if name != "key"}
        return UploadGrant(url=post["url"], fields=fields, prefix=prefix, content_type=request.content_type,
                           metadata=names, max_bytes=MAX_CLIP_BYTES, expires_in=UPLOAD_GRANT_EXPIRES_S,
                           expires_at=expires_at)

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
