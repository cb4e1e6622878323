"""`ceip reports list`: what the ingest function stored for a day (the grammar is in ceip.cli.parser)."""

from __future__ import annotations

import argparse
import json

from ceip.cli.settings import StoredReports
from ceip.storage import keys, report_codec
from ceip.storage.s3 import s3_client


def list_reports(args: argparse.Namespace) -> int:
    bucket = StoredReports.from_environment().reports_bucket
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
