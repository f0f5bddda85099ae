# One image, every service: `docker run IMAGE run gradebook`, `… relay gradebook`, `… db upgrade`.
# syntax=docker/dockerfile:1.7
FROM python:3.11.7-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/hocba
COPY pyproject.toml README.md ./
COPY services services
COPY contracts contracts
COPY cli cli
COPY sandbox sandbox
# Exact pins live in pyproject.toml; the wheel carries the migrations and the contracts' schemas.
RUN /opt/hocba/bin/pip install --no-compile . && find /opt/hocba -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11.7-slim-bookworm
# Noto fonts: Vietnamese diacritics in the rendered PDFs; libsofthsm2 only in dev images of the signing service.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-core=20201225-1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin hocba
COPY --from=build /opt/hocba /opt/hocba
ENV PATH=/opt/hocba/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PSYCOPG_WAIT_FUNC=wait_select
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000 9100
ENTRYPOINT ["hocba"]
CMD ["--help"]
