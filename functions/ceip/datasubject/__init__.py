"""Data-subject requests by machine GUID: erasure (suppression, purge, receipts) and export."""
