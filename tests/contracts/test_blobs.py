"""The BlobStoreContract suite on every blob store (memory, filesystem, S3 on moto's server)."""

from trace_core.testing.contracts.blobs import BlobStoreContract


class TestBlobStore(BlobStoreContract):
    """Runs against the root conftest's parametrized ``blobs`` fixture."""
