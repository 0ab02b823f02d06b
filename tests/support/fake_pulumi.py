"""A stand-in `pulumi` for scripts/deploy-monitoring.sh that behaves as the real CLI does for the
commands the script uses, read in github:pulumi/pulumi:

- `stack select NAME [--create] [--secrets-provider P]` (pkg/cmd/pulumi/stack/stack_select.go): an
  existing stack is selected (--secrets-provider ignored); a missing one fails with "no stack named
  'NAME' found" unless --create, which initialises it. "default" is the backend's provider: the
  service on Pulumi Cloud, the passphrase on a DIY (file://, s3://...) backend.
- The passphrase provider (pkg/secrets/passphrase/manager.go): PULUMI_CONFIG_PASSPHRASE (set, even
  empty) or PULUMI_CONFIG_PASSPHRASE_FILE (non-empty), else, non-interactive, "passphrase must be
  set with ...". A new stack gets `encryptionsalt: v1:<salt>:<"pulumi" encrypted>` in its stack
  file; values are `v1:<nonce>:<AES-256-GCM>` under PBKDF2-SHA256(passphrase, salt, 1e6)
  (sdk/go/common/resource/config/crypt.go). A wrong passphrase fails "incorrect passphrase".
- `config set [--path] [--secret] KEY [VALUE]` (pkg/cmd/pulumi/config/config.go, configSetCmd.Run):
  the value comes from stdin when not given and stdin is not a terminal (trailing newline removed);
  keys without a namespace get the project's; with --path, `a.b[i]` replaces element i, i == len
  appends, i > len fails "array index out of range", "true"/"false" and integers become booleans
  and numbers (sdk/go/common/resource/config/map.go Map.Set, object.go object.Set). The stack file
  Pulumi.<stack>.yaml in the working directory is rewritten.
- `config get [--path] [--json] KEY`: a missing key fails "configuration key 'K' not found for stack
  'S'"; --json prints {"value": raw, "objectValue": parsed object, "secret": bool} indented.
- `whoami --json`: {"user", "url"}; the backend is PULUMI_BACKEND_URL (default Pulumi Cloud).
- `preview` / `up`: need the stack (and its passphrase); recorded, nothing deployed.

Errors print "error: ..." on stderr and exit 255, as the CLI does. Backend state (which stacks exist,
the selected one) persists in $PULUMI_HOME/fake-backend.json, so re-runs see earlier runs; every
invocation's argv is appended to $PULUMI_HOME/calls.log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HOME = Path(os.environ["PULUMI_HOME"])
BACKEND_FILE = HOME / "fake-backend.json"
CLOUD = "https://api.pulumi.com"


class CliError(Exception):
    pass


def backend_url() -> str:
    return os.environ.get("PULUMI_BACKEND_URL") or CLOUD


def load_backend() -> dict[str, Any]:
    state = json.loads(BACKEND_FILE.read_text()) if BACKEND_FILE.exists() else {}
    state.setdefault(backend_url(), {"stacks": {}, "current": None})
    return state


def save_backend(state: dict[str, Any]) -> None:
    BACKEND_FILE.write_text(json.dumps(state, indent=2))


def project_name() -> str:
    return yaml.safe_load(Path("Pulumi.yaml").read_text())["name"]


def stack_file(stack: str) -> Path:
    return Path(f"Pulumi.{stack}.yaml")


def load_stack_file(stack: str) -> dict[str, Any]:
    path = stack_file(stack)
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def save_stack_file(stack: str, document: dict[str, Any]) -> None:
    stack_file(stack).write_text(yaml.safe_dump(document, sort_keys=False))


def passphrase() -> str:
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ:
        return os.environ["PULUMI_CONFIG_PASSPHRASE"]
    if os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        return Path(os.environ["PULUMI_CONFIG_PASSPHRASE_FILE"]).read_text()
    raise CliError("passphrase must be set with PULUMI_CONFIG_PASSPHRASE or "
                   "PULUMI_CONFIG_PASSPHRASE_FILE environment variables")


def _key(phrase: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", phrase.encode(), salt, 1_000_000, 32)


def _encrypt(key: bytes, plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"


def _decrypt(key: bytes, ciphertext: str) -> str:
    _, nonce, sealed = ciphertext.split(":")
    return AESGCM(key).decrypt(base64.b64decode(nonce), base64.b64decode(sealed), None).decode()


def uses_passphrase(stack: str, backend: dict[str, Any]) -> bool:
    return backend[backend_url()]["stacks"][stack]["secretsProvider"] == "passphrase"


def crypter_key(stack: str) -> bytes:
    salt_state = load_stack_file(stack).get("encryptionsalt")
    if not salt_state:
        raise CliError("passphrase stack without encryptionsalt")
    return salt_key(salt_state)


def salt_key(salt_state: str) -> bytes:
    """The key for a stack's `encryptionsalt`, checked by decrypting its "pulumi" message."""
    _, salt, check = salt_state.split(":", 2)
    key = _key(passphrase(), base64.b64decode(salt))
    try:
        _decrypt(key, check)
    except Exception:  # noqa: BLE001 - AES-GCM says only "InvalidTag"
        raise CliError("incorrect passphrase") from None
    return key


def encrypt(stack: str, backend: dict[str, Any], value: str) -> str:
    if uses_passphrase(stack, backend):
        return _encrypt(crypter_key(stack), value)
    # The service returns opaque base64 ciphertext; this stand-in's is as opaque.
    return base64.b64encode(os.urandom(16) + hashlib.sha256(value.encode()).digest()).decode()


def stack_select(args: list[str], backend: dict[str, Any]) -> None:
    create, provider, names = False, "default", []
    while args:
        arg = args.pop(0)
        if arg in ("--create", "-c"):
            create = True
        elif arg == "--secrets-provider":
            provider = args.pop(0)
        elif arg.startswith("--secrets-provider="):
            provider = arg.split("=", 1)[1]
        else:
            names.append(arg)
    if len(names) != 1:
        raise CliError("no stack selected; specify a stack name with --stack")
    name = names[0]
    stacks = backend[backend_url()]["stacks"]
    if name not in stacks:
        if not create:
            raise CliError(f"no stack named '{name}' found")
        if provider == "default":
            provider = "service" if backend_url().startswith("https://") else "passphrase"
        if provider == "passphrase":
            document = load_stack_file(name)
            if "encryptionsalt" in document:
                salt_key(document["encryptionsalt"])
            else:
                salt = os.urandom(8)
                check = _encrypt(_key(passphrase(), salt), "pulumi")
                document = {"encryptionsalt": f"v1:{base64.b64encode(salt).decode()}:{check}", **document}
                save_stack_file(name, document)
        stacks[name] = {"secretsProvider": provider}
        print(f"Created stack '{name}'")
    backend[backend_url()]["current"] = name


PATH_PART = re.compile(r'\.?([A-Za-z_][\w-]*)|\[(\d+)\]|\["([^"]+)"\]')


def parse_path(text: str) -> list[str | int]:
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = PATH_PART.match(text, position)
        if match is None or (position == 0 and text.startswith(".")):
            raise CliError(f"invalid configuration key: invalid property path {text!r}")
        name, index, quoted = match.groups()
        parts.append(int(index) if index is not None else (name or quoted))
        position = match.end()
    return parts


def full_key(name: str) -> str:
    return name if ":" in name else f"{project_name()}:{name}"


def path_value(raw: str) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw


def set_in(container: Any, path: list[str | int], value: Any, prefix: str) -> Any:
    head, rest = path[0], path[1:]
    if container is None or (not isinstance(container, (list, dict))):
        container = [] if isinstance(head, int) else {}
    if isinstance(container, list):
        if not isinstance(head, int):
            raise CliError(f"{prefix}: key for an array must be an int")
        if head > len(container):
            raise CliError(f"{prefix}[{head}]: array index out of range")
        if head == len(container):
            container.append(None)
        container[head] = set_in(container[head], rest, value, f"{prefix}[{head}]") if rest else value
    else:
        if isinstance(head, int):
            raise CliError(f"{prefix}: key for a map must be a string")
        container[head] = set_in(container.get(head), rest, value, f"{prefix}.{head}") if rest else value
    return container


def get_in(value: Any, path: list[str | int]) -> tuple[bool, Any]:
    for part in path:
        if isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return False, None
    return True, value


def current_stack(options: dict[str, Any], backend: dict[str, Any]) -> str:
    stack = options.get("stack") or backend[backend_url()]["current"]
    if not stack:
        raise CliError("no stack selected; specify a stack name with --stack")
    if stack not in backend[backend_url()]["stacks"]:
        raise CliError(f"no stack named '{stack}' found")
    return stack


def split_options(args: list[str]) -> tuple[dict[str, Any], list[str]]:
    options: dict[str, Any] = {}
    positional: list[str] = []
    while args:
        arg = args.pop(0)
        if arg in ("--stack", "-s"):
            options["stack"] = args.pop(0)
        elif arg.startswith("--"):
            options[arg[2:]] = True
        else:
            positional.append(arg)
    return options, positional


def config_set(args: list[str], backend: dict[str, Any]) -> None:
    options, positional = split_options(args)
    stack = current_stack(options, backend)
    if len(positional) == 2:
        value = positional[1]
    elif not sys.stdin.isatty():
        value = sys.stdin.read().removesuffix("\n")
    else:
        raise CliError("config value must be specified in non-interactive mode")
    document = load_stack_file(stack)
    config = document.setdefault("config", {})
    key = positional[0]
    if options.get("secret"):
        stored: Any = {"secure": encrypt(stack, backend, value)}
    else:
        stored = path_value(value) if options.get("path") else value
    if options.get("path"):
        namespace, _, rest = key.rpartition(":")
        path = parse_path(rest)
        top = f"{namespace}:{path[0]}" if namespace else full_key(str(path[0]))
        if len(path) == 1:
            config[top] = value if not options.get("secret") else stored
        else:
            config[top] = set_in(config.get(top), path[1:], stored, str(path[0]))
    else:
        config[full_key(key)] = stored
    save_stack_file(stack, document)


def config_get(args: list[str], backend: dict[str, Any]) -> None:
    options, positional = split_options(args)
    stack = current_stack(options, backend)
    config = load_stack_file(stack).get("config") or {}
    key = positional[0]
    if options.get("path"):
        namespace, _, rest = key.rpartition(":")
        path = parse_path(rest)
        top = f"{namespace}:{path[0]}" if namespace else full_key(str(path[0]))
        found, value = get_in(config.get(top), path[1:]) if top in config else (False, None)
    else:
        found, value = (full_key(key) in config), config.get(full_key(key))
    if not found:
        raise CliError(f"configuration key '{key}' not found for stack '{stack}'")
    secret = isinstance(value, dict) and set(value) == {"secure"}
    if secret:
        value = _decrypt(crypter_key(stack), value["secure"]) if uses_passphrase(stack, backend) else "[secret]"
    raw = value if isinstance(value, str) else json.dumps(value)
    if options.get("json"):
        document: dict[str, Any] = {"value": raw}
        if isinstance(value, (dict, list)):
            document["objectValue"] = value
        document["secret"] = secret
        print(json.dumps(document, indent=2))
    else:
        print(raw)


def secure_values(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return [(path, value["secure"])]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in secure_values(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in secure_values(v, f"{path}[{i}]")]
    return []


def deploy(args: list[str], backend: dict[str, Any]) -> None:
    """The engine decrypts the whole config first (pkg/engine/update.go: target.Config.Decrypt)."""
    options, _ = split_options(args)
    stack = current_stack(options, backend)
    config = load_stack_file(stack).get("config") or {}
    secrets = [s for key, value in config.items() for s in secure_values(value, key)]
    key = crypter_key(stack) if uses_passphrase(stack, backend) else None
    for where, ciphertext in secrets:
        try:
            if key is not None:
                _decrypt(key, ciphertext)
            else:
                base64.b64decode(ciphertext, validate=True)
        except Exception:  # noqa: BLE001 - any failure is the CLI's "failed to decrypt"
            raise CliError(f"failed to decrypt config key {where}") from None


def main(argv: list[str]) -> int:
    HOME.mkdir(parents=True, exist_ok=True)
    with (HOME / "calls.log").open("a") as log:
        log.write(shlex.join(argv) + "\n")
    backend = load_backend()
    try:
        match argv:
            case ["whoami", *_]:
                print(json.dumps({"user": "deployer", "url": backend_url()}, indent=2))
            case ["stack", "select", *rest]:
                stack_select(list(rest), backend)
            case ["config", "set", *rest]:
                config_set(list(rest), backend)
            case ["config", "get", *rest]:
                config_get(list(rest), backend)
            case ["preview" | "up", *rest]:
                deploy(list(rest), backend)
            case _:
                raise CliError(f"the stand-in does not implement: pulumi {shlex.join(argv)}")
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 255
    save_backend(backend)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
