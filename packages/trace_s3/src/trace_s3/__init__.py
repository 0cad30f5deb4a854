"""trace_s3: Trace attachment bytes on S3-compatible object storage.

:class:`S3BlobStore` implements the :class:`~trace_core.ports.BlobStore` port on
one bucket (AWS S3, MinIO, Cloudflare R2, Ceph, ...) with aiobotocore: atomic
writes, streamed reads, multipart uploads for streams longer than a part, and
presigned download URLs when asked for. Only this package imports the client.
"""

from trace_s3._errors import translated_errors
from trace_s3._keys import content_disposition, normalized_prefix, object_name
from trace_s3._store import (
    DEFAULT_PART_BYTES,
    MAX_PRESIGN_SECONDS,
    MIN_PART_BYTES,
    READ_CHUNK_BYTES,
    S3BlobStore,
)

__all__ = [
    "DEFAULT_PART_BYTES",
    "MAX_PRESIGN_SECONDS",
    "MIN_PART_BYTES",
    "READ_CHUNK_BYTES",
    "S3BlobStore",
    "content_disposition",
    "normalized_prefix",
    "object_name",
    "translated_errors",
]
