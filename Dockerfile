# mockserver: both emulated APIs and /__mock on port 8080, configured with MOCKSERVER_* variables.
#   docker build -t mockserver .
#   docker run --rm -p 8080:8080 mockserver
#   docker run --rm -p 8080:8080 -e MOCKSERVER_STORE=tinydb -v mockserver-data:/data mockserver

# Build stage: turn the source into an installed virtual environment. Nothing of this stage
# but /opt/venv reaches the final image (no sources, no wheels, no pip caches, no setuptools).
FROM python:3.11-slim AS build
# The package's version (`make smoke` passes mockserver/__init__.py's); given, the build checks it.
ARG VERSION=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY fixtures ./fixtures
COPY mockserver ./mockserver
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/pip uninstall --yes pip setuptools \
    && /opt/venv/bin/mockserver --version \
    && if [ -n "$VERSION" ]; then [ "$(/opt/venv/bin/mockserver --version)" = "mockserver $VERSION" ]; fi

# Final stage: the slim base, the venv and a non-root user. Mount a folder and point
# MOCKSERVER_FIXTURES at it to seed from your own data.
FROM python:3.11-slim
# The labels' version and source (`make smoke` passes the package's version and the checkout's remote).
ARG VERSION=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="mockserver" \
      org.opencontainers.image.description="A local mock of Collect's and inSigner's APIs for contract testing" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.source="$SOURCE" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MOCKSERVER_HOST=0.0.0.0 \
    MOCKSERVER_PORT=8080 \
    MOCKSERVER_DB=/data/mockserver.json
RUN useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin mockserver \
    && mkdir /data \
    && chown mockserver:mockserver /data
COPY --from=build /opt/venv /opt/venv
# Numeric, so a runtime that enforces runAsNonRoot (Kubernetes) can verify it without /etc/passwd.
USER 1000:1000
WORKDIR /data
# The TinyDB file when MOCKSERVER_STORE=tinydb; the default memory store never writes here.
VOLUME ["/data"]
EXPOSE 8080
# The slim base has no curl: ask /__mock/health with the standard library, on the port in use.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/__mock/health' % os.environ.get('MOCKSERVER_PORT', '8080'), timeout=2)"]
# Exec form: the server is PID 1 and gets SIGTERM itself; it exits 0 with the TinyDB file complete.
STOPSIGNAL SIGTERM
ENTRYPOINT ["mockserver", "serve"]
