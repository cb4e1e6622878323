"""Transform template.yaml with aws-sam-translator, offline, as CloudFormation's SAM transform would.

Runs with the interpreter of .tools/sam (`make sam-transform`): samtranslator pins pydantic, so it never
enters the app's .venv. Exits non-zero with SAM's own messages when the transform fails; prints a
summary, or with --json the transformed template (tests/unit/test_template.py reads the IAM policies
SAM generates from it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
# Pseudo parameters SAM needs to build ARNs; no credentials and no AWS call are involved.
REGION = "us-east-1"


class OfflinePolicyLoader(ManagedPolicyLoader):
    """SAM resolves the managed policies it attaches (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess)
    from its bundled map; it asks this loader, which would call IAM, only for a name it does not know.
    The template names none, so being asked is an error, not a reason to go online."""

    def __init__(self) -> None:
        super().__init__(iam_client=None)  # type: ignore[arg-type]

    def load(self) -> dict[str, str]:
        raise RuntimeError("template.yaml names a managed policy SAM does not bundle; use an inline policy")


# Where `sam deploy --resolve-image-repos` pushes an image function's image (an ECR repository of the stack).
PACKAGED_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ceip-packaged:{tag}"


def as_packaged(template: dict[str, Any]) -> dict[str, Any]:
    """Local CodeUri paths become S3 URIs, as `sam package` (or `sam deploy`) uploads them first; an image
    function (PackageType Image, built from its Metadata's Dockerfile) gets the ECR ImageUri `sam deploy`
    gives it after pushing the image."""
    function_globals = template.get("Globals", {}).get("Function", {})
    functions = [
        resource
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]
    holders = [function_globals] + [function.get("Properties", {}) for function in functions]
    for holder in holders:
        code_uri = holder.get("CodeUri")
        if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            holder["CodeUri"] = f"s3://packaged-artifacts/{code_uri.strip('/') or 'root'}"
    for function in functions:
        props = function.get("Properties", {})
        if props.get("PackageType") == "Image" and "ImageUri" not in props:
            tag = function.get("Metadata", {}).get("DockerTag", "latest")
            props["ImageUri"] = PACKAGED_IMAGE.format(tag=tag)
    return template


def transformed(path: Path = TEMPLATE) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    template = as_packaged(yaml_parse(path.read_text(encoding="utf-8")))
    result: dict[str, Any] = transform(template, {}, OfflinePolicyLoader())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", type=Path, default=TEMPLATE)
    parser.add_argument("--json", action="store_true", help="print the transformed template")
    args = parser.parse_args()
    try:
        output = transformed(args.template)
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"SAM transform: {cause.message}", file=sys.stderr)
        return 1
    left = sorted(lid for lid, r in output["Resources"].items() if r["Type"].startswith("AWS::Serverless::"))
    if "Transform" in output or left:
        print(f"SAM transform left untransformed resources: {left}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(output, sys.stdout, indent=1, sort_keys=True)
        return 0
    kinds = Counter(r["Type"] for r in output["Resources"].values())
    print(
        f"SAM transform of {args.template.name}: {sum(kinds.values())} CloudFormation resources "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
