from alembic import context


from cheese_runtime.db.models import Base
from cheese_runtime.db.session import build_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations() -> None:
    connectable = build_engine(url)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things in place: batch mode copies tables.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


run_migrations()
