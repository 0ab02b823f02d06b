"""`secure:` values in stack files, checked and decrypted as the Pulumi CLI does.

The ciphertext here is made the way the CLI makes it (pulumi/pulumi at 1b59498:
pkg/secrets/passphrase/manager.go NewPassphraseSecretsManager - an 8-byte salt, the state
`v1:<salt>:<ciphertext of "pulumi">`; sdk/go/common/resource/config/crypt.go
NewSymmetricCrypterFromPassphrase - PBKDF2-SHA256, 1,000,000 iterations, 32-byte key - and
symmetricCrypter.EncryptValue - AES-256-GCM, 12-byte nonce, `v1:<nonce>:<ciphertext>` in base64).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from preflight.program.engine import run_program
from preflight.program.stack_files import ProgramError, load_stack_files
from stackconfig.secrets import OPAQUE_SECRET
from tests.support.stack import PAGERDUTY, REPO, SLACK, preflight_cli, raw

PASSPHRASE = "correct horse battery staple"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class CliPassphraseCrypter:
    """What `pulumi stack init --secrets-provider passphrase` and `pulumi config set --secret` write."""

    def __init__(self, passphrase: str) -> None:
        salt = os.urandom(8)
        self.key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, 1_000_000, 32)
        self.encryptionsalt = f"v1:{_b64(salt)}:{self.encrypt('pulumi')}"

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        return f"v1:{_b64(nonce)}:{_b64(AESGCM(self.key).encrypt(nonce, plaintext.encode(), None))}"


@pytest.fixture(scope="module")
def crypter() -> CliPassphraseCrypter:
    return CliPassphraseCrypter(PASSPHRASE)


def _program(tmp_path: Path, edit) -> Path:
    tmp_path.mkdir(exist_ok=True)
    doc = yaml.safe_load((REPO / "Pulumi.production.yaml").read_text())
    edit(doc)
    (tmp_path / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((REPO / "__main__.py").read_text())
    (tmp_path / "Pulumi.production.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def _with_passphrase_secrets(crypter: CliPassphraseCrypter, salt: bool = True):
    def edit(doc: dict) -> None:
        if salt:
            doc["encryptionsalt"] = crypter.encryptionsalt
        doc["config"]["hasivu-monitoring:pagerdutyEndpoint"] = {"secure": crypter.encrypt(PAGERDUTY)}
        doc["config"]["hasivu-monitoring:slackWebhookUrl"] = {"secure": crypter.encrypt(SLACK)}
    return edit


def test_passphrase_secrets_are_decrypted_and_reach_the_program_as_secrets(tmp_path, crypter):
    program = _program(tmp_path, _with_passphrase_secrets(crypter))
    files = load_stack_files(program, "production", {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE})
    assert files.config["hasivu-monitoring:pagerdutyEndpoint"] == PAGERDUTY
    assert files.config["hasivu-monitoring:slackWebhookUrl"] == SLACK
    assert set(files.secret_keys) == {"hasivu-monitoring:pagerdutyEndpoint", "hasivu-monitoring:slackWebhookUrl"}
    assert files.unset_secrets == ()
    run = run_program(files, preview=False)
    [pagerduty] = [r for r in run.registrations if r.name == "critical-alerts-pagerduty"]
    endpoint = raw(pagerduty)["endpoint"]
    # The decrypted endpoint is the subscription's, still a secret (Pulumi's secret sentinel wraps it).
    assert endpoint["value"] == PAGERDUTY
    assert endpoint["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"


def test_the_passphrase_file_is_read_and_trimmed_like_the_cli(tmp_path, crypter):
    program = _program(tmp_path, _with_passphrase_secrets(crypter))
    phrase = tmp_path / "passphrase.txt"
    phrase.write_text(PASSPHRASE + "\n")
    files = load_stack_files(program, "production", {"PULUMI_CONFIG_PASSPHRASE_FILE": str(phrase)})
    assert files.config["hasivu-monitoring:slackWebhookUrl"] == SLACK


def test_a_wrong_passphrase_fails_like_the_cli(tmp_path, crypter):
    program = _program(tmp_path, _with_passphrase_secrets(crypter))
    with pytest.raises(ProgramError) as refused:
        load_stack_files(program, "production", {"PULUMI_CONFIG_PASSPHRASE": "not it"})
    assert "failed to decrypt: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE" in str(refused.value)


def test_without_a_passphrase_the_offline_run_keeps_them_opaque(tmp_path, crypter):
    program = _program(tmp_path, _with_passphrase_secrets(crypter))
    files = load_stack_files(program, "production", {})
    assert files.config["hasivu-monitoring:pagerdutyEndpoint"] == OPAQUE_SECRET
    assert files.unset_secrets == ()


def test_a_value_encrypted_under_another_salt_fails_to_decrypt(tmp_path, crypter):
    other = CliPassphraseCrypter(PASSPHRASE)

    def edit(doc: dict) -> None:
        _with_passphrase_secrets(crypter)(doc)
        doc["config"]["hasivu-monitoring:slackWebhookUrl"] = {"secure": other.encrypt(SLACK)}

    with pytest.raises(ProgramError) as refused:
        load_stack_files(_program(tmp_path, edit), "production", {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE})
    assert "config hasivu-monitoring:slackWebhookUrl: failed to decrypt" in str(refused.value)


@pytest.mark.parametrize(("salt", "value", "why"), [
    # The placeholder the repo used to commit: base64 fails (service backend), and there is no salt.
    (False, "v1:set-by-deploy-script", "not base64 ciphertext of the Pulumi Cloud secrets service"),
    # Real passphrase ciphertext, but its encryptionsalt was not committed.
    (False, "PASSPHRASE", "passphrase-style ciphertext (v1:<nonce>:<ciphertext>) but the stack file has no "
                          "encryptionsalt"),
    (True, "v1:set-by-deploy-script", "malformed ciphertext (expected v1:<nonce>:<ciphertext>)"),
])
def test_what_the_cli_cannot_decrypt_is_refused_with_the_fix(tmp_path, crypter, salt, value, why):
    def edit(doc: dict) -> None:
        if salt:
            doc["encryptionsalt"] = crypter.encryptionsalt
        secure = crypter.encrypt(PAGERDUTY) if value == "PASSPHRASE" else value
        doc["config"]["hasivu-monitoring:pagerdutyEndpoint"] = {"secure": secure}

    with pytest.raises(ProgramError) as refused:
        load_stack_files(_program(tmp_path, edit), "production", {})
    message = str(refused.value)
    assert "\n" not in message
    assert f"config hasivu-monitoring:pagerdutyEndpoint: {why}" in message
    assert "fix: `pulumi config set --secret hasivu-monitoring:pagerdutyEndpoint <value>`" in message


def test_service_backend_ciphertext_is_accepted_and_opaque(tmp_path):
    def edit(doc: dict) -> None:
        doc["config"]["hasivu-monitoring:pagerdutyEndpoint"] = {"secure": _b64(os.urandom(40))}

    files = load_stack_files(_program(tmp_path, edit), "production", {})
    assert files.config["hasivu-monitoring:pagerdutyEndpoint"] == OPAQUE_SECRET
    assert files.unset_secrets == ("hasivu-monitoring:slackWebhookUrl",)


@pytest.mark.slow
def test_the_committed_stack_runs_offline_and_lists_the_unset_secrets_as_blocking():
    text = (REPO / "Pulumi.production.yaml").read_text()
    assert "secure:" not in text and "set-by-deploy-script" not in text
    result = preflight_cli("--stack", "production", "--json", "--no-policy")
    assert result.returncode == 0, result.stderr
    blocking = json.loads(result.stdout)["secretsBlockingPreview"]
    assert [b["key"] for b in blocking] == ["hasivu-monitoring:pagerdutyEndpoint", "hasivu-monitoring:slackWebhookUrl"]
    assert blocking[0]["command"].startswith("pulumi config set --secret pagerdutyEndpoint")


def test_a_cloud_kms_provider_needs_its_encrypted_key_and_symmetric_values(tmp_path, crypter):
    # pkg/secrets/cloud/manager.go: the stack file keeps the KMS-encrypted data key (`encryptedkey`);
    # values are symmetric `v1:<nonce>:<ciphertext>` under that data key, undecryptable offline.
    def provider(encrypted_key: bool, value: str):
        def edit(doc: dict) -> None:
            doc["secretsprovider"] = "awskms://alias/hasivu-pulumi?region=ap-south-1"
            if encrypted_key:
                doc["encryptedkey"] = _b64(os.urandom(64))
            doc["config"]["hasivu-monitoring:pagerdutyEndpoint"] = {"secure": value}
        return edit

    files = load_stack_files(_program(tmp_path / "ok", provider(True, crypter.encrypt(PAGERDUTY))), "production", {})
    assert files.config["hasivu-monitoring:pagerdutyEndpoint"] == OPAQUE_SECRET
    with pytest.raises(ProgramError, match="no encryptedkey"):
        load_stack_files(_program(tmp_path / "nokey", provider(False, crypter.encrypt(PAGERDUTY))), "production", {})
    with pytest.raises(ProgramError, match="malformed ciphertext"):
        load_stack_files(_program(tmp_path / "bad", provider(True, _b64(b"service-style"))), "production", {})
