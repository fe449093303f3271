"""Start the Video Arena: `python app.py [--host 127.0.0.1] [--port 7860] [--root-path /arena] [--share]`.

Everything else is configured with ARENA_* environment variables (see arena/settings.py). A Hugging Face Space
(Gradio SDK) sets GRADIO_SERVER_NAME/GRADIO_SERVER_PORT, which become the defaults of --host/--port.
"""

from __future__ import annotations

import argparse
import os

from arena.server import ServeOptions, serve
from arena.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    parser.add_argument("--host", default=host, help=f"interface to bind (default: {host})")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--root-path", default="", help="public path prefix behind a reverse proxy, e.g. /arena")
    parser.add_argument("--share", action="store_true", help="also ask Gradio for a public share link")
    args = parser.parse_args()
    serve(Settings(), ServeOptions(args.host, args.port, args.root_path, args.share))


if __name__ == "__main__":
    main()
