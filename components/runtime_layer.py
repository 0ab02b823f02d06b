"""What a platform Lambda needs to use the runtime library: the library as a Lambda layer, and
the deployment's pseudonym key.

The layer holds `observability/` and its pure-Python dependencies under `python/` (Powertools,
the X-Ray SDK and wrapt without its optional C extension, so one archive serves arm64 and x86_64),
built reproducibly by `lambda_package` with python3.12 bytecode beside the sources (/opt is
read-only, so without it every cold start would compile them again); boto3 comes with the Python
runtime. The pseudonym key is generated once into an SSM SecureString parameter (the default
aws/ssm key; standard parameters are free) and never changed by later deploys; functions get the
parameter's *name* (HASIVU_PSEUDONYM_KEY_PARAMETER) and read the key with decryption at cold start.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Optional

import pulumi
from pulumi_aws import lambda_, ssm

from components.lambda_package import lambda_package
from observability import __version__
from stackconfig.model import StackSettings

# Imported by the library (Powertools' tracer extra: aws-xray-sdk and wrapt) and by its health
# checks (pg8000 with scramp and asn1crypto, redis), all pure Python.
LAYER_DISTRIBUTIONS = ("aws-lambda-powertools", "jmespath", "typing-extensions", "aws-xray-sdk", "wrapt", "pg8000",
                       "scramp", "asn1crypto", "redis")
RUNTIMES = ["python3.12"]
# Where Lambda unpacks a layer; `python/` under it is on the runtime's sys.path.
LAYER_ROOT = "/opt"
ARCHITECTURES = ["arm64", "x86_64"]


def layer_name(environment: str) -> str:
    return f"{environment}-hasivu-observability"


def pseudonym_parameter_name(environment: str) -> str:
    return f"/{environment}/hasivu-monitoring/pseudonym-key"


@dataclasses.dataclass
class RuntimeLayerArgs:
    settings: StackSettings


class RuntimeLayer(pulumi.ComponentResource):
    layer: lambda_.LayerVersion
    pseudonym_key: ssm.Parameter

    def __init__(self, name: str, args: RuntimeLayerArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:RuntimeLayer", name, None, opts)
        settings = args.settings
        built = lambda_package(["observability"], LAYER_DISTRIBUTIONS, prefix="python/", bytecode_root=LAYER_ROOT)
        self.layer = lambda_.LayerVersion(
            f"{name}-layer",
            layer_name=layer_name(settings.environment),
            description=f"hasivu-observability {__version__}: HASIVU's Lambda runtime library (metrics, tracing, "
                        "health, cost)",
            code=built.archive(),
            source_code_hash=built.sha256,
            compatible_runtimes=RUNTIMES,
            compatible_architectures=ARCHITECTURES,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.pseudonym_key = ssm.Parameter(
            f"{name}-pseudonym-key",
            name=pseudonym_parameter_name(settings.environment),
            type="SecureString",
            # Generated here, stored encrypted; ignore_changes keeps the first value, so pseudonyms
            # stay stable across deploys (rotating means deleting the parameter on purpose).
            value=pulumi.Output.secret(secrets.token_urlsafe(32)),
            description="Key of the runtime library's keyed-hash pseudonyms (HASIVU_PSEUDONYM_KEY_PARAMETER)",
            tags=settings.tags(Service="observability", Tier="critical"),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["value"]),
        )
        self.register_outputs({"layerArn": self.layer.arn, "pseudonymKeyParameter": self.pseudonym_key.name})
