FROM python:3.11-slim

WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY briefings ./briefings
COPY storage ./storage
COPY seeds ./seeds
RUN pip install .

RUN useradd --create-home --uid 10001 briefbot && mkdir -p /app/data /app/inbox && chown -R 10001 /app
USER 10001
VOLUME ["/app/data", "/app/inbox"]
CMD ["briefbot", "run"]
