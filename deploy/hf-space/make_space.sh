#!/usr/bin/env bash
# Lay out a Hugging Face Space (Gradio SDK) from this checkout: the project's tracked files, with this folder's
# README.md (the Space's front matter) and requirements.txt at the top. Usage: deploy/hf-space/make_space.sh OUT
# then push OUT to the Space's git repository.
set -euo pipefail
out=${1:?usage: make_space.sh OUT_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
git -C "$root" archive --format=tar HEAD adapters arena metrics db app.py models.yaml pyproject.toml docs \
  | tar -x -C "$out"
cp "$root/deploy/hf-space/README.md" "$root/deploy/hf-space/requirements.txt" "$out/"
echo "Space laid out in $out (app_file: app.py)"
