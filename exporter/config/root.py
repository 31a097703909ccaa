"""The whole configuration: one model per API section."""

from __future__ import annotations

from exporter.config.contact_center import ContactCenterConfig
from exporter.config.values import StrictModel
from exporter.config.work_analytics import WorkAnalyticsConfig


class Config(StrictModel):
    # Required in the model; load_config_data() supplies an empty section when the file has
    # none, so its defaults and credential checks still apply.
    work_analytics: WorkAnalyticsConfig
    contact_center: ContactCenterConfig = ContactCenterConfig()
