"""The Docker Engine API, as `facegate deploy` and the docker CLI reach it, with pushes to ECR landing in moto.

moto serves ECR's API but not the Docker Registry API that `docker push` speaks (its `/v2/` answers as an S3
bucket name), and an ECR host name (`<account>.dkr.ecr.<region>.amazonaws.com`) must never reach the network
here. So the harness points DOCKER_HOST at this proxy: every Engine API call goes byte for byte to the real
engine, except `POST /images/{name}/push` to an ECR host. That push is checked as ECR checks it (the registry
password must be the one GetAuthorizationToken gave, the repository must exist, an immutable tag cannot be
pushed twice), made for real by the real engine into Debian's `docker-registry` on loopback, and registered in
moto's ECR with PutImage (the manifest the registry stored), so DescribeImages, BatchGetImage and Lambda see the
image with its true digest. The client gets the engine's own progress stream, with the repository named as it
asked.
"""
from __future__ import annotations

import base64
import json
import re
import socket
import socketserver
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
PUSH_PATH = re.compile(r"^(/v[\d.]+)?/images/(?P<name>.+)/push$")
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass
class Request:
    """One Engine API request head (and whatever body bytes arrived with it)."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    rest: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def head_bytes(self, headers: list[tuple[str, str]]) -> bytes:
        lines = [f"{self.method} {self.target} {self.version}"] + [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_request(sock: socket.socket) -> Request | None:
    """Read a request head from `sock` (None when the client closed first)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            raise ValueError("request head too large")
    head, rest = data.split(b"\r\n\r\n", 1)
    first, *lines = head.decode("latin-1").split("\r\n")
    method, target, version = first.split(" ", 2)
    headers = [(k.strip(), v.strip()) for k, v in (line.split(":", 1) for line in lines if ":" in line)]
    return Request(method, target, version, headers, rest)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (sink, source):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class EngineProxy:
    """A unix-socket Engine API that forwards to `engine_socket` and redirects ECR pushes (see the module)."""

    def __init__(self, socket_path: str, engine_socket: str, registry: str, ecr: Any) -> None:
        self.socket_path = socket_path
        self.engine_socket = engine_socket
        self.registry = registry  # host:port of the loopback registry
        self.ecr = ecr  # a boto3 ECR client of the harness (the registry's own side of ECR)
        self.pushes: list[str] = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.serve(self.request)

        self._server = socketserver.ThreadingUnixStreamServer(socket_path, Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> EngineProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve(self, client: socket.socket) -> None:
        """Handle one client connection: one request, then close (keep-alive is turned off upstream)."""
        request = read_request(client)
        if request is None:
            return
        match = PUSH_PATH.match(urlsplit(request.target).path) if request.method == "POST" else None
        name = unquote(match.group("name")) if match else ""
        if match and ECR_HOST.match(name.split("/", 1)[0]):
            tag = parse_qs(urlsplit(request.target).query).get("tag", ["latest"])[0]
            self._respond_stream(client, self._push_to_ecr(name, tag, request.header("X-Registry-Auth")))
            return
        self._forward(client, request)

    def _forward(self, client: socket.socket, request: Request) -> None:
        headers = request.headers
        if request.header("Upgrade") is None:  # a hijacked stream (attach, exec) keeps its own Connection header
            headers = [(k, v) for k, v in headers if k.lower() != "connection"] + [("Connection", "close")]
        engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        engine.connect(self.engine_socket)
        engine.sendall(request.head_bytes(headers) + request.rest)
        upstream = threading.Thread(target=_pump, args=(client, engine), daemon=True)
        upstream.start()
        _pump(engine, client)
        upstream.join(timeout=5)
        engine.close()

    @staticmethod
    def _respond_stream(client: socket.socket, lines: Iterator[dict[str, Any]]) -> None:
        # Chunked, one JSON message a chunk, as the engine streams progress (clients decode it chunk by chunk).
        client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                       b"Connection: close\r\n\r\n")
        for line in lines:
            data = json.dumps(line).encode() + b"\r\n"
            client.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        client.sendall(b"0\r\n\r\n")
        client.shutdown(socket.SHUT_RDWR)

    def _push_to_ecr(self, name: str, tag: str, auth_header: str | None) -> Iterator[dict[str, Any]]:
        import docker  # the harness's own engine client (the real socket)

        host, repository = name.split("/", 1)
        account = ECR_HOST.match(host).group("account")  # type: ignore[union-attr]
        problem = self._refusal(account, repository, tag, auth_header)
        if problem:
            yield {"errorDetail": {"message": problem}, "error": problem}
            return
        engine = docker.APIClient(base_url=f"unix://{self.engine_socket}")
        local = f"{self.registry}/{repository}"
        engine.tag(f"{name}:{tag}", local, tag)
        try:
            for line in engine.push(local, tag=tag, stream=True, decode=True):
                if "error" in line:
                    yield line
                    return
                yield json.loads(json.dumps(line).replace(local, name))
        finally:
            engine.remove_image(f"{local}:{tag}", noprune=True)
        request = urllib.request.Request(f"http://{self.registry}/v2/{repository}/manifests/{tag}",
                                         headers={"Accept": MANIFEST_V2})
        with urllib.request.urlopen(request, timeout=30) as response:
            manifest = response.read().decode()
            media_type = response.headers.get("Content-Type", MANIFEST_V2)
        self.ecr.put_image(registryId=account, repositoryName=repository, imageManifest=manifest,
                           imageManifestMediaType=media_type, imageTag=tag)
        self.pushes.append(f"{name}:{tag}")

    def _refusal(self, account: str, repository: str, tag: str, auth_header: str | None) -> str | None:
        """Why ECR would refuse this push, or None."""
        try:
            auth = json.loads(base64.urlsafe_b64decode((auth_header or "") + "=" * (-len(auth_header or "") % 4)))
        except ValueError:
            auth = {}
        token = self.ecr.get_authorization_token(registryIds=[account])["authorizationData"][0]["authorizationToken"]
        user, password = base64.b64decode(token).decode().split(":", 1)
        if auth.get("username") != user or auth.get("password") != password:
            return "no basic auth credentials"
        try:
            repo = self.ecr.describe_repositories(registryId=account, repositoryNames=[repository])["repositories"][0]
        except self.ecr.exceptions.RepositoryNotFoundException:
            return f"name unknown: The repository with name '{repository}' does not exist in the registry with id '{account}'"
        if repo.get("imageTagMutability") == "IMMUTABLE":
            found = self.ecr.batch_get_image(registryId=account, repositoryName=repository,
                                             imageIds=[{"imageTag": tag}]).get("images")
            if found:
                return f"tag invalid: The image tag '{tag}' already exists in the '{repository}' repository and cannot be overwritten because the repository is immutable."
        return None
