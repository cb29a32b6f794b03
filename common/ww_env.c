/* ww_env.c - environment configuration. */
#include "ww_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

const char *ww_env_str(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

bool ww_env_bool(const char *name) {
    const char *v = getenv(name);
    return v && (!strcasecmp(v, "1") || !strcasecmp(v, "true") ||
                 !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

long ww_env_long(const char *name, long fallback) {
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    char *end;
    long n = strtol(v, &end, 10);
    return *end ? fallback : n;
}

const char *ww_env_prefixed(char *buf, unsigned size, const char *name) {
    snprintf(buf, size, "%s%s", ww_env_str("WW_TOPIC_PREFIX", ""), name);
    return buf;
}
