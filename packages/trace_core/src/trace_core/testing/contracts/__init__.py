"""Contract test suites: run them against every adapter of a port.

Each module holds one suite, a class to subclass in your own test module; the
suite asks for a fixture that yields the adapter under test (and pytest's
``anyio_backend``)::

    from trace_core.testing.contracts.entries import EntryRepositoryContract

    class TestMyEntries(EntryRepositoryContract):
        @pytest.fixture
        async def storage(self):
            yield MyStorage(...)

Storage ports (fixture ``storage``, a fresh, empty ``Storage``):
:mod:`.accounts`, :mod:`.streams`, :mod:`.entries`, :mod:`.versions`,
:mod:`.attachments`, :mod:`.unit_of_work`; builders they share are in
:mod:`.storage_support`. Other ports: :mod:`.blobs` (fixture ``blobs``),
:mod:`.credentials` (``credentials``), :mod:`.search` (``search_backend``).
Install ``trace-core[testing]`` for pytest.
"""
