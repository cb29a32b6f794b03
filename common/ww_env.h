/*
 * ww_env.h - reading configuration from the environment, the one way every
 * program here is configured (see README's table of variables).
 */
#ifndef WW_ENV_H
#define WW_ENV_H

#include <stdbool.h>

/* The variable's value, or `fallback` when unset or empty. Not owned by the
 * caller (environment storage or `fallback`). */
const char *ww_env_str(const char *name, const char *fallback);

/* true for 1/true/yes/on (any case), false for anything else or unset. */
bool ww_env_bool(const char *name);

/* Integer value, or `fallback` when unset, empty or not a number. */
long ww_env_long(const char *name, long fallback);

/* Prefixes `name` with WW_TOPIC_PREFIX (topics, group ids, transactional
 * ids), so test runs on one broker never see each other's data. Writes into
 * buf (size bytes) and returns buf. */
const char *ww_env_prefixed(char *buf, unsigned size, const char *name);

#endif
