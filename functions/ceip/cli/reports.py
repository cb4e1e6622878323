"""`ceip reports list`: what the ingest function stored for a day."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ceip.cli.dates import parse_day
from ceip.cli.environment import required
from ceip.storage import keys, report_codec
from ceip.storage.s3 import s3_client


def register(commands: Any) -> None:
    parser = commands.add_parser("reports", help="inspect stored raw reports")
    sub = parser.add_subparsers(dest="reports_command", required=True, metavar="SUBCOMMAND")
    listing = sub.add_parser("list", help="list the report objects of one UTC day")
    listing.add_argument("--date", type=parse_day, default="today", help="YYYY-MM-DD, today or yesterday")
    listing.add_argument("--json", action="store_true", help="one JSON object per stored object")
    listing.add_argument("--show", action="store_true", help="also print every stored report line")
    listing.set_defaults(run=list_reports)


def list_reports(args: argparse.Namespace) -> int:
    bucket = required("REPORTS_BUCKET")
    client = s3_client()
    prefix = keys.report_day_prefix(args.date)
    total_objects = total_reports = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            data = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            lines = list(report_codec.decode_lines(data))
            count = len(lines)
            total_objects += 1
            total_reports += count
            if args.json:
                print(json.dumps({"key": item["Key"], "bytes": item["Size"], "reports": count}))
            else:
                print(f"s3://{bucket}/{item['Key']}  {item['Size']:>8} B  {count:>4} reports")
            if args.show:
                for line in lines:
                    print("  " + json.dumps(line, sort_keys=True))
    if not args.json:
        print(f"{total_objects} objects, {total_reports} reports under s3://{bucket}/{prefix}")
    return 0
