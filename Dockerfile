# One machine of a class's deployment: the app served by `python -m optviz serve` (nginx in front of
# one Streamlit worker per core) on port 8501. Its steps are the README's install commands.
# Several machines: run this image on each and list them in a front (README, "Beyond one machine").
FROM python:3.11-slim-bookworm

# Debian's browser (GIF and PNG exports) and nginx with its Brotli module (the front), as the README's
# test command installs them.
RUN apt-get update -qq && apt-get install -y -qq chromium nginx libnginx-mod-http-brotli-static \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN python -m pip install -r requirements.txt
COPY . .
# Streamlit's static files compressed once, at build time, not at the first start.
RUN python -m optviz serve --prepare

EXPOSE 8501
CMD ["python", "-m", "optviz", "serve", "--port", "8501"]
