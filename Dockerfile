# The 8x8 exporter's container image.
#   docker build -t eightbyeight-exporter .
#   docker run --rm -p 9878:9878 eightbyeight-exporter --demo
#   docker run --rm -p 9878:9878 -v $PWD/config.yaml:/etc/eightbyeight-exporter/config.yaml:ro \
#       -e EIGHTBYEIGHT_API_KEY -e EIGHTBYEIGHT_USERNAME -e EIGHTBYEIGHT_PASSWORD eightbyeight-exporter
# No credential is baked in: they come from the environment or from files mounted at run time.
# tests/test_dockerfile.py runs the RUN steps below in a fresh virtual environment.

# The base image by digest, so that a rebuild of the same commit starts from the same layers;
# the tag stays in front for people and for update bots. The digest is the one two unrelated
# public Dockerfiles pin python:3.11-slim-bookworm to (peiyang-z6/BandStructure_AI_Project,
# and a MUSE2API image): no registry is reachable where this was written, so it was not
# resolved afresh. Refresh it with `docker buildx imagetools inspect python:3.11-slim-bookworm`.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# --- build: the package and its dependencies in a virtual environment ---------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY exporter ./exporter
# The simulator behind --demo ships in the same distribution.
COPY simulator ./simulator
# constraints.txt: the exact versions of every runtime dependency the suite passed with.
RUN python -m venv /opt/eightbyeight \
 && /opt/eightbyeight/bin/pip install --no-compile -c constraints.txt .

# --- runtime: the virtual environment only, run by an unprivileged user -------------------
FROM ${PYTHON_IMAGE}
# VERSION follows exporter.__version__ (a test keeps them equal); REVISION is the commit built:
#   docker build --build-arg REVISION="$(git rev-parse HEAD)" -t eightbyeight-exporter .
ARG VERSION=0.1.0
ARG REVISION=
ARG SOURCE=https://github.com/eightbyeight-exporter/eightbyeight-exporter
LABEL org.opencontainers.image.title="eightbyeight-exporter" \
      org.opencontainers.image.description="Prometheus exporter for 8x8 Work Analytics and Contact Center analytics" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.url="${SOURCE}" \
      org.opencontainers.image.documentation="${SOURCE}/blob/main/README.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin exporter \
 && mkdir -p /etc/eightbyeight-exporter
COPY --from=build /opt/eightbyeight /opt/eightbyeight
COPY config/example.yaml /etc/eightbyeight-exporter/config.yaml
# The revision for eightbyeight_exporter_build_info: an installed wheel has no git to ask.
ENV PATH=/opt/eightbyeight/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    EIGHTBYEIGHT_EXPORTER_REVISION=${REVISION}
USER 10001:10001
EXPOSE 9878
# The probe reads the running exporter's own flags (/proc/1/cmdline), so a changed
# --web.listen-address or a --web.config.file is followed: GET /-/healthy over HTTP or HTTPS,
# a 401 accepted when basic auth is on (the probe holds no password), a TCP connect when TLS
# requires client certificates (exporter/healthcheck.py). python is in the image, curl is not.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "exporter.healthcheck"]
ENTRYPOINT ["eightbyeight-exporter"]
CMD ["--config.file=/etc/eightbyeight-exporter/config.yaml", "--web.listen-address=:9878"]
