"""Background pollers: one per API area, each building immutable snapshots on its own schedule."""
