# One image for the three services; docker-compose.yml picks the ASGI factory per service.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY edusim ./edusim
COPY edusim_common ./edusim_common
COPY fake_onde ./fake_onde
COPY fake_educonnect ./fake_educonnect
COPY sync_service ./sync_service
RUN pip install .
# Volume mount points, owned by the service user (an empty named volume takes their owner):
# /data holds each service's SQLite file; /educonnect-data is EduConnect's, in ONDE's container,
# where the demo seed adds the FranceConnect test identities.
RUN useradd --create-home edusim && mkdir -p /data /educonnect-data \
    && chown edusim /data /educonnect-data
USER edusim
EXPOSE 8000
CMD ["uvicorn", "--factory", "fake_onde.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
