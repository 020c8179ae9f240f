# One image for every Ferry service; the command picks the service:
#   docker run ferry services/poller/src/main.ts
# TypeScript runs through tsx (no build step), as in development.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates curl \
 && curl -fsSLo /usr/local/bin/kubectl "https://dl.k8s.io/release/v1.32.4/bin/linux/amd64/kubectl" \
 && chmod +x /usr/local/bin/kubectl \
 && apt-get purge -y curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY libs libs
COPY services services
COPY cli cli
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save --no-audit --no-fund tsx@4
USER node
ENV FERRY_HTTP_HOST=0.0.0.0 NODE_ENV=production
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["services/api/src/main.ts"]
