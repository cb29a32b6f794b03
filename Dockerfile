# Builds the services with the same Debian packages as scripts/bootstrap.sh
# and ships them on a slim runtime image. `docker compose up` uses it.
FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config libgrpc-dev libprotobuf-dev \
      protobuf-compiler protobuf-c-compiler libprotobuf-c-dev librdkafka-dev libssl-dev \
      libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWW_BUILD_TESTS=OFF \
 && cmake --build /build --target trainer users wwctl \
 && install -D -t /out /build/services/trainer/trainer /build/services/users/users /build/tools/wwctl

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc29 libprotobuf-c1 librdkafka1 libssl3 libcurl4 libjansson4 libmicrohttpd12 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
# gRPC (3000 trainer, 3001 users) and the metrics endpoint (WW_METRICS_ADDR)
EXPOSE 3000 3001 9464
USER nobody
ENTRYPOINT []
