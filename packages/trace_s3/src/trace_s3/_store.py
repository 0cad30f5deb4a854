"""``S3BlobStore``: attachment bytes as objects in an S3-compatible bucket (aiobotocore)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import ClientError

from trace_core.errors import InvalidInputError, UnavailableError
from trace_core.ports import BlobStore
from trace_s3._errors import is_missing, translated_errors
from trace_s3._keys import content_disposition, normalized_prefix, object_name

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

__all__ = [
    "DEFAULT_PART_BYTES",
    "MAX_PRESIGN_SECONDS",
    "MIN_PART_BYTES",
    "READ_CHUNK_BYTES",
    "S3BlobStore",
]

MIN_PART_BYTES = 5 * 1024 * 1024
"""S3's smallest multipart part (every part but the last)."""

DEFAULT_PART_BYTES = 8 * 1024 * 1024
"""Part size of streamed uploads; a stream shorter than one part is one ``PutObject``."""

READ_CHUNK_BYTES = 256 * 1024
"""Largest chunk :meth:`S3BlobStore.open_read` yields."""

ABORT_SECONDS = 30
"""How long a failed multipart upload's abort may take before it is given up."""

MAX_PRESIGN_SECONDS = 7 * 24 * 3600
"""The longest a SigV4-presigned URL can work (S3's limit)."""


class S3BlobStore(BlobStore):
    """Stores each blob as the object ``{prefix}{key}`` in one bucket.

    Every write is atomic, as S3 makes them: a ``PutObject``, or a multipart
    upload that only appears when it is completed (and is aborted if the
    stream fails). Reads stream the object's body in chunks. The client is
    made on first use and kept, with its connection pool, until :meth:`close`.

    Args:
        bucket: the bucket (it must exist; Trace never creates buckets).
        prefix: a folder inside the bucket for Trace's objects (``trace/``); empty for none.
        endpoint_url: an S3-compatible server (MinIO, R2, Ceph, a local test
            server); None for AWS, or ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``.
        region: the bucket's region; None for ``AWS_REGION`` / the AWS configuration.
        access_key_id: a key id; None for the AWS credential chain (``AWS_ACCESS_KEY_ID``
            and ``AWS_SECRET_ACCESS_KEY``, the shared credentials file, an instance
            or container role, web identity).
        secret_access_key: its secret (given together with ``access_key_id``).
        session_token: a temporary credential's session token, with the key above.
        presigned_downloads: hand out presigned GET URLs (:meth:`presigned_url`)
            so downloads come from the store, not through Trace.
        path_style: address the bucket in the path (``endpoint/bucket/key``), as
            many S3-compatible servers need; None lets the client decide
            (virtual-hosted on AWS).
        part_size: bytes per part of a streamed upload (at least 5 MiB).
        read_chunk_bytes: largest chunk a streamed read yields.
        max_connections: the connection pool's size.
        max_attempts: tries per request (the first and the retries) before it fails.
        session: an aiobotocore session to make the client from, so several stores
            share its loaded service models (default: a new session).

    Raises:
        InvalidInputError: an empty bucket, a bad prefix, a part size below 5 MiB,
            or only half of a key pair.

    """

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        presigned_downloads: bool = False,
        path_style: bool | None = None,
        part_size: int = DEFAULT_PART_BYTES,
        read_chunk_bytes: int = READ_CHUNK_BYTES,
        max_connections: int = 10,
        max_attempts: int = 3,
        session: AioSession | None = None,
    ) -> None:
        if not bucket:
            raise InvalidInputError("storage.blobs.bucket", "is required when kind is s3")
        if (access_key_id is None) != (secret_access_key is None):
            raise InvalidInputError(
                "storage.blobs.access_key_id",
                "and storage.blobs.secret_access_key go together: give both or neither",
            )
        if part_size < MIN_PART_BYTES:
            raise InvalidInputError("part_size", f"must be at least {MIN_PART_BYTES} bytes")
        self.bucket = bucket
        self.prefix = normalized_prefix(prefix)
        self.presigned_downloads = presigned_downloads
        self._part_size = part_size
        self._read_chunk = read_chunk_bytes
        self._client_args: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "aws_session_token": session_token,
            "config": AioConfig(
                signature_version="s3v4",
                s3={"addressing_style": {None: "auto", True: "path", False: "virtual"}[path_style]},
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=10,
                read_timeout=60,
                max_pool_connections=max_connections,
                # Checksums only where S3 requires them: the CRC trailers newer
                # clients add by default are refused by several compatible servers.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        }
        self._session = session
        self._stack: AsyncExitStack | None = None
        self._s3: S3Client | None = None
        self._opening = anyio.Lock()

    async def _client(self) -> S3Client:
        if self._s3 is None:
            async with self._opening:
                if self._s3 is None:
                    stack = AsyncExitStack()
                    with translated_errors(self.bucket):
                        client = await stack.enter_async_context(
                            (self._session or get_session()).create_client(
                                "s3", **self._client_args
                            )
                        )
                    self._stack, self._s3 = stack, client
        return self._s3

    async def close(self) -> None:
        """Close the client and its connections (it is made again on next use)."""
        stack, self._stack, self._s3 = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    def _name(self, key: str) -> str:
        return object_name(self.prefix, key)

    # --- whole blobs ----------------------------------------------------------------

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` as one object (``PutObject`` is atomic)."""
        name = self._name(key)
        s3 = await self._client()
        with translated_errors(key):
            await s3.put_object(Bucket=self.bucket, Key=name, Body=bytes(data))

    async def get(self, key: str) -> bytes:
        """Return the object's bytes; NotFoundError if there is none."""
        name = self._name(key)
        s3 = await self._client()
        with translated_errors(key):
            answer = await s3.get_object(Bucket=self.bucket, Key=name)
            async with answer["Body"] as body:
                return await body.read()

    async def delete(self, key: str) -> None:
        """Delete the object; S3 answers the same whether or not it was there."""
        name = self._name(key)
        s3 = await self._client()
        with translated_errors(key):
            await s3.delete_object(Bucket=self.bucket, Key=name)

    async def exists(self, key: str) -> bool:
        """Return whether the object exists (a ``HeadObject``)."""
        name = self._name(key)
        s3 = await self._client()
        with translated_errors(key):
            try:
                await s3.head_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                if is_missing(exc):
                    return False
                raise
        return True

    # --- streams --------------------------------------------------------------------

    async def open_read(self, key: str) -> AsyncGenerator[bytes, None]:
        """Start a ``GetObject`` and return its body in chunks of at most ``read_chunk_bytes``.

        The request is made here, so a missing object is NotFoundError before the
        first chunk; the connection goes back when the body is read to its end
        or the reader calls ``aclose()``.
        """
        name = self._name(key)
        s3 = await self._client()
        with translated_errors(key):
            answer = await s3.get_object(Bucket=self.bucket, Key=name)
        return self._chunks(answer["Body"], key)

    async def _chunks(self, body: Any, key: str) -> AsyncGenerator[bytes, None]:
        try:
            while True:
                with translated_errors(key):
                    chunk: bytes = await body.read(self._read_chunk)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    async def write_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Upload the chunks: one ``PutObject`` if they fit in a part, else a multipart upload.

        At most one part is held in memory. If the stream (or the store) fails,
        the multipart upload is aborted, so no parts are left behind and the
        object under ``key`` is unchanged.
        """
        name = self._name(key)
        s3 = await self._client()
        buffer = bytearray()
        total = 0
        iterator = aiter(chunks)
        async for chunk in iterator:
            buffer += chunk
            total += len(chunk)
            if len(buffer) > self._part_size:
                break
        else:
            # The whole stream fits in one part: one request, no multipart upload.
            await self.put(key, bytes(buffer))
            return total
        with translated_errors(key):
            upload = await s3.create_multipart_upload(Bucket=self.bucket, Key=name)
        upload_id = upload["UploadId"]
        parts: list[CompletedPartTypeDef] = []

        async def send_part(data: bytes) -> None:
            with translated_errors(key):
                sent = await s3.upload_part(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    PartNumber=len(parts) + 1,
                    Body=data,
                )
            parts.append({"ETag": sent["ETag"], "PartNumber": len(parts) + 1})

        try:
            while len(buffer) > self._part_size:
                await send_part(bytes(buffer[: self._part_size]))
                del buffer[: self._part_size]
            async for chunk in iterator:
                buffer += chunk
                total += len(chunk)
                while len(buffer) > self._part_size:
                    await send_part(bytes(buffer[: self._part_size]))
                    del buffer[: self._part_size]
            await send_part(bytes(buffer))
            with translated_errors(key):
                await s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            # Abort even when cancelled, for a bounded time; if the store cannot be
            # reached the original error is the one to report (and the failure to
            # abort is logged: a lifecycle rule removes the parts, see docs/s3.md).
            with (
                anyio.move_on_after(ABORT_SECONDS, shield=True),
                contextlib.suppress(UnavailableError),
                translated_errors(key),
            ):
                await s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            raise
        return total

    # --- download URLs --------------------------------------------------------------

    async def presigned_url(
        self, key: str, *, ttl_seconds: int, content_type: str, filename: str | None = None
    ) -> str | None:
        """Return a presigned GET URL when ``presigned_downloads`` is on, else None.

        The URL makes the store answer with ``content_type`` and an inline
        Content-Disposition naming ``filename``, whatever the object was stored
        with. Signing is local (no request), with the client's credentials.

        Raises:
            InvalidInputError: ``ttl_seconds`` is not 1 to 604800 (7 days, S3's limit).
            UnavailableError: no credentials to sign with.

        """
        if not self.presigned_downloads:
            return None
        if not 1 <= ttl_seconds <= MAX_PRESIGN_SECONDS:
            raise InvalidInputError(
                "ttl_seconds", f"must be 1 to {MAX_PRESIGN_SECONDS} (7 days) for S3 URLs"
            )
        name = self._name(key)
        s3 = await self._client()
        with translated_errors(key):
            return await s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": name,
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": content_disposition(filename),
                },
                ExpiresIn=ttl_seconds,
            )
