"""The AttachmentRepositoryContract suite on every storage backend (memory, sqlite, postgres)."""

from trace_core.testing.contracts.attachments import AttachmentRepositoryContract


class TestAttachmentRepository(AttachmentRepositoryContract):
    """Runs against the root conftest's parametrized ``storage`` fixture."""
