# The 8x8 exporter's container image.
#   docker build -t eightbyeight-exporter .
#   docker run --rm -p 9878:9878 eightbyeight-exporter --demo
#   docker run --rm -p 9878:9878 -v $PWD/config.yaml:/etc/eightbyeight-exporter/config.yaml:ro \
#       -e EIGHTBYEIGHT_API_KEY -e EIGHTBYEIGHT_USERNAME -e EIGHTBYEIGHT_PASSWORD eightbyeight-exporter
# No credential is baked in: they come from the environment or from files mounted at run time.
# tests/test_dockerfile.py runs the RUN steps below in a fresh virtual environment.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the package and its dependencies in a virtual environment ---------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
# The simulator behind --demo ships in the same distribution.
COPY simulator ./simulator
RUN python -m venv /opt/eightbyeight && /opt/eightbyeight/bin/pip install --no-compile .

# --- runtime: the virtual environment only, run by an unprivileged user -------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="eightbyeight-exporter" \
      org.opencontainers.image.description="Prometheus exporter for 8x8 Work Analytics and Contact Center analytics" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin exporter \
 && mkdir -p /etc/eightbyeight-exporter
COPY --from=build /opt/eightbyeight /opt/eightbyeight
COPY config/example.yaml /etc/eightbyeight-exporter/config.yaml
ENV PATH=/opt/eightbyeight/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 9878
# /-/healthy answers while the process serves; python is in the image, curl is not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9878/-/healthy', timeout=4).status != 200)"]
ENTRYPOINT ["eightbyeight-exporter"]
CMD ["--config.file=/etc/eightbyeight-exporter/config.yaml", "--web.listen-address=:9878"]
