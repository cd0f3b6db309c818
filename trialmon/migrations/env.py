"""Alembic environment: runs migrations on the engine trialmon.db hands over."""

from alembic import context

from trialmon.schema import MICRODATA, metadata

config = context.config


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql" and not connection.exec_driver_sql(
                f"SELECT 1 FROM pg_namespace WHERE nspname = '{MICRODATA}'").first():
            # only when missing: a read-only dashboard role may not create schemas
            connection.exec_driver_sql(f"CREATE SCHEMA {MICRODATA}")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_schemas=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
