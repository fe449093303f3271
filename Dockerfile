# The Video Arena in one container: `docker build -t video-arena . && docker run -p 7860:7860 -v arena-data:/data \
#   -e ARENA_SECRET=... video-arena`. See docs/hosting.md (secret, database, reverse proxy, several processes).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    ARENA_DATABASE_URL=sqlite:////data/arena.db \
    ARENA_MEDIA_DIR=/data/media \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860

WORKDIR /app
# CPU build of torch first (the pinned version; the default wheel is the CUDA one, several GB larger).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1
COPY pyproject.toml README.md ./
COPY adapters ./adapters
COPY arena ./arena
COPY metrics ./metrics
COPY db ./db
COPY app.py models.yaml ./
RUN pip install . && useradd --create-home --uid 1000 arena && mkdir -p /data && chown arena /data
USER arena
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/healthz', timeout=4)"
CMD ["python", "app.py"]
