"""`secure:` values of a stack file, checked and decrypted the way the Pulumi CLI does.

Which secrets manager the CLI uses (pkg/cmd/pulumi/stack/secrets.go, GetSecretsManager): a
`secretsprovider` other than passphrase/default is a cloud KMS provider; otherwise a stack file
with `encryptionsalt` uses the passphrase manager; otherwise the backend's default (Pulumi Cloud:
the service manager, whose ciphertext is base64, pkg/secrets/service/manager.go).

Passphrase manager (pkg/secrets/passphrase/manager.go, sdk/go/common/resource/config/crypt.go):
`encryptionsalt: v1:<base64 salt>:v1:<nonce>:<ciphertext of "pulumi">`; the key is PBKDF2-SHA256
of the passphrase and the salt, 1,000,000 iterations, 32 bytes; values are
`v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext and tag>`, no associated data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PBKDF2_ITERATIONS = 1_000_000
KEY_BYTES = 32
NONCE_BYTES = 12
# The CLI's own words (pkg/secrets/passphrase/manager.go, errorCrypter.DecryptValue).
INCORRECT_PASSPHRASE = (
    "failed to decrypt: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the "  # noqa: S105 - a message
    "correct passphrase or set PULUMI_CONFIG_PASSPHRASE_FILE to a file containing the passphrase")


class SecureValueError(Exception):
    """A `secure:` value or secrets setting the CLI would refuse: one line with the fix."""


def _b64(text: str) -> Optional[bytes]:
    """Go's base64.StdEncoding.DecodeString: standard alphabet, padding required."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def passphrase_key(passphrase: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, PBKDF2_ITERATIONS, KEY_BYTES)


def split_symmetric(value: str) -> Optional[tuple[bytes, bytes]]:
    """(nonce, ciphertext) of a `v1:<nonce>:<ciphertext>` value, None when malformed."""
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        return None
    nonce, ciphertext = _b64(parts[1]), _b64(parts[2])
    if nonce is None or ciphertext is None or len(nonce) != NONCE_BYTES:
        return None
    return nonce, ciphertext


def decrypt_symmetric(key: bytes, value: str) -> Optional[str]:
    parts = split_symmetric(value)
    if parts is None:
        return None
    try:
        return AESGCM(key).decrypt(parts[0], parts[1], None).decode()
    except InvalidTag:
        return None


def read_passphrase(environ: Mapping[str, str]) -> Optional[str]:
    """PULUMI_CONFIG_PASSPHRASE as is (even empty), else the trimmed PULUMI_CONFIG_PASSPHRASE_FILE."""
    if "PULUMI_CONFIG_PASSPHRASE" in environ:
        return environ["PULUMI_CONFIG_PASSPHRASE"]
    path = environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if path:
        try:
            return Path(os.path.abspath(path)).read_text().strip()
        except OSError as error:
            raise SecureValueError(f"unable to read PULUMI_CONFIG_PASSPHRASE_FILE: {error.strerror}") from None
    return None


class StackSecrets:
    """Decrypts (or, without the means offline, checks the form of) one stack file's secure values."""

    def __init__(self, stack_doc: Mapping[str, object], environ: Mapping[str, str]) -> None:
        self.provider = str(stack_doc.get("secretsprovider") or "")
        self.salt = str(stack_doc.get("encryptionsalt") or "")
        self.encrypted_key = stack_doc.get("encryptedkey")
        self.key: Optional[bytes] = None
        if self.kind == "cloud" and not self.encrypted_key:
            raise SecureValueError(f"secretsprovider {self.provider} but no encryptedkey: the CLI cannot decrypt "
                                   "any secret; fix: `pulumi stack change-secrets-provider <provider>`")
        if self.kind == "passphrase":
            self.key = self._unlock(read_passphrase(environ))

    @property
    def kind(self) -> str:
        if self.provider not in ("", "default", "passphrase"):
            return "cloud"
        return "passphrase" if self.salt else "service"

    def _unlock(self, passphrase: Optional[str]) -> Optional[bytes]:
        parts = self.salt.split(":", 2)
        salt = _b64(parts[1]) if len(parts) == 3 and parts[0] == "v1" else None
        if salt is None or split_symmetric(parts[2]) is None:
            raise SecureValueError("encryptionsalt is malformed (expected v1:<salt>:v1:<nonce>:<ciphertext>); "
                                   "fix: restore the line `pulumi config set --secret` wrote")
        if passphrase is None:
            return None
        key = passphrase_key(passphrase, salt)
        if decrypt_symmetric(key, parts[2]) != "pulumi":
            raise SecureValueError(INCORRECT_PASSPHRASE)
        return key

    def plaintext(self, key: str, value: object) -> Optional[str]:
        """The decrypted value, None when it cannot be decrypted offline; refuses what the CLI refuses."""
        fix = f"fix: `pulumi config set --secret {key} <value>`"
        if not isinstance(value, str):
            raise SecureValueError(f"config {key}: secure value is not a string; {fix}")
        if self.kind == "service":
            if _b64(value) is None:
                why = ("passphrase-style ciphertext (v1:<nonce>:<ciphertext>) but the stack file has no "
                       "encryptionsalt, so the CLI would make a new salt and fail to decrypt it"
                       if split_symmetric(value) is not None
                       else "not base64 ciphertext of the Pulumi Cloud secrets service")
                raise SecureValueError(f"config {key}: {why}; {fix}")
            return None
        if split_symmetric(value) is None:
            raise SecureValueError(f"config {key}: malformed ciphertext (expected v1:<nonce>:<ciphertext>); {fix}")
        if self.key is None:
            return None
        plain = decrypt_symmetric(self.key, value)
        if plain is None:
            raise SecureValueError(f"config {key}: failed to decrypt: the ciphertext was not made with this "
                                   f"stack's encryptionsalt and passphrase; {fix}")
        return plain
