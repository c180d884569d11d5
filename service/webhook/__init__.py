"""The providers' front doors: thin routes that verify, then record and enqueue through `ingest`."""
