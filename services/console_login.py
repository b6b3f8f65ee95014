"""The console's login: a password set at deploy, kept only as a scrypt hash in the stack's private bucket.

`facegate deploy` stores it (a password given through FACEGATE_CONSOLE_PASSWORD or --console-password-file, or
one it generates on the first deploy and hands to the developer in a 0600 file); `facegate console` reads the hash
and checks what a browser sends against it. The plain password is never stored by the stack, never logged, and
never shown again after the first deploy wrote it to the developer's file.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from facegate_contract import error_code, write_private_text
from facegate_contract.settings import ENV_CONSOLE_PASSWORD, cli_settings
from services.changes import Action, Change

LOGIN_KEY = "console/login.json"  # outside clips/ and models/: the Lambda role cannot read it
PASSWORD_ENV = ENV_CONSOLE_PASSWORD
PASSWORD_FILE = "console-password"  # written beside the outputs file when deploy generates the password
MIN_PASSWORD_CHARS = 8
# scrypt at OWASP's current minimum (N=2^17, r=8, p=1): 128 MiB of memory per check, a guess costs an attacker the
# same. Records keep their parameters, so older ones (N=2^14) still verify until the next deploy re-hashes them.
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES = 2 ** 17, 8, 1, 32
SCRYPT_MAX_MEM = 1024 ** 3  # a stored record asking for more memory than this is refused, not computed


class LoginError(ValueError):
    """A password that is too short, or a login record that cannot be read."""

    friendly = True
    exit_code = 2


@dataclass(frozen=True)
class LoginRecord:
    """What the stack keeps of the console password: its scrypt hash, salt and parameters."""

    scheme: str
    n: int
    r: int
    p: int
    salt: str  # base64
    hash: str  # base64
    set_at: str

    @property
    def fingerprint(self) -> str:
        """Short, non-secret id of this password: sessions made under an older password stop working."""
        return hashlib.sha256(f"{self.salt}:{self.hash}".encode()).hexdigest()[:16]

    def verify(self, password: str) -> bool:
        """True when `password` is the one this record was made from (constant-time compare)."""
        if self.scheme != "scrypt":
            return False
        derived = _scrypt(password, base64.b64decode(self.salt), self.n, self.r, self.p, len(base64.b64decode(self.hash)))
        return hmac.compare_digest(derived, base64.b64decode(self.hash))

    @property
    def current(self) -> bool:
        """True when made with today's scheme and parameters (else the next deploy given the password re-hashes)."""
        return (self.scheme, self.n, self.r, self.p) == ("scrypt", SCRYPT_N, SCRYPT_R, SCRYPT_P)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoginRecord:
        try:
            return cls(scheme=str(data["scheme"]), n=int(data["n"]), r=int(data["r"]), p=int(data["p"]),
                       salt=str(data["salt"]), hash=str(data["hash"]), set_at=str(data.get("set_at", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise LoginError(f"the console login record is malformed ({exc}): set the password again with "
                             f"{PASSWORD_ENV}=... facegate deploy") from exc


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # OpenSSL needs 128*r*(N+2) bytes for V plus 128*r*p for B; its default cap (32 MiB) is below N=2^17.
    needed = 128 * r * (n + 2) + 128 * r * p
    if needed > SCRYPT_MAX_MEM:
        raise LoginError(f"the console login record asks scrypt for {needed >> 20} MiB: set the password again")
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=needed + 1024 ** 2)


def check_password(password: str) -> None:
    """Raise LoginError for a password too short to set."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise LoginError(f"the console password needs at least {MIN_PASSWORD_CHARS} characters")


def hash_password(password: str, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> LoginRecord:
    """A new record for `password` (fresh random salt); the parameters are today's unless given."""
    check_password(password)
    salt = secrets.token_bytes(16)
    derived = _scrypt(password, salt, n, r, p, KEY_BYTES)
    return LoginRecord("scrypt", n, r, p, base64.b64encode(salt).decode(),
                       base64.b64encode(derived).decode(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def generate_password() -> str:
    """A random password for a first deploy that was given none (about 128 bits)."""
    return secrets.token_urlsafe(16)


def load_login(s3: Any, bucket: str) -> LoginRecord | None:
    """The stored record, or None when no console password was set yet."""
    try:
        body = s3.get_object(Bucket=bucket, Key=LOGIN_KEY)["Body"].read()
    except ClientError as exc:
        if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise LoginError(f"the console login record is not JSON ({exc})") from exc
    return LoginRecord.from_json(data)


def store_login(s3: Any, bucket: str, record: LoginRecord, only_if_absent: bool = False) -> None:
    """Write the record (the bucket encrypts it at rest and is private); `only_if_absent` makes it an S3
    conditional write that fails with 412 PreconditionFailed rather than replace a record already there."""
    condition = {"IfNoneMatch": "*"} if only_if_absent else {}
    s3.put_object(Bucket=bucket, Key=LOGIN_KEY, Body=json.dumps(record.to_json()).encode(),
                  ContentType="application/json", **condition)


def ensure_login(s3: Any, bucket: str, password: str | None) -> tuple[Change, str | None]:
    """Converge the console login: a given password replaces a different one; with none given, a stored one is
    kept and a missing one is generated. Returns the change and the generated password (None unless generated).

    Credentials without s3:ListBucket get 403 AccessDenied, not 404, for a record that is not there: then the record
    may or may not exist, and a generated password is only written where none is (a conditional write)."""
    try:
        current, readable = load_login(s3, bucket), True
    except ClientError as exc:
        if error_code(exc) not in ("AccessDenied", "403"):
            raise
        current, readable = None, False
    if password is not None:
        same = current is not None and current.verify(password)
        if current is not None and same and current.current:
            return Change("console login", LOGIN_KEY, Action.UNCHANGED, "scrypt hash"), None
        store_login(s3, bucket, hash_password(password))  # what the user asked for, whatever was stored
        if not readable:
            return Change("console login", LOGIN_KEY, Action.UPDATED,
                          "password set (scrypt hash stored; the stored one could not be read to compare)"), None
        action = Action.CREATED if current is None else Action.UPDATED
        detail = "same password re-hashed (current scrypt parameters)" if same else "password set (scrypt hash stored)"
        return Change("console login", LOGIN_KEY, action, detail), None
    if current is not None:
        return Change("console login", LOGIN_KEY, Action.UNCHANGED, "scrypt hash"), None
    generated = generate_password()
    try:
        store_login(s3, bucket, hash_password(generated), only_if_absent=not readable)
    except ClientError as exc:
        if readable or error_code(exc) != "PreconditionFailed":
            raise
        raise LoginError(f"a console login is stored at s3://{bucket}/{LOGIN_KEY} but these credentials may not "
                         f"read it: allow s3:GetObject on it, or replace it with {PASSWORD_ENV}=... facegate deploy"
                         ) from exc
    return Change("console login", LOGIN_KEY, Action.CREATED, "password generated (scrypt hash stored)"), generated


def password_from(file: Path | None, environ: dict[str, str] | None = None) -> str | None:
    """The password deploy was given: the first line of `file`, else FACEGATE_CONSOLE_PASSWORD, else None."""
    if file is not None:
        lines = file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines and lines[0] else None
    return cli_settings(environ).console_password


def write_password_file(path: Path, password: str) -> None:
    """Hand a generated password to the developer: owner-only file, never printed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private_text(path, password + "\n")
