"""The arena's services: every read and write of the arena goes through here (no Gradio, no FastAPI)."""
