"""Linux's limit on one environment string, which the stack config must fit as PULUMI_CONFIG.

The Python language host puts the whole stack config into the program's environment as
PULUMI_CONFIG (github:pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go, constructConfig:
`json.Marshal` of the config map), and the engine does the same for a policy pack
(pkg/resource/plugin/analyzer_plugin.go constructEnv). Linux refuses to exec a process with any
single argument or environment string longer than MAX_ARG_STRLEN = 32 pages (include/uapi/linux/
binfmts.h), counting `NAME=` and the terminating NUL: execve fails with E2BIG, "argument list too
long", before the program runs a line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Optional

MAX_ARG_STRLEN = 32 * 4096
VARIABLE = "PULUMI_CONFIG"


def go_json(config: Mapping[str, str]) -> str:
    """encoding/json's output for a map[string]string: sorted keys, no spaces, <, > and & escaped."""
    text = json.dumps(dict(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def config_too_large(config: Mapping[str, str]) -> Optional[str]:
    """One line saying why the config cannot travel in PULUMI_CONFIG, or None when it fits."""
    size = len(f"{VARIABLE}=".encode()) + len(go_json(config).encode()) + 1
    if size <= MAX_ARG_STRLEN:
        return None
    key, value = max(config.items(), key=lambda item: len(item[1].encode()))
    return (f"the stack config is {size:,} bytes as {VARIABLE}, over Linux's {MAX_ARG_STRLEN:,}-byte limit for one "
            f"environment string, so `pulumi preview` cannot start the program (argument list too long); "
            f"the largest key is {key} ({len(value.encode()):,} bytes): describe a large fleet with a fleet group "
            "and discovery instead of listing every function (docs/fleets.md)")
