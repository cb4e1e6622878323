"""IngestFunction's composition root: the ingest service on its AWS adapters.

Beside the handler rather than in it: the handler module loads Powertools (about half a second cold),
and the CLI, tests and benchmarks build the same service without it.
"""

from __future__ import annotations

from ceip.ingest.service import Ingest
from ceip.ingest.settings import IngestSettings
from ceip.machines.keyer import machine_keyer
from ceip.machines.suppression import SuppressionLookup
from ceip.reports.minimization import StoredEntries
from ceip.storage.s3 import S3ObjectWriter


def build_ingest(settings: IngestSettings) -> Ingest:
    return Ingest(
        writer=S3ObjectWriter(settings.reports_bucket),
        suppression=SuppressionLookup(
            settings.suppression_table, machine_keyer(settings.machine_key_secret_id)
        ),
        stored=StoredEntries(
            problems=settings.bound_problems,
            features=settings.bound_features,
            hardware_features=settings.bound_hardware_features,
        ),
    )
