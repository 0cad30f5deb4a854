"""Contract test suites: run them against every adapter of a port, yours too.

Each suite is a class to subclass in your own pytest module; the subclass
provides one fixture that yields the adapter under test, fresh and empty::

    import pytest
    from trace_core.testing.contracts import BlobStoreContract

    class TestMyBlobStore(BlobStoreContract):
        @pytest.fixture
        def blobs(self, tmp_path):
            return MyBlobStore(tmp_path)

Then ``pytest`` runs every test of the suite against it; nothing else is
needed (no conftest): the suites run their async tests on asyncio through
anyio's pytest plugin (:class:`ContractSuite`), and pytest rewrites their
asserts so a failure shows the values compared. Install ``trace-core[testing]``
for pytest.

======================================  =====================  ===========================
suite                                   fixture to provide     port
======================================  =====================  ===========================
:class:`StorageContract` (all six)      ``storage``            ``Storage`` and repositories
:class:`AccountRepositoryContract`      ``storage``            ``AccountRepository``
:class:`StreamRepositoryContract`       ``storage``            ``StreamRepository``
:class:`EntryRepositoryContract`        ``storage``            ``EntryRepository``
:class:`VersionRepositoryContract`      ``storage``            ``VersionRepository``
:class:`AttachmentRepositoryContract`   ``storage``            ``AttachmentRepository``
:class:`UnitOfWorkContract`             ``storage``            ``Storage.unit_of_work``
:class:`BlobStoreContract`              ``blobs``              ``BlobStore``
:class:`CredentialStoreContract`        ``credentials``        ``CredentialStore``
:class:`SearchIndexContract`            ``search_backend``     ``SearchIndex``
======================================  =====================  ===========================

``storage`` yields an empty :class:`~trace_core.ports.Storage`;
``search_backend`` a :class:`SearchBackend` (the storage the entries are
written to, the index under test, and how a write becomes searchable). The
builders the storage suites share are in :mod:`.storage_support`.
"""

import pytest

# Before the suites are imported: pytest then rewrites their asserts as it does a
# test module's (registering a module that is already imported would only warn).
pytest.register_assert_rewrite(
    *(
        f"trace_core.testing.contracts.{name}"
        for name in (
            "accounts",
            "attachments",
            "blobs",
            "credentials",
            "entries",
            "search",
            "storage_support",
            "streams",
            "unit_of_work",
            "versions",
        )
    )
)

from trace_core.testing.contracts._base import ContractSuite  # noqa: E402
from trace_core.testing.contracts.accounts import AccountRepositoryContract  # noqa: E402
from trace_core.testing.contracts.attachments import AttachmentRepositoryContract  # noqa: E402
from trace_core.testing.contracts.blobs import BlobStoreContract  # noqa: E402
from trace_core.testing.contracts.credentials import CredentialStoreContract  # noqa: E402
from trace_core.testing.contracts.entries import EntryRepositoryContract  # noqa: E402
from trace_core.testing.contracts.search import SearchBackend, SearchIndexContract  # noqa: E402
from trace_core.testing.contracts.streams import StreamRepositoryContract  # noqa: E402
from trace_core.testing.contracts.unit_of_work import UnitOfWorkContract  # noqa: E402
from trace_core.testing.contracts.versions import VersionRepositoryContract  # noqa: E402

__all__ = [
    "AccountRepositoryContract",
    "AttachmentRepositoryContract",
    "BlobStoreContract",
    "ContractSuite",
    "CredentialStoreContract",
    "EntryRepositoryContract",
    "SearchBackend",
    "SearchIndexContract",
    "StorageContract",
    "StreamRepositoryContract",
    "UnitOfWorkContract",
    "VersionRepositoryContract",
]


class StorageContract(
    AccountRepositoryContract,
    StreamRepositoryContract,
    EntryRepositoryContract,
    VersionRepositoryContract,
    AttachmentRepositoryContract,
    UnitOfWorkContract,
):
    """Every storage suite at once: provide ``storage``, a fresh, empty ``Storage``."""
