# The govbus executable (core, adapters, sandboxes, CLI) for a deployment. Build:
#   docker build -t govbus .
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends librabbitmq-dev libssl-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Adapters Adapters
COPY Tests Tests
COPY Benchmarks Benchmarks
RUN swift build -c release --product govbus --static-swift-stdlib

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends librabbitmq4 libsqlite3-0 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/govbus govbus \
    && install -d -m 0700 -o govbus -g govbus /var/lib/govbus
# /var/lib/govbus is where each service's own data volume is mounted (docker-compose.yml): a new
# volume takes this folder's owner and mode, so the service can write it and no one else read it.
COPY --from=build /src/.build/release/govbus /usr/local/bin/govbus
COPY Schemas /opt/govbus/Schemas
COPY config /opt/govbus/config
USER govbus
WORKDIR /var/lib/govbus
ENTRYPOINT ["/usr/local/bin/govbus"]
