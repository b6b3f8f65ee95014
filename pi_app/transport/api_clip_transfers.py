"""Clips to S3 without AWS credentials: the device asks the API for a presigned URL for its own clip key and
PUTs the file there; alert links are presigned GET URLs the API signs at send time.

The API signs only keys under the device's own prefix (the key's device is the one its API key belongs to), and
the signature covers the key, the content type and the metadata headers.
"""
from __future__ import annotations

from pathlib import Path

from facegate_contract import CLIP_LINK_MAX_EXPIRES_S, parse_any_bundle_key, parse_clip_key
from pi_app.transport.api_session import ApiSession
from pi_app.transport.service_errors import ServiceRefused


class ApiClipUploader:
    """ClipUploader through the API's /uploads: one URL request and one PUT per attempt, for a clip or a visit's
    bundle."""

    def __init__(self, session: ApiSession, uploads_url: str) -> None:
        self._session = session
        self._uploads_url = uploads_url

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        """Upload the clip (or bundle) file under `key`; raises a pi_app.transport.service_errors.ServiceError on
        failure."""
        parsed = parse_clip_key(key)
        if parsed is not None:
            subject = {"clip": parsed[1]}
        elif parse_any_bundle_key(key) is not None:  # a visit's bundle or a footage request's
            subject = {"bundle": key}  # the API signs it only under this device's own prefix
        else:
            raise ServiceRefused(f"not a clip or bundle key: {key}")
        size = path.stat().st_size  # signed into the URL: S3 takes exactly this many bytes
        grant = self._session.post_json("upload url", self._uploads_url,
                                        {**subject, "size": size, "metadata": metadata})
        if grant.get("key") != key or not isinstance(grant.get("url"), str):
            # The API derives the key from the device's API key: a different one means this device file's id
            # is not the key's device. Uploading elsewhere would lose track of the clip: refuse instead.
            raise ServiceRefused(f"the API signed {grant.get('key')!r}, not {key!r}: the device file's id does not "
                                 "match its key")
        headers = {str(k): str(v) for k, v in (grant.get("headers") or {}).items()}
        with open(path, "rb") as body:
            self._session.request("clip upload", "PUT", grant["url"], authorised=False, data=body, headers=headers)


class ApiClipLinks:
    """ClipLinks through the API's /clip-links: a GET URL for one of the device's clips, signed now."""

    def __init__(self, session: ApiSession, clip_links_url: str) -> None:
        self._session = session
        self._clip_links_url = clip_links_url

    def url(self, key: str, expires_s: int) -> str:
        """A presigned GET URL of `key` (its lifetime capped by what the API can sign); raises a ServiceError when
        the API cannot sign it."""
        expires = max(1, min(int(expires_s), CLIP_LINK_MAX_EXPIRES_S))
        answer = self._session.post_json("clip link", self._clip_links_url, {"key": key, "expires_in": expires})
        url = answer.get("url")
        if not isinstance(url, str):
            raise ServiceRefused("the API answered no clip link")
        return url
