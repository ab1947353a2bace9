# Daojiao application image: one image for the web server (gunicorn, default command),
# the RQ worker (`daojiao worker`) and the one-shot migration job (`daojiao db upgrade`).
#
#   docker build -t daojiao:latest .
#   docker compose up -d --build        # see docker-compose.yml and .env.example

FROM python:3.11-slim

# PYTHONPATH: the source tree copied below is the code that runs, for gunicorn (wsgi:app) and for
# the `daojiao` console command alike. Flask then places the instance folder, which create_app()
# creates, at /srv/daojiao/instance (made writable below) rather than under /usr/local/var.
# DAOJIAO_CJK_FONT: the CJK font embedded in generated PDFs (调解协议书, 民事裁定书), installed below.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/srv/daojiao \
    DAOJIAO_CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc

# fonts-wqy-zenhei: the CJK TrueType font for reportlab (psycopg[binary] brings its own libpq).
# libgl1, libglib2.0-0: the system libraries OpenCV (OCR of scanned letters) loads.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-zenhei libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && test -f "$DAOJIAO_CJK_FONT"

# Unprivileged account the processes run as (fixed ids, so volume ownership is predictable).
RUN groupadd --system --gid 10001 daojiao \
    && useradd --system --uid 10001 --gid daojiao --create-home --home-dir /home/daojiao \
        --shell /usr/sbin/nologin daojiao

WORKDIR /srv/daojiao

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb')).get('project', {}).get('dependencies', []); print(*deps, sep='\n') if deps else None" > /tmp/requirements.txt \
    && if [ -s /tmp/requirements.txt ]; then pip install --no-cache-dir -r /tmp/requirements.txt; fi \
    && rm /tmp/requirements.txt

# The whole source tree (application packages, migrations/, wsgi.py); .dockerignore keeps out
# the virtualenv, VCS data, local instance data, secrets and tests.
COPY . .
RUN pip install --no-cache-dir . \
    && which gunicorn daojiao \
    && python -m compileall -q /srv/daojiao \
    && mkdir -p /srv/daojiao/instance /srv/daojiao/keys \
    && chown daojiao:daojiao /srv/daojiao/instance /srv/daojiao/keys

USER daojiao

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

# --worker-tmp-dir /dev/shm: gunicorn's worker heartbeat files on tmpfs, not on the overlay filesystem.
# --timeout 90: above the object store client's worst case (storage.minio.WORST_CASE_SECONDS,
# 54.6 s), so a request waiting on a dead store answers with an error instead of being killed;
# --graceful-timeout 30: a restart lets requests in flight finish.
# --config gunicorn.conf.py: sync workers, WEB_CONCURRENCY of them (default 2 × CPUs + 1), and the
# Prometheus multiprocess hooks (app/metrics.py).
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--timeout", "90", "--graceful-timeout", "30", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-", "wsgi:app"]
