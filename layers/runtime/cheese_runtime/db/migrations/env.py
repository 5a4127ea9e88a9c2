from alembic import context

from cheese_runtime.db.session import build_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
# Only autogenerate compares the models with the database, so only it passes
# the models (cheese_runtime.db.migrate.autogenerate_revision imports every
# module of MODEL_MODULES). Upgrades and downgrades run the revision scripts
# alone: the deploy step's bundle (functions/auth/migrations.py) holds the
# runtime and auth's package, not the other functions' models.
target_metadata = config.attributes.get("target_metadata")


def run_migrations() -> None:
    if url is None:
        raise RuntimeError("the Alembic config names no sqlalchemy.url")
    connectable = build_engine(url)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things in place: batch mode copies tables.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


run_migrations()
