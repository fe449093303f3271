"""The Gradio UI, built from an injected :class:`arena.services.container.Arena` (no module-level state)."""

from arena.ui.layout import build_ui, mount_options

__all__ = ["build_ui", "mount_options"]
