# One image for the four apps. The default command runs the gateway; docker-compose.yml picks
# the app of each container with its own `uvicorn <module>:create_app --factory` command.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 plp \
    && useradd --system --uid 10001 --gid plp --home-dir /app --no-create-home --shell /usr/sbin/nologin plp

WORKDIR /app
COPY . /app

# Editable on purpose: kit/migrate.py finds the Alembic scripts next to the kit package
# (`/app/migrations`), which a regular install into site-packages would leave behind.
RUN pip install --no-cache-dir -e . \
    && mkdir -p /app/var \
    && chown plp:plp /app/var

USER plp

EXPOSE 8000 8001 8002 8003

CMD ["uvicorn", "gateway.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--no-date-header"]
