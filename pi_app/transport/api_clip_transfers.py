"""Clips to S3 without AWS credentials: the device asks the API for an upload grant (a presigned POST policy for its
own prefix, reused for 10 minutes) and POSTs each file with it, or, from a stack without grants, for a presigned PUT URL
per upload; alert links are presigned GET URLs the API signs at send time.

The API signs only keys under the device's own prefix (the key's device is the one its API key belongs to): a PUT's
signature covers the key, the content type and the metadata headers; a grant's policy the prefix, a length range,
the content type and the metadata names.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from facegate_contract import (BUNDLE_CONTENT_TYPE, CLIP_CONTENT_TYPE, CLIP_LINK_MAX_EXPIRES_S, MAX_CLIP_BYTES,
                               parse_any_bundle_key, parse_clip_key)
from facegate_contract.wire import UploadGrant, WireError, convert, upload_metadata
from pi_app.transport.api_session import ApiSession
from pi_app.transport.service_errors import ServiceError, ServiceRefused

log = logging.getLogger(__name__)

# A grant is dropped this long before its expiry: an upload started with it must reach S3 before the policy ends.
GRANT_RENEW_BEFORE_S = 300.0
# After a stack answered 404 for grants (deployed before them), use per-upload URLs this long before asking again.
NO_GRANTS_RETRY_S = 3600.0
# S3's answers to a policy it no longer accepts (expired, or signed by credentials that ended): ask for a new grant.
_STALE_GRANT_CODES = ("AccessDenied", "ExpiredToken", "InvalidToken", "TokenRefreshRequired")
_S3_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")


@dataclass(frozen=True)
class _Held:
    """A grant and when the device stops using it (its own monotonic clock: the device's wall clock may be off)."""

    grant: UploadGrant
    use_until: float


def _subject(key: str) -> tuple[dict[str, str], str]:
    """What the per-upload URL request names for `key`, and its content type; ServiceRefused for any other key."""
    parsed = parse_clip_key(key)
    if parsed is not None:
        return {"clip": parsed[1]}, CLIP_CONTENT_TYPE
    if parse_any_bundle_key(key) is not None:  # a visit's bundle or a footage request's
        return {"bundle": key}, BUNDLE_CONTENT_TYPE  # the API signs it only under this device's own prefix
    raise ServiceRefused(f"not a clip or bundle key: {key}")


def _stale(exc: ServiceError) -> bool:
    """Whether S3 refused the POST for its policy or signing credentials (a new grant may pass), not the file."""
    found = _S3_CODE.search(str(exc))
    return exc.status == 403 or (exc.status == 400 and found is not None and found.group(1) in _STALE_GRANT_CODES)


class ApiClipUploader:
    """ClipUploader through the API, for a clip or a bundle: with `upload_grants_url`, one grant call every 10 minutes
    per kind of upload (content type and metadata names) and one POST to S3 per upload; without it (or from a stack that has no
    grants), one URL request and one PUT per upload (/uploads). Thread-safe: workers share the grants."""

    def __init__(self, session: ApiSession, uploads_url: str, upload_grants_url: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._session = session
        self._uploads_url = uploads_url
        self._grants_url = upload_grants_url
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[tuple[str, tuple[str, ...]], _Held] = {}
        self._no_grants_until = float("-inf")

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        """Upload the clip (or bundle) file under `key`; raises a pi_app.transport.service_errors.ServiceError on
        failure (the caller keeps the file and tries again)."""
        subject, content_type = _subject(key)
        if self._grants_url is None or self._clock() < self._no_grants_until:
            return self._put(path, key, subject, metadata)
        try:
            checked = upload_metadata(metadata)
        except WireError as exc:  # what the API would answer 400 bad_metadata
            raise ServiceRefused(f"clip upload refused: {exc}", error="bad_metadata") from exc
        size = path.stat().st_size
        if not 1 <= size <= MAX_CLIP_BYTES:  # what the API would answer 400 bad_size (S3 refuses it too)
            raise ServiceRefused(f"clip upload refused: {size} bytes is not 1 to {MAX_CLIP_BYTES}", error="bad_size")
        kind = (content_type, tuple(sorted(checked)))
        held = self._grant(kind)
        if held is None:  # the stack has no grants: one URL a file, as before
            return self._put(path, key, subject, metadata)
        try:
            self._post(held.grant, path, key, checked)
        except ServiceError as exc:
            if not _stale(exc):
                raise
            # Expired, or its signer's credentials ended before the policy: one new grant, one more try.
            log.info("upload grant refused by S3, asking for a new one", extra={"key": key, "status": exc.status})
            self._drop(kind, held)
            renewed = self._grant(kind)
            if renewed is None:
                return self._put(path, key, subject, metadata)
            self._post(renewed.grant, path, key, checked)  # refused again: raised as today's PUT would be

    def _grant(self, kind: tuple[str, tuple[str, ...]]) -> _Held | None:
        """A grant for this kind of upload still good for GRANT_RENEW_BEFORE_S, asked for when there is none; None
        when the stack has no grant route (404)."""
        with self._lock:  # concurrent workers share one grant call
            held = self._grants.get(kind)
            if held is not None and self._clock() < held.use_until:
                return held
            if self._clock() < self._no_grants_until:
                return None
            asked_at = self._clock()
            assert self._grants_url is not None  # only called with grants on
            try:
                answer = self._session.post_json("upload grant", self._grants_url,
                                                 {"content_type": kind[0], "metadata": list(kind[1])})
            except ServiceRefused as exc:
                if exc.status != 404:
                    raise
                log.warning("the stack has no upload grants (deployed before them): one upload URL per file",
                            extra={"retry_in_s": NO_GRANTS_RETRY_S})
                self._no_grants_until = asked_at + NO_GRANTS_RETRY_S
                return None
            try:
                grant = convert(answer, UploadGrant)
            except WireError as exc:
                raise ServiceRefused(f"the API answered no usable upload grant: {exc}") from exc
            if grant.content_type != kind[0] or sorted(grant.metadata) != list(kind[1]):
                raise ServiceRefused("the API answered a grant for another kind of upload")
            held = _Held(grant, asked_at + grant.expires_in - GRANT_RENEW_BEFORE_S)
            self._grants[kind] = held
            log.info("upload grant", extra={"prefix": grant.prefix, "content_type": grant.content_type,
                                            "expires_in": grant.expires_in})
            return held

    def _drop(self, kind: tuple[str, tuple[str, ...]], held: _Held) -> None:
        """Forget a grant S3 refused (unless another worker has already replaced it)."""
        with self._lock:
            if self._grants.get(kind) is held:
                del self._grants[kind]

    def _post(self, grant: UploadGrant, path: Path, key: str, metadata: dict[str, str]) -> None:
        """One multipart POST to S3: the grant's fields, the key, the metadata, and the file last (S3 ignores
        anything after it)."""
        if not key.startswith(grant.prefix):
            # The API derives the prefix from the device's API key: another one means this device file's id is not
            # the key's device. Uploading elsewhere would lose track of the clip: refuse instead.
            raise ServiceRefused(f"the API granted {grant.prefix!r}, not {key!r}: the device file's id does not match "
                                 "its key")
        fields: list[tuple[str, str]] = [*grant.fields.items(), ("key", key),
                                         *((f"x-amz-meta-{name}", value) for name, value in metadata.items())]
        with open(path, "rb") as body:
            self._session.request("clip upload", "POST", grant.url, authorised=False, data=fields,
                                  files=[("file", (path.name, body, grant.content_type))])

    def _put(self, path: Path, key: str, subject: dict[str, str], metadata: dict[str, str]) -> None:
        """One URL request (/uploads) and one PUT: the stack signs exactly this key, length and metadata."""
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
