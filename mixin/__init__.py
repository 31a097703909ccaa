"""The monitoring mixin: Prometheus recording and alerting rules and Grafana dashboards for the
exporter, generated from one thresholds file (`mixin/config.yaml`) by `python -m mixin`.

Not on the exporter's runtime path: it only writes files that Prometheus and Grafana load."""
