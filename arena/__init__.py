"""The video arena: services (no UI), the JSON API, the Gradio UI and the CLI."""
