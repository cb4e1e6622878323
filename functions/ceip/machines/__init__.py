"""Machines as the stored data names them: GUID canonical form, keyed hashes, the secret, suppression.

Shared by ingest (drop suppressed machines' reports), aggregation (leave them out), the purge and the
privacy requests API; below them all, above nothing but boto3.
"""
