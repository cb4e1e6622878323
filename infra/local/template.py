"""Read template.yaml (CloudFormation short-form tags included) and resolve what the local stack needs.

The local stack creates what the template declares, so nothing here lists resources by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
LOCAL_ACCOUNT = "123456789012"
LOCAL_REGION = "us-east-1"

_MULTI_ARG_TAGS = {"GetAtt"}

_NO_VALUE = object()
"""What !Ref AWS::NoValue resolves to: removed from the list or mapping that holds it."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns !Ref, !Sub, !GetAtt ... into their long {"Ref": ...} forms."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix in _MULTI_ARG_TAGS:
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} is not a template")
    return loaded


def local_physical_name(logical_id: str) -> str:
    """Deterministic local name for a resource: 3 to 63 lower-case characters, valid for S3 and DynamoDB."""
    return f"ceip-local-{logical_id.lower()}"[:63]


@dataclass(frozen=True)
class Route:
    method: str
    """Upper-case method, or ANY."""
    path: str | None
    """/v1/reports or /v1/things/{id}; None for the $default route."""

    @property
    def route_key(self) -> str:
        return "$default" if self.path is None else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when this route takes the request, else None."""
        if self.path is None:
            return {}
        if self.method not in ("ANY", method.upper()):
            return None
        pattern = re.sub(r"\\\{([A-Za-z_][A-Za-z0-9_]*)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str
    environment: dict[str, str]
    routes: tuple[Route, ...]
    schedules: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    timeout_seconds: int = 15


def function_handler(logical_id: str, props: Mapping[str, Any]) -> str:
    """The module.function Lambda calls: a zip function's Handler, or for an image function (PackageType
    Image, which SAM allows no Handler) the command its ImageConfig states (which overrides the image's
    CMD on AWS, so the two cannot disagree there)."""
    if props.get("PackageType") == "Image":
        command = props.get("ImageConfig", {}).get("Command") or []
        if len(command) != 1:
            raise ValueError(f"{logical_id}: an image function needs ImageConfig.Command [module.handler]")
        return str(command[0])
    return str(props["Handler"])


@dataclass
class Template:
    body: dict[str, Any]
    parameter_overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TEMPLATE_PATH) -> Template:
        return cls(load_template(path))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Resources", {}))

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") == resource_type}

    def with_parameters(self, overrides: Mapping[str, str]) -> Template:
        """The same template with some parameters set (as `sam deploy --parameter-overrides` would)."""
        unknown = set(overrides) - set(self.body.get("Parameters", {}))
        if unknown:
            raise KeyError(f"template has no parameter {', '.join(sorted(unknown))}")
        return Template(self.body, {**self.parameter_overrides, **overrides})

    def parameter(self, name: str) -> str:
        if name in self.parameter_overrides:
            return self.parameter_overrides[name]
        return str(self.body.get("Parameters", {})[name].get("Default", ""))

    # -- intrinsic functions, resolved to local names ---------------------------------------
    def physical_name(self, logical_id: str) -> str:
        if logical_id in self.body.get("Parameters", {}):
            return self.parameter(logical_id)
        pseudo = {
            "AWS::Region": LOCAL_REGION,
            "AWS::AccountId": LOCAL_ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "ceip-local",
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id not in self.resources:
            raise KeyError(f"template has no resource or parameter {logical_id}")
        if self.resources[logical_id].get("Type") == "AWS::KMS::Key":
            # Moto gives keys random ids; a local alias stands for the key wherever the template names it.
            return f"alias/{local_physical_name(logical_id)}"
        return local_physical_name(logical_id)

    def reference(self, logical_id: str) -> str:
        """What !Ref gives: the local name, or the ARN for the types whose Ref is one (SNS topics), or
        the URL for a queue (in AWS's form: boto3 sends it to AWS_ENDPOINT_URL, moto finds it by name)."""
        kind = self.resources.get(logical_id, {}).get("Type")
        if kind == "AWS::SNS::Topic":
            return self.attribute(logical_id, "Arn")
        if kind == "AWS::SQS::Queue":
            return self.attribute(logical_id, "QueueUrl")
        return self.physical_name(logical_id)

    def attribute(self, logical_id: str, attribute: str) -> str:
        name = self.physical_name(logical_id)
        kind = self.resources[logical_id]["Type"]
        if attribute == "Arn":
            service = {
                "AWS::S3::Bucket": "s3",
                "AWS::DynamoDB::Table": "dynamodb",
                "AWS::SQS::Queue": "sqs",
                "AWS::KMS::Key": "kms",
                "AWS::SNS::Topic": "sns",
                "AWS::IAM::Role": "iam",
                "AWS::Serverless::Function": "lambda",
            }
            svc = service.get(kind, "local")
            if svc == "s3":
                return f"arn:aws:s3:::{name}"
            if svc == "iam":
                return f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{name}"
            resource = {"dynamodb": f"table/{name}", "lambda": f"function:{name}"}.get(svc, name)
            return f"arn:aws:{svc}:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{resource}"
        if attribute == "QueueUrl":
            return f"https://sqs.{LOCAL_REGION}.amazonaws.com/{LOCAL_ACCOUNT}/{name}"
        return name

    def condition(self, name: str) -> bool:
        """A condition of the template's Conditions section, evaluated with the parameters."""
        return self._holds(self.body.get("Conditions", {})[name])

    def _holds(self, spec: Any) -> bool:
        if isinstance(spec, Mapping) and len(spec) == 1:
            ((function, arguments),) = spec.items()
            if function == "Fn::Equals":
                left, right = arguments
                return str(self.resolve(left)) == str(self.resolve(right))
            if function == "Fn::Not":
                (inner,) = arguments
                return not self._holds(inner)
        raise ValueError(f"no local evaluation of the condition {spec!r}")

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function resolved; what !Ref AWS::NoValue removes is left out."""
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            if value == {"Ref": "AWS::NoValue"}:
                return _NO_VALUE
            if set(value) == {"Fn::If"}:
                name, when_true, when_false = value["Fn::If"]
                return self._resolve(when_true if self.condition(str(name)) else when_false)
            if set(value) == {"Ref"}:
                return self.reference(str(value["Ref"]))
            if set(value) == {"Fn::GetAtt"}:
                target = value["Fn::GetAtt"]
                logical_id, attribute = target if isinstance(target, list) else str(target).split(".", 1)
                return self.attribute(logical_id, attribute)
            if set(value) == {"Fn::Sub"}:
                return self._substitute(value["Fn::Sub"])
            if set(value) == {"Fn::Join"}:
                separator, parts = value["Fn::Join"]
                return str(separator).join(str(self.resolve(p)) for p in parts)
            items = {k: self._resolve(v) for k, v in value.items()}
            return {k: v for k, v in items.items() if v is not _NO_VALUE}
        if isinstance(value, list):
            return [v for v in (self._resolve(v) for v in value) if v is not _NO_VALUE]
        return value

    def _substitute(self, spec: Any) -> str:
        text, variables = (spec, {}) if isinstance(spec, str) else (spec[0], spec[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.attribute(logical_id, attribute)
            return self.reference(name)

        return re.sub(r"\$\{([^}!][^}]*)\}", replace, text)

    # -- functions ----------------------------------------------------------------------------
    def functions(self) -> list[FunctionSpec]:
        globals_env = (
            self.body.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        default_timeout = int(self.body.get("Globals", {}).get("Function", {}).get("Timeout", 15))
        specs = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource.get("Properties", {})
            env = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
            routes: list[Route] = []
            schedules: list[dict[str, Any]] = []
            for event in props.get("Events", {}).values():
                event_props = event.get("Properties", {}) or {}
                if event.get("Type") == "HttpApi":
                    path = event_props.get("Path")
                    routes.append(Route(str(event_props.get("Method", "ANY")).upper(), path))
                elif event.get("Type") in ("ScheduleV2", "Schedule"):
                    schedules.append(self.resolve(event_props))
            specs.append(
                FunctionSpec(
                    logical_id=logical_id,
                    handler=function_handler(logical_id, props),
                    environment={k: str(self.resolve(v)) for k, v in env.items()},
                    routes=tuple(routes),
                    schedules=tuple(schedules),
                    timeout_seconds=int(props.get("Timeout", default_timeout)),
                )
            )
        return specs
