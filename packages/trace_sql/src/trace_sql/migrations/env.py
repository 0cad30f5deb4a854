"""Alembic environment: runs on the connection handed over by ``trace_sql.migrate``."""

from alembic import context

from trace_sql.tables import metadata

config = context.config

if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run Trace migrations with trace_sql.migrate() or `trace migrate`")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Migrations see every account's rows: a data migration after
            # 0400_row_level_security would otherwise see none (FORCE ROW LEVEL
            # SECURITY binds the owner too). Local to the migration's transaction.
            connection.exec_driver_sql("SELECT set_config('trace.all_accounts', 'on', true)")
        context.run_migrations()
